"""Commands for the secretary and admins: /bind, /who, /broadcast, /schedule."""

from __future__ import annotations

from community import Role
from handlers.common import (
    Incoming,
    admin,
    command,
    enqueue,
    grid_of_chat,
    is_group,
    reply,
    staff,
    supervisor,
)
from handlers.context import Services
from services.chats import bind_chat
from services.queries import groups_of_grids
from services.schedules import active_schedules, add_schedule, remove_schedule, schedule_error
from tickets.model import Actor
from tickets.outgoing import OutgoingMessage
from ui import texts


@command(admin, texts.ADMIN_ONLY)
async def bind(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/bind 网格名 (admins, in a group): tickets from this group belong to that grid."""
    if not is_group(inc.chat):
        await reply(services, inc, texts.GROUP_ONLY)
        return
    name = " ".join(args).strip()
    grid = services.config.grid(name)
    if grid is None:
        choices = "、".join(g.name for g in services.config.grids)
        await reply(services, inc, texts.UNKNOWN_GRID.format(name=name or "(空)", choices=choices))
        return
    await bind_chat(services.db, inc.chat.id, grid.name, title=inc.chat.title or "",
                    thread_id=inc.thread_id, by=inc.user.id)
    await reply(services, inc, texts.BIND_DONE.format(grid=grid.name))


@command(staff)
async def who(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/who: the grid's workers, backup, specialists and the supervisors."""
    config = services.config
    grid_name = await grid_of_chat(services, inc.chat.id) if is_group(inc.chat) else None
    grids = [config.grid(grid_name)] if grid_name else list(config.grids)
    lines = []
    for grid in grids:
        if grid is None:
            continue
        lines.append(f"【{grid.name}】")
        lines.append("网格员: " + ("、".join(grid.workers) or "无"))
        if grid.backup:
            lines.append(f"备岗: {grid.backup}")
        specialists = [p for p in config.people if p.has(Role.SPECIALIST)
                       and (grid.name in p.grids or set(p.compounds) & set(grid.compounds)
                            or not (p.grids or p.compounds))]
        for person in specialists:
            lines.append(f"专项: {person.key}({'、'.join(person.categories)})")
    lines.append("书记/主任: " + ("、".join(p.key for p in config.supervisors()) or "无"))
    await reply(services, inc, "\n".join(lines))


@command(supervisor, texts.ADMIN_ONLY)
async def broadcast(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/broadcast [网格名] 内容: an announcement to one grid's groups or to all."""
    grid = args[0] if args and services.config.grid(args[0]) else None
    text = " ".join(args[1:] if grid else args).strip()
    if not text:
        await reply(services, inc, texts.NEED_TEXT.format(example="/broadcast 第一网格 明天停水"))
        return
    groups = await groups_of_grids(services.db, services.config)  # config + /bind, migrated
    chats = [chat for name, found in groups.items() if grid is None or name == grid
             for chat in found]
    key = inc.request_key
    messages = [OutgoingMessage(chat_id=chat.chat_id, thread_id=chat.thread_id,
                                text=texts.BROADCAST.format(text=text),
                                dedupe_key=f"{key}:bc:{chat.chat_id}", kind="broadcast")
                for chat in chats]
    await enqueue(services, *messages,
                  OutgoingMessage(chat_id=inc.chat.id, text=texts.BROADCAST_DONE.format(
                      count=len(chats)), dedupe_key=f"{key}:reply", kind="reply"))


@command(supervisor, texts.ADMIN_ONLY)  # supervisor() includes admins
async def schedule(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/schedule add 表达式 | 内容 [| 网格] · /schedule list · /schedule del 编号."""
    verb = args[0].lower() if args else "list"
    if verb in ("list", "列表"):
        items = await active_schedules(services.db)
        lines = [texts.SCHEDULE_LINE.format(id=s.id, when=s.expression, text=s.text[:40],
                                            grids="、".join(s.grids) or "全部")
                 for s in items]
        await reply(services, inc, "\n".join([texts.SCHEDULE_HEADER, *lines])
                    if lines else texts.SCHEDULE_NONE)
        return
    number = args[1] if len(args) == 2 else ""
    if verb in ("del", "删除", "remove") and number.isascii() and number.isdigit() \
            and len(number) <= 12:
        removed = await remove_schedule(services.db, int(args[1]))
        await reply(services, inc, texts.SCHEDULE_REMOVED if removed
                    else texts.SCHEDULE_NOT_FOUND.format(id=args[1]))
        return
    if verb in ("add", "添加"):
        parts = [p.strip() for p in " ".join(args[1:]).split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            await reply(services, inc, texts.SCHEDULE_USAGE)
            return
        expression, text = parts[0], parts[1]
        grids = tuple(g.strip() for g in parts[2].split(",")) if len(parts) > 2 and parts[2] else ()
        error = schedule_error(expression)
        unknown = [g for g in grids if services.config.grid(g) is None]
        if error or unknown:
            reason = error or texts.UNKNOWN_GRID.format(
                name="、".join(unknown), choices="、".join(g.name for g in services.config.grids))
            await reply(services, inc, texts.SCHEDULE_INVALID.format(reason=reason))
            return
        schedule_id = await add_schedule(services.db, expression, text, grids, inc.user.id)
        await reply(services, inc, texts.SCHEDULE_ADDED.format(id=schedule_id, when=expression))
        return
    await reply(services, inc, texts.SCHEDULE_USAGE)
