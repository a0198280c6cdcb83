"""python-telegram-bot handlers: translate updates into use cases and back.

Registration order (see :func:`register`):

- group -1, guards: supergroup migration and commands from anonymous admins stop here
  (``ApplicationHandlerStop``); blocked/unblocked private chats are recorded.
- group 0, commands first (so "/report …" is never read as chat), then callback taps,
  then edits, then every other message, which goes to intake.
- group 1, media intake does not read: voices, video notes and audio files
  (``handlers/voice.py``), location pins and venues (``handlers/pins.py``).
"""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import (
    admin_commands,
    callbacks,
    guards,
    intake,
    learning_commands,
    pins,
    resident_commands,
    voice,
    web_commands,
    worker_commands,
)
from handlers.menus import publish_command_menus

COMMANDS = {
    "start": resident_commands.start,
    "help": resident_commands.help_command,
    "report": resident_commands.report,
    "my": resident_commands.my_tickets,
    "ticket": resident_commands.show_ticket,
    "cancel": resident_commands.cancel,
    "accept": worker_commands.accept,
    "progress": worker_commands.progress,
    "done": worker_commands.done,
    "transfer": worker_commands.transfer,
    "escalate": worker_commands.escalate,
    "reject": worker_commands.reject,
    "mine": worker_commands.mine,
    "open": worker_commands.open_tickets,
    "stats": worker_commands.stats,
    "bind": admin_commands.bind,
    "who": admin_commands.who,
    "broadcast": admin_commands.broadcast,
    "schedule": admin_commands.schedule,
    "fix": learning_commands.fix,
    "web": web_commands.web_command,
}


def register(application: Application) -> None:
    """Attach every handler in the order the module docstring explains."""
    application.add_handler(
        MessageHandler(filters.StatusUpdate.MIGRATE, guards.on_migration), group=-1)
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.SenderChat.ALL, guards.on_anonymous_command),
        group=-1)
    application.add_handler(
        ChatMemberHandler(guards.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER), group=-1)
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
    application.add_handler(CallbackQueryHandler(callbacks.on_callback))
    application.add_handler(MessageHandler(
        filters.UpdateType.EDITED_MESSAGE & (filters.TEXT | filters.CAPTION), intake.on_edited_message))
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & ~filters.COMMAND & (filters.TEXT | filters.CAPTION | filters.PHOTO),
        intake.on_message))
    # Voices, video notes and audio files (handler group 1: a caption is still read by
    # intake in group 0).
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & (filters.VOICE | filters.VIDEO_NOTE | filters.AUDIO),
        voice.on_voice), group=1)
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & filters.LOCATION, pins.on_location), group=1)
    application.add_error_handler(guards.on_error)


__all__ = ["COMMANDS", "publish_command_menus", "register"]
