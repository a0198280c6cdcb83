"""Updates that need deliberate handling before anything else.

- a group that became a supergroup: stored chat ids move to the new id;
- commands from anonymous admins or channels: nobody to check permissions for, so the
  bot says how to send them instead of guessing;
- the bot removed from, or blocked in, a private chat: it stops trying to write there;
- errors: logged, and the update is left unprocessed in the inbox for a retry.
"""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.ext import ApplicationHandlerStop

from handlers.common import incoming, reply
from handlers.context import GridContext
from services.chats import migrate_chat, private_chat_allowed
from ui import texts

log = logging.getLogger(__name__)


async def on_migration(update: Update, context: GridContext) -> None:
    """``migrate_to_chat_id`` arrives in the old group: move every stored id."""
    message = update.effective_message
    if message is None or message.migrate_to_chat_id is None:
        return
    services = context.services
    old_id, new_id = message.chat.id, message.migrate_to_chat_id
    grid = await migrate_chat(services.db, services.config, old_id, new_id,
                              message.chat.title or "")
    log.info("chat %s migrated to %s (grid %s)", old_id, new_id, grid)
    raise ApplicationHandlerStop


async def on_anonymous_command(update: Update, context: GridContext) -> None:
    """A command sent as the group itself (anonymous admin) or by a channel."""
    inc = incoming(update)
    if inc is None or inc.message.sender_chat is None:
        return
    await reply(context.services, inc, texts.ANONYMOUS_ADMIN)
    raise ApplicationHandlerStop


async def on_my_chat_member(update: Update, context: GridContext) -> None:
    """The bot was blocked or unblocked in a private chat."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    allowed = change.new_chat_member.status not in ("kicked", "left")
    await private_chat_allowed(context.services.db, change.chat.id, allowed)


async def on_error(update: object, context: GridContext) -> None:
    """Log the failure; the inbox keeps the update unprocessed so it is retried."""
    log.error("update %s failed: %s", getattr(update, "update_id", "?"), context.error,
              exc_info=context.error)
    application = context.application
    note_failure = getattr(application, "note_failure", None)
    if note_failure is not None:
        note_failure(update)
