"""``/web``: staff get a one-time login link to the console (网格工作台) in private;
``/web logout`` ends all their console sessions. Residents get a refusal.

The link is sent directly (not through the outbox) with link previews off: it is a
short-lived secret, so it is not kept in the outbox table, and a failed send needs no
retry — the worker simply sends /web again.
"""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    LinkPreviewOptions,
    MenuButtonWebApp,
    ReplyParameters,
    Update,
    User,
    WebAppInfo,
)
from telegram.error import TelegramError

from community.model import CommunityConfig
from handlers.common import actor_of, incoming, is_group, reply
from handlers.context import GridContext, Services
from services import console_access
from tickets.model import Actor
from ui import texts

log = logging.getLogger(__name__)


def may_use_console(services: Services, user: User, actor: Actor) -> bool:
    """Staff of this community, or of the deployment's street office."""
    return actor.is_staff or any(p.telegram_id == user.id for p in services.street_staff)


async def login_link_text(services: Services, user: User, actor: Actor) -> str:
    """The private message carrying a fresh login link (or why there is none)."""
    if not may_use_console(services, user, actor):
        return texts.WEB_STAFF_ONLY
    if not services.console_url:
        return texts.WEB_OFF
    token = await console_access.issue_login_link(services.db, services.clock, user.id)
    url = f"{services.console_url.rstrip('/')}/login/{token}"
    return texts.WEB_LINK.format(url=url)


async def send_login_link(services: Services, context: GridContext, user: User,
                          actor: Actor, reply_to: int | None = None) -> bool:
    """Send the link privately (as a reply to the /web message, if any); False when the
    private chat is closed to the bot."""
    text = await login_link_text(services, user, actor)
    reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
             if reply_to is not None else None)
    try:
        await context.bot.send_message(
            chat_id=user.id, text=text, reply_parameters=reply,
            link_preview_options=LinkPreviewOptions(is_disabled=True))
    except TelegramError as error:
        log.warning("console link for user %s not delivered: %s", user.id, error)
        return False
    return True


async def web_command(update: Update, context: GridContext) -> None:
    inc = incoming(update)
    if inc is None:
        return
    services = context.services
    actor = await actor_of(services, inc.user)
    if not may_use_console(services, inc.user, actor):
        await reply(services, inc, texts.WEB_STAFF_ONLY)
        return
    if is_group(inc.chat):
        await reply(services, inc, texts.WEB_PRIVATE_ONLY)
        return
    args = [a.lower() for a in (context.args or [])]
    if args[:1] == ["logout"]:
        count = await console_access.end_user_sessions(services.db, services.clock,
                                                       inc.user.id)
        await reply(services, inc, texts.WEB_LOGGED_OUT.format(count=count), quote=False)
        return
    await send_login_link(services, context, inc.user, actor, reply_to=inc.message.message_id)


async def publish_console_menu(bot: Bot, config: CommunityConfig, console_url: str | None) -> int:
    """Make the console a Mini App behind each staff member's menu button (Telegram
    requires https, so nothing happens for an http URL). Returns how many were set."""
    if not console_url or not console_url.startswith("https://"):
        return 0
    button = MenuButtonWebApp(texts.WEB_BUTTON.strip("🖥 "),
                              WebAppInfo(f"{console_url.rstrip('/')}/miniapp"))
    count = 0
    for person in config.people:
        if person.telegram_id is None or not person.is_staff:
            continue
        try:  # fails with "chat not found" until the person has started the bot
            await bot.set_chat_menu_button(chat_id=person.telegram_id, menu_button=button)
            count += 1
        except TelegramError as error:
            log.info("no console menu button for %s yet: %s", person.key, error)
    return count


async def on_web_button(services: Services, context: GridContext, user: User,
                        actor: Actor) -> str:
    """The 工作台 button under the staff help: the link goes to the private chat; the
    returned toast says so."""
    if not may_use_console(services, user, actor):
        return texts.WEB_STAFF_ONLY
    sent = await send_login_link(services, context, user, actor)
    return texts.WEB_LINK_SENT if sent else texts.WEB_LINK_NOT_SENT
