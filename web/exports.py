"""导出: ``/export/tickets.xlsx`` (the list's query parameters → exactly the rows the list
shows, all pages), ``/export/monthly.xlsx?month=2026-11`` (月报), and the secretary's
read-only export tokens (``/export/tokens``).

A request carrying ``?token=…`` is served without a session (the auth middleware lets
``/export/*`` with a token through): the token must be active, and the export sees
exactly what the token's creator would see in the console today. Workbooks are written
to a temporary file in a worker thread and streamed from disk, then deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from community.model import CommunityConfig
from services.dashboard import build_monthly_report, month_period
from storage.console_repo import Scope
from tickets.model import Ticket
from ui.workbooks import export_tickets, write_monthly_report
from web.auth import read_form
from web.dashboard import parse_month
from web.deps import deps_of
from web.list_pages import config_of, list_query, viewer_of
from web.render import render
from web.viewer import Viewer

log = logging.getLogger("gridbot.console")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_SLOTS: web.AppKey[asyncio.Semaphore] = web.AppKey("export_slots", asyncio.Semaphore)
MAX_LABEL = 40
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def export_viewer(request: web.Request) -> Viewer:
    """The session's viewer, or — with ``?token=`` — the token creator's."""
    token = request.query.get("token")
    if token is None:
        return viewer_of(request)
    deps = deps_of(request)
    if not token or len(token) > 100:
        raise web.HTTPForbidden(text="导出令牌无效或已被收回。")
    async with deps.db.read() as r:
        record = await r.export_tokens.active_by_hash(hash_token(token))
    config = config_of(request)
    person = config.person(record.created_by) if record else None
    if record is None or person is None or not person.is_staff:
        log.warning("console: export refused: unknown, revoked or orphaned token")
        raise web.HTTPForbidden(text="导出令牌无效或已被收回。")
    async with deps.db.transaction() as uow:
        await uow.export_tokens.touch(record.id, deps.clock.now())
    return Viewer.of(person, person.telegram_id or 0)


async def _stream_file(request: web.Request, path: Path, filename: str) -> web.StreamResponse:
    size = (await asyncio.to_thread(path.stat)).st_size
    response = web.StreamResponse(headers={
        "Content-Type": XLSX,
        "Content-Disposition": f"attachment; filename=\"export.xlsx\"; "
                               f"filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store",
        "Content-Length": str(size),
    })
    await response.prepare(request)
    fh = await asyncio.to_thread(path.open, "rb")
    with fh:
        while chunk := await asyncio.to_thread(fh.read, 256 * 1024):
            await response.write(chunk)
    await response.write_eof()
    return response


async def with_temp_file(request: web.Request, filename: str,
                          fill: Callable[[Path], Awaitable[object]]) -> web.StreamResponse:
    fd, name = tempfile.mkstemp(prefix="gridbot-export-", suffix=".xlsx")
    os.close(fd)
    path = Path(name)
    try:
        async with request.app[EXPORT_SLOTS]:
            await fill(path)
        return await _stream_file(request, path, filename)
    finally:
        await asyncio.to_thread(path.unlink, True)


def _personal_rule(viewer: Viewer) -> Callable[[Ticket], bool]:
    return lambda t: viewer.personal_for(t.grid, t.assignee, t.escalated_to)


async def tickets_xlsx(request: web.Request) -> web.StreamResponse:
    viewer = await export_viewer(request)
    config = config_of(request)
    deps = deps_of(request)
    query = list_query(request, config)
    now = deps.clock.now()
    tz = ZoneInfo(config.timezone)
    filename = f"工单_{now.astimezone(tz):%Y%m%d_%H%M}.xlsx"

    async def fill(path: Path) -> object:
        rows = await export_tickets(deps.db, path, query.filter, Scope.of_viewer(viewer),
                                    query.sort, _personal_rule(viewer), config, now,
                                    title=f"{config.name} 工单导出")
        log.info("console: %s exported %d tickets", viewer.person_key, rows)
        return rows

    return await with_temp_file(request, filename, fill)


async def monthly_xlsx(request: web.Request) -> web.StreamResponse:
    viewer = await export_viewer(request)
    config = config_of(request)
    deps = deps_of(request)
    tz = ZoneInfo(config.timezone)
    now = deps.clock.now()
    raw = request.query.get("month", "")
    year, month = parse_month(raw) if raw else (now.astimezone(tz).year,
                                                 now.astimezone(tz).month)
    period = month_period(year, month, tz)
    report = await build_monthly_report(deps.db, period, now, Scope.of_viewer(viewer))
    filename = f"{config.name}_{year}年{month:02d}月_工单月报.xlsx"

    async def fill(path: Path) -> object:
        return await asyncio.to_thread(write_monthly_report, path, report, config, now)

    return await with_temp_file(request, filename, fill)


# -- tokens (secretary only) -----------------------------------------------------------

def _secretary(request: web.Request) -> Viewer:
    if "token" in request.query:
        raise web.HTTPForbidden(text="导出令牌只能用于下载，不能管理令牌。")
    viewer = viewer_of(request)
    if not viewer.is_supervisor:
        raise web.HTTPForbidden(text="只有书记/主任可以管理导出令牌。")
    return viewer


async def _tokens_page(request: web.Request, config: CommunityConfig,
                       new_token: str | None = None, status: int = 200) -> web.Response:
    deps = deps_of(request)
    async with deps.db.read() as r:
        tokens = await r.export_tokens.all()
    base = deps.base_url.rstrip("/")
    return render(request, "export_tokens.html", status=status, tokens=tokens,
                  new_token=new_token, base=base,
                  new_urls=({"tickets": f"{base}/export/tickets.xlsx?state=open&token={new_token}",
                             "monthly": f"{base}/export/monthly.xlsx?token={new_token}"}
                            if new_token else None))


async def tokens_list(request: web.Request) -> web.Response:
    _secretary(request)
    return await _tokens_page(request, config_of(request))


async def tokens_create(request: web.Request) -> web.Response:
    viewer = _secretary(request)
    form = await read_form(request)
    label = str(form.get("label", "")).strip()
    if not label or len(label) > MAX_LABEL:
        raise web.HTTPBadRequest(text=f"请填写令牌用途（1 到 {MAX_LABEL} 个字）。")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    deps = deps_of(request)
    async with deps.db.transaction() as uow:
        await uow.export_tokens.add(hash_token(token), label, viewer.person_key,
                                    deps.clock.now())
    log.info("console: %s created export token %r", viewer.person_key, label)
    return await _tokens_page(request, config_of(request), new_token=token)


async def tokens_revoke(request: web.Request) -> web.StreamResponse:
    viewer = _secretary(request)
    raw = request.match_info["token_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise web.HTTPBadRequest(text="令牌编号无效。")
    deps = deps_of(request)
    async with deps.db.transaction() as uow:
        revoked = await uow.export_tokens.revoke(int(raw), deps.clock.now())
    if not revoked:
        raise web.HTTPNotFound(text="没有这个有效的令牌（可能已经收回）。")
    log.info("console: %s revoked export token %s", viewer.person_key, raw)
    raise web.HTTPSeeOther("/export/tokens")


def add_routes(app: web.Application) -> None:
    app[EXPORT_SLOTS] = asyncio.Semaphore(2)  # exports at a time; others wait their turn
    app.router.add_get("/export/tickets.xlsx", tickets_xlsx)
    app.router.add_get("/export/monthly.xlsx", monthly_xlsx)
    app.router.add_get("/export/tokens", tokens_list)
    app.router.add_post("/export/tokens", tokens_create)
    app.router.add_post("/export/tokens/{token_id}/revoke", tokens_revoke)
