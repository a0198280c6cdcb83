"""Command menus (setMyCommands) in Chinese, per scope: groups, private chats, staff.

Staff get their own menu in their private chat (a chat scope). Telegram refuses a chat
scope ("chat not found") until the person has started the bot, so a person's menu is set
when they send ``/start`` and, at every start-up, for everyone whose role changed since the
menu last set (``command_menus`` table); a refusal is logged quietly and retried later.
"""

from __future__ import annotations

import hashlib
import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from community import CommunityConfig
from services.menus import menu_of, menus_and_registrations, record_menu
from storage import Database
from tickets.model import Actor

log = logging.getLogger(__name__)

RESIDENT_COMMANDS = (
    ("report", "登记一个问题"),
    ("my", "我反映的问题"),
    ("ticket", "查看工单:/ticket 编号"),
    ("cancel", "撤销我反映的问题"),
    ("help", "使用说明"),
)
WORKER_COMMANDS = (
    ("mine", "我的待办工单"),
    ("open", "本网格未办结工单"),
    ("accept", "接单:/accept 编号"),
    ("progress", "反馈进展:/progress 编号 说明"),
    ("done", "办结:/done 编号 说明"),
    ("transfer", "转派:/transfer 编号 @某人"),
    ("escalate", "升级督办:/escalate 编号 原因"),
    ("reject", "退回(不是诉求):/reject 编号 原因"),
    ("fix", "更正位置:/fix 编号 8号楼3单元502"),
    ("stats", "统计"),
    ("web", "网格工作台(网页)登录链接"),
    ("ticket", "查看工单:/ticket 编号"),
    ("help", "使用说明"),
)
SUPERVISOR_COMMANDS = (
    *WORKER_COMMANDS[:-1],
    ("who", "本网格人员"),
    ("bind", "绑定本群到网格:/bind 网格名"),
    ("broadcast", "群发通知"),
    ("schedule", "定时通知"),
    ("help", "使用说明"),
)
GROUP_COMMANDS = (
    ("report", "登记一个问题"),
    ("my", "我反映的问题"),
    ("open", "本网格未办结工单(工作人员)"),
    ("help", "使用说明"),
)


def _commands(pairs: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in pairs]


async def publish_command_menus(bot: Bot, config: CommunityConfig) -> None:
    """Set the menus for all private chats and all groups; a failure is logged only.
    Staff menus: :func:`sync_staff_menus` and :func:`sync_menu`."""
    try:
        await bot.set_my_commands(_commands(RESIDENT_COMMANDS),
                                  scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(_commands(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats())
    except TelegramError as error:
        log.warning("could not publish command menus: %s", error)


def _fingerprint(pairs: tuple[tuple[str, str], ...]) -> str:
    return hashlib.sha256(repr(pairs).encode()).hexdigest()[:8]


STAFF_MENUS = {
    "worker": WORKER_COMMANDS,
    "supervisor": SUPERVISOR_COMMANDS,
}


def menu_for(actor: Actor) -> str | None:
    """The menu a user should see in private: ``"worker:<fp>"``, ``"supervisor:<fp>"``, or
    None for the default (resident) menu. The fingerprint changes with the command list."""
    if actor.person is None or not actor.is_staff:
        return None
    kind = "supervisor" if actor.person.can_supervise else "worker"
    return f"{kind}:{_fingerprint(STAFF_MENUS[kind])}"


async def _apply(bot: Bot, db: Database, user_id: int, wanted: str | None) -> bool:
    """Set (or reset to default) one private chat's menu; record it. False when Telegram
    refused because the person has not started the bot (quiet: expected for new staff)."""
    scope = BotCommandScopeChat(user_id)
    try:
        if wanted is None:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(_commands(STAFF_MENUS[wanted.split(":")[0]]), scope=scope)
    except (BadRequest, Forbidden) as error:  # "chat not found" before /start
        log.debug("menu for %s not set yet: %s", user_id, error)
        return False
    await record_menu(db, user_id, wanted)
    return True


async def sync_menu(bot: Bot, db: Database, actor: Actor) -> None:
    """Give one user the menu of their role if it is not the one last set (on /start)."""
    if actor.user_id is None:
        return
    wanted = menu_for(actor)
    if await menu_of(db, actor.user_id) != wanted:
        try:
            await _apply(bot, db, actor.user_id, wanted)
        except TelegramError as error:
            log.warning("could not set the command menu of %s: %s", actor.user_id, error)


async def sync_staff_menus(bot: Bot, db: Database, config: CommunityConfig) -> None:
    """At start-up: update the menus of everyone whose role changed since last set
    (configured ids, registered users, and chats still carrying a staff menu)."""
    current, registered = await menus_and_registrations(db)
    users = {p.telegram_id for p in config.people if p.telegram_id is not None}
    users |= set(registered) | set(current)
    changed = waiting = 0
    for user_id in sorted(users):
        actor = Actor.resolve(config, user_id, registered_key=registered.get(user_id))
        wanted = menu_for(actor)
        if current.get(user_id) == wanted:
            continue
        try:
            if await _apply(bot, db, user_id, wanted):
                changed += 1
            else:
                waiting += 1
        except TelegramError as error:
            log.warning("could not set the command menu of %s: %s", user_id, error)
            return  # the Bot API is struggling: the next start (or /start) tries again
    if changed or waiting:
        log.info("command menus: %d updated, %d wait until the person sends /start",
                 changed, waiting)
