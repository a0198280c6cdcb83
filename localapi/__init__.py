"""A local Telegram Bot API server for GridBot's tests, offline demo and benchmarks.

``LocalBotApi`` speaks the part of the Bot API the bot uses, accepts python-telegram-bot's
real requests and lets tests act as people (``post``, ``tap``, ``migrate`` ...), inspect what
the bot sent and inject faults (403, 429, 5xx, slow answers, dropped connections).
"""

from .errors import ApiError
from .faults import Faults, ServedFault
from .server import DEFAULT_TOKEN, LocalBotApi
from .state import CallbackAnswer, CallbackQuery, Chat, Message, Request, User

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "CallbackAnswer",
    "CallbackQuery",
    "Chat",
    "Faults",
    "LocalBotApi",
    "Message",
    "Request",
    "ServedFault",
    "User",
]
