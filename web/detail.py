"""``/tickets/<number>``: one ticket with its timeline, photos, supporters, deadlines,
and every action the bot offers, run through the same use cases (TicketService) with
the viewer as actor — so the group card and the reporter are updated exactly as when
the action is taken in the chat (the outbox delivers)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from community.model import CommunityConfig, Person
from services.corrections import category_choices
from tickets import lifecycle
from tickets.errors import NotPermitted, TicketNotFound, TransitionRefused
from tickets.model import Ticket
from tickets.priority import ticket_overdue
from ui import texts
from ui.cards import category_label
from ui.mask import mask_for_group
from web.auth import read_form
from web.deps import deps_of
from web.keys import CONFIG, VIEWER
from web.photos import MAX_PHOTO, PhotoCache, sniff_type
from web.render import render
from web.viewer import Viewer

log = logging.getLogger("gridbot.console")

NUMBER_RE = re.compile(r"^[0-9]{4}-[0-9]{4,6}$")
MAX_NOTE = 500
PHOTO_CACHE: web.AppKey[PhotoCache] = web.AppKey("photo_cache", PhotoCache)

BAD_NUMBER = "工单编号格式不对,应为 2611-0001 这样的形式。"
NOT_FOUND = "找不到工单 {number}。"
NOT_YOURS = "工单 {number} 不在你负责的网格或分类内,无权查看。"

#: Form name → (lifecycle action, Chinese label, whether a note is required).
ACTIONS: dict[str, tuple[lifecycle.Action, str, bool]] = {
    "accept": (lifecycle.Action.ACCEPT, "接单", False),
    "progress": (lifecycle.Action.PROGRESS, "反馈进展", True),
    "resolve": (lifecycle.Action.RESOLVE, "办结", False),
    "transfer": (lifecycle.Action.TRANSFER, "转派", False),
    "escalate": (lifecycle.Action.ESCALATE, "升级督办", True),
    "reject": (lifecycle.Action.REJECT, "退回", True),
    "reopen": (lifecycle.Action.REOPEN, "重新打开", False),
    "recategorize": (lifecycle.Action.CORRECT, "改分类", False),
}
DONE_TEXT = {
    "accept": "已接单。", "progress": "进展已记录。", "resolve": "已办结,已请居民评价。",
    "transfer": "已转派。", "escalate": "已升级督办。", "reject": "已退回。",
    "reopen": "已重新打开。", "recategorize": "分类已更改。",
}


def event_detail(action: str, data: dict[str, Any], label: Any) -> str:
    """A few words from an event's data for the timeline ("→ 李强", "水电 → 公共设施")."""
    if action == "assign" and data.get("assignee"):
        return f"→ {data['assignee']}"
    if action == "transfer":
        parts = [data.get("to_assignee"), data.get("to_grid")]
        return "→ " + " · ".join(p for p in parts if p) if any(parts) else ""
    if action == "escalate" and data.get("escalated_to"):
        return "→ " + "、".join(data["escalated_to"])
    if action == "rate" and data.get("label"):
        return str(data["label"])
    if action == "correct" and data.get("old_category") != data.get("new_category"):
        return f"{label(data.get('old_category'))} → {label(data.get('new_category'))}"
    return ""


@dataclass(frozen=True, slots=True)
class Photo:
    index: int
    by_reporter: bool


def parse_number(request: web.Request) -> str:
    number = request.match_info["number"]
    if not NUMBER_RE.match(number):
        raise web.HTTPBadRequest(text=BAD_NUMBER)
    return number


async def visible_ticket(request: web.Request) -> Ticket:
    """The ticket named in the URL, if the viewer may see it; else 400/404/403."""
    deps = deps_of(request)
    number = parse_number(request)
    async with deps.db.read() as r:
        ticket = await r.tickets.get_by_number(number)
    if ticket is None:
        raise web.HTTPNotFound(text=NOT_FOUND.format(number=number))
    viewer: Viewer = request[VIEWER]
    if not viewer.can_see(ticket):
        log.warning("console: %s tried to open ticket %s outside their scope",
                    viewer.person_key, number)
        raise web.HTTPForbidden(text=NOT_YOURS.format(number=number))
    return ticket


def allowed_actions(viewer: Viewer, ticket: Ticket) -> list[str]:
    out = []
    for name, (action, _, _) in ACTIONS.items():
        try:
            lifecycle.check(action, ticket, viewer.actor)
        except TransitionRefused:
            continue
        out.append(name)
    return out


def _transfer_targets(config: CommunityConfig) -> tuple[list[Person], list[str]]:
    return [p for p in config.people if p.is_staff], [g.name for g in config.grids]


async def _page(request: web.Request, ticket: Ticket, *, flash: str | None = None,
                refused: str | None = None, status: int = 200) -> web.Response:
    deps = deps_of(request)
    viewer: Viewer = request[VIEWER]
    personal = viewer.may_see_personal(ticket)
    async with deps.db.read() as r:  # one snapshot for the whole page
        events = await r.events.for_ticket(ticket.id or 0)
        supporters = await r.supporters.for_ticket(ticket.id or 0)
        photo_rows = await r.web_auth.ticket_photos(ticket.id or 0)
        master = await r.tickets.get(ticket.merged_into) if ticket.merged_into else None
    photos = [Photo(i, by == ticket.reporter_id) for i, (_, by) in enumerate(photo_rows)]
    people, grids = _transfer_targets(request[CONFIG])
    categories = [(slug, category_label(slug, request[CONFIG]))
                  for slug in category_choices(request[CONFIG])]
    shown = (lambda s: s or "") if personal else (lambda s: mask_for_group(s or ""))
    now = deps.clock.now()
    return render(
        request, "ticket.html", status=status, ticket=ticket, events=events,
        supporters=supporters, photos=photos, personal=personal, show=shown,
        allowed=allowed_actions(viewer, ticket), actions=ACTIONS, people=people, grids=grids,
        flash=flash, refused=refused, master=master, max_note=MAX_NOTE, categories=categories,
        overdue=ticket_overdue(ticket, now),
        rating_label=texts.RATING_WORDS.get(ticket.rating or 0, ""),
        event_detail=lambda e: event_detail(
            e.action, e.data, lambda slug: category_label(slug, request[CONFIG])),
        room=(ticket.room if personal else ("**" if ticket.room else None)),
        photos_available=deps.fetch_file is not None,
    )


async def ticket_page(request: web.Request) -> web.StreamResponse:
    ticket = await visible_ticket(request)
    done = request.query.get("ok", "")
    return await _page(request, ticket, flash=DONE_TEXT.get(done))


def _text_field(form: Any, name: str, required: bool) -> str | None:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise web.HTTPBadRequest(text="表单内容有误。")
    value = value.strip()
    if len(value) > MAX_NOTE:
        raise web.HTTPBadRequest(text=f"说明太长了(最多 {MAX_NOTE} 字)。")
    if required and not value:
        raise web.HTTPBadRequest(text="请填写说明后再提交。")
    return value or None


async def ticket_action(request: web.Request) -> web.StreamResponse:
    name = request.match_info["action"]
    if name not in ACTIONS:
        raise web.HTTPNotFound(text="没有这个操作。")
    ticket = await visible_ticket(request)
    deps = deps_of(request)
    viewer: Viewer = request[VIEWER]
    actor = viewer.actor
    form = await read_form(request)
    service = deps.service
    if service.config is not request[CONFIG]:
        service = type(service)(service.db, request[CONFIG], service.clock, service.presenter)
    number = ticket.number or ""
    note = _text_field(form, "note", ACTIONS[name][2])
    try:
        if name == "accept":
            await service.accept(number, actor)
        elif name == "progress":
            await service.progress(number, actor, note or "")
        elif name == "resolve":
            await service.resolve(number, actor, note)
        elif name == "transfer":
            to_assignee = _text_field(form, "to_assignee", False)
            to_grid = _text_field(form, "to_grid", False)
            if to_assignee is None and to_grid is None:
                raise web.HTTPBadRequest(text="请选择转派给谁或哪个网格。")
            await service.transfer(number, actor, to_assignee=to_assignee, to_grid=to_grid,
                                   note=note)
        elif name == "escalate":
            await service.escalate(number, actor, note or "")
        elif name == "reject":
            await service.reject(number, actor, note or "")
        elif name == "reopen":
            await service.reopen(number, actor, note)
        elif name == "recategorize":
            category = _text_field(form, "category", False)
            if category is None or category == ticket.category:
                raise web.HTTPBadRequest(text="请选择一个新的分类。")
            if category not in category_choices(request[CONFIG]):
                raise web.HTTPBadRequest(text="没有这个分类。")
            await service.change_category(number, actor, category)
    except (TransitionRefused, NotPermitted) as error:
        log.info("console: %s %s by %s refused: %s", name, number, viewer.person_key,
                 error.code)
        async with deps.db.read() as r:
            fresh = await r.tickets.get_by_number(number)
        return await _page(request, fresh or ticket, refused=texts.refusal(error.code),
                           status=409)
    except TicketNotFound as error:
        raise web.HTTPNotFound(text=NOT_FOUND.format(number=number)) from error
    log.info("console: %s %s by %s", name, number, viewer.person_key)
    if deps.wake is not None:
        deps.wake()
    raise web.HTTPSeeOther(f"/tickets/{number}?ok={name}")


async def ticket_photo(request: web.Request) -> web.StreamResponse:
    ticket = await visible_ticket(request)
    deps = deps_of(request)
    raw = request.match_info["index"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        raise web.HTTPBadRequest(text="照片序号有误。")
    async with deps.db.read() as r:
        rows = await r.web_auth.ticket_photos(ticket.id or 0)
    index = int(raw)
    if index >= len(rows):
        raise web.HTTPNotFound(text="没有这张照片。")
    if deps.fetch_file is None:
        raise web.HTTPNotFound(text="这个部署没有连接 Telegram,照片暂时无法显示。")
    file_id = rows[index][0]
    cache = request.app[PHOTO_CACHE]
    async with cache.lock(file_id):
        data = cache.get(file_id)
        if data is None:
            try:
                data = await deps.fetch_file(file_id)
            except Exception as error:  # network, Telegram refused, file too old
                log.warning("console: photo %s of %s could not be fetched: %s", index,
                            ticket.number, error)
                raise web.HTTPBadGateway(text="暂时无法从 Telegram 取得这张照片,请稍后再试。"
                                         ) from error
            if len(data) > MAX_PHOTO:
                raise web.HTTPBadGateway(text="照片太大,无法显示。")
            cache.put(file_id, data)
    return web.Response(body=data, content_type=sniff_type(data),
                        headers={"Cache-Control": "private, max-age=3600"})


def add_routes(app: web.Application) -> None:
    app[PHOTO_CACHE] = PhotoCache()
    app.router.add_get(r"/tickets/{number:[^/{}]+}", ticket_page)
    app.router.add_post(r"/tickets/{number:[^/{}]+}/{action:[a-z]+}", ticket_action)
    app.router.add_get(r"/tickets/{number:[^/{}]+}/photos/{index}", ticket_photo)
