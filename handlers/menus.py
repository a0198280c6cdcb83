"""Command menus (setMyCommands) in Chinese, per scope: groups, private chats, staff."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from community import CommunityConfig

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
    """Set the menus; a failure is logged and does not stop the bot."""
    try:
        await bot.set_my_commands(_commands(RESIDENT_COMMANDS),
                                  scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(_commands(GROUP_COMMANDS), scope=BotCommandScopeAllGroupChats())
    except TelegramError as error:
        log.warning("could not publish command menus: %s", error)
        return
    for person in config.people:
        if person.telegram_id is None:
            continue
        pairs = SUPERVISOR_COMMANDS if person.can_supervise else WORKER_COMMANDS
        try:  # fails with "chat not found" until the person has started the bot
            await bot.set_my_commands(_commands(pairs),
                                      scope=BotCommandScopeChat(person.telegram_id))
        except TelegramError as error:
            log.info("no staff menu for %s yet: %s", person.key, error)
