"""In-memory model of the Telegram world the bot lives in: users, chats, messages, updates."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, bad_request

JSON = dict[str, Any]

#: Update types delivered when ``allowed_updates`` was never set (or set to ``[]``).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

GROUP_ANONYMOUS_BOT_ID = 1087968824
CHANNEL_BOT_ID = 136817688


@dataclass
class User:
    """A Telegram user (or bot) account."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False

    def to_dict(self) -> JSON:
        """The Bot API ``User`` object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data


@dataclass
class Chat:
    """A private chat, group, supergroup (optionally a forum) or channel."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    owner_id: int | None = None
    admin_ids: list[int] = field(default_factory=list)
    member_ids: set[int] = field(default_factory=set)
    bot_is_admin: bool = False
    migrated_to: int | None = None
    #: forum topics: thread id -> topic name
    topics: dict[int, str] = field(default_factory=dict)
    next_message_id: int = 1

    def to_dict(self) -> JSON:
        """The Bot API ``Chat`` object (short form used inside messages)."""
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data

    @property
    def is_group(self) -> bool:
        """True for groups and supergroups."""
        return self.type in ("group", "supergroup")


@dataclass
class Message:
    """A message stored by the server, sent by a person or by the bot."""

    message_id: int
    chat: Chat
    date: int
    from_user: User | None = None
    sender_chat: Chat | None = None
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photo: list[JSON] = field(default_factory=list)
    reply_to: Message | None = None
    thread_id: int | None = None
    is_topic_message: bool = False
    reply_markup: JSON | None = None
    edit_date: int | None = None
    #: service and rarely used fields copied verbatim into the JSON (migrate_to_chat_id, ...)
    extra: JSON = field(default_factory=dict)
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        """Id of the chat the message is in."""
        return self.chat.id

    @property
    def buttons(self) -> list[JSON]:
        """All inline keyboard buttons of the message, row by row, flattened."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    @property
    def callback_data(self) -> list[str]:
        """The callback_data of every inline button."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def to_dict(self, *, with_reply: bool = True) -> JSON:
        """The Bot API ``Message`` object."""
        data: JSON = {"message_id": self.message_id, "date": self.date,
                      "chat": self.chat.to_dict()}
        if self.from_user is not None:
            data["from"] = self.from_user.to_dict()
        if self.sender_chat is not None:
            data["sender_chat"] = self.sender_chat.to_dict()
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
        if self.is_topic_message:
            data["is_topic_message"] = True
        if self.reply_to is not None and with_reply:
            data["reply_to_message"] = self.reply_to.to_dict(with_reply=False)
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.photo:
            data["photo"] = self.photo
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        data.update(self.extra)
        return data


@dataclass
class CallbackQuery:
    """A button tap by a user on a bot message."""

    id: str
    from_user: User
    message: Message
    data: str | None
    chat_instance: str
    answered: bool = False

    def to_dict(self) -> JSON:
        """The Bot API ``CallbackQuery`` object."""
        data: JSON = {
            "id": self.id,
            "from": self.from_user.to_dict(),
            "message": self.message.to_dict(),
            "chat_instance": self.chat_instance,
        }
        if self.data is not None:
            data["data"] = self.data
        return data


@dataclass
class CallbackAnswer:
    """What the bot answered to a callback query (answerCallbackQuery)."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    query: CallbackQuery | None


@dataclass
class Request:
    """One Bot API call made by the bot, with its outcome."""

    seq: int
    method: str
    params: JSON
    files: dict[str, bytes]
    time: float
    result: Any = None
    message: Message | None = None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        """True if the call was answered with ``ok: true``."""
        return self.error is None

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """Text (or caption) of the resulting message, falling back to the raw parameter."""
        if self.message is not None:
            return self.message.text if self.message.text is not None else self.message.caption
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    def to_dict(self) -> JSON:
        """JSON-friendly form (used by the control API)."""
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "files": {name: len(data) for name, data in self.files.items()},
            "time": self.time,
            "ok": self.ok,
            "result": self.result,
            "error": None if self.error is None else self.error.to_body(),
        }


@dataclass
class StoredFile:
    """A file known to the server (photo sizes, uploads)."""

    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    width: int = 0
    height: int = 0

    def to_file(self) -> JSON:
        """The Bot API ``File`` object (relative ``file_path`` as Telegram sends it)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def to_photo_size(self) -> JSON:
        """The Bot API ``PhotoSize`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width,
            "height": self.height,
        }


def scope_key(scope: JSON | None) -> tuple[Any, ...]:
    """A hashable key for a ``BotCommandScope`` dict (``None`` means the default scope)."""
    if not scope:
        return ("default",)
    kind = scope.get("type", "default")
    return (kind, scope.get("chat_id"), scope.get("user_id"))


class Store:
    """All server-side state. Mutations call ``on_change`` so waiters can re-check."""

    def __init__(self, bot: User, clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.clock = clock
        self.on_change: Callable[[], None] = lambda: None
        self.users: dict[int, User] = {bot.id: bot}
        self.chats: dict[int, Chat] = {}
        self.messages: dict[int, dict[int, Message]] = {}
        self.updates: list[JSON] = []
        self.next_update_id = 1000
        self.confirmed_offset = 0
        self.allowed_updates: frozenset[str] | None = None
        self.webhook_url = ""
        self.webhook_secret = ""
        self.requests: list[Request] = []
        self.callback_queries: dict[str, CallbackQuery] = {}
        self.callback_answers: list[CallbackAnswer] = []
        self.commands: dict[tuple[tuple[Any, ...], str], list[JSON]] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.started_users: set[int] = set()
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ basics
    def now(self) -> int:
        """Current unix time as Telegram dates are."""
        return int(self.clock())

    def new_id(self) -> int:
        """A process-unique counter for query ids, file ids, ..."""
        return next(self._ids)

    def changed(self) -> None:
        """Signal that state changed (wakes waiters and long polls)."""
        self.on_change()

    # ------------------------------------------------------------------ chats
    def chat(self, chat_id: int | str) -> Chat:
        """Resolve a ``chat_id`` parameter (int or ``@username``) or raise 400 like Telegram."""
        chat: Chat | None = None
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            chat = next((c for c in self.chats.values()
                         if c.username and c.username.lower() == name), None)
        else:
            try:
                chat = self.chats.get(int(chat_id))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        return chat

    def private_chat(self, user: User) -> Chat:
        """The private chat between ``user`` and the bot (created on first use)."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(id=user.id, type="private", first_name=user.first_name,
                        last_name=user.last_name, username=user.username)
            self.chats[user.id] = chat
            self.messages[user.id] = {}
        return chat

    def add_chat(self, chat: Chat) -> Chat:
        """Register a chat."""
        self.chats[chat.id] = chat
        self.messages.setdefault(chat.id, {})
        return chat

    # --------------------------------------------------------------- messages
    def add_message(self, chat: Chat, **fields: Any) -> Message:
        """Create and store a message with the next id of ``chat``."""
        message_id = fields.pop("message_id", None) or chat.next_message_id
        chat.next_message_id = max(chat.next_message_id, message_id + 1)
        message = Message(message_id=message_id, chat=chat, date=self.now(), **fields)
        self.messages.setdefault(chat.id, {})[message_id] = message
        if message.from_user is not None and chat.is_group:
            chat.member_ids.add(message.from_user.id)
        self.changed()
        return message

    def message(self, chat_id: int, message_id: int) -> Message | None:
        """A stored, not deleted message, or ``None``."""
        message = self.messages.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            return None
        return message

    def messages_in(self, chat_id: int) -> list[Message]:
        """All live messages of a chat, oldest first."""
        return [m for m in self.messages.get(chat_id, {}).values() if not m.deleted]

    # ----------------------------------------------------------------- files
    def add_file(self, data: bytes, kind: str, width: int = 0, height: int = 0) -> StoredFile:
        """Store file content and give it Telegram-like ids and a download path."""
        n = self.new_id()
        digest = hashlib.sha1(data + n.to_bytes(8, "big")).hexdigest()
        extension = "jpg" if kind == "photos" else "bin"
        stored = StoredFile(
            file_id=f"AgAC{kind[:2]}{n:06d}{digest[:24]}",
            file_unique_id=f"AQAD{digest[:12]}",
            data=data,
            file_path=f"{kind}/file_{n}.{extension}",
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes) -> list[JSON]:
        """Store a photo and return its PhotoSize list (three sizes, like Telegram)."""
        sizes = []
        for width, height, shrink in ((90, 67, 16), (320, 240, 4), (800, 600, 1)):
            stored = self.add_file(data[: max(1, len(data) // shrink)] if shrink > 1 else data,
                                   "photos", width, height)
            sizes.append(stored.to_photo_size())
        return sizes

    # --------------------------------------------------------------- updates
    def enqueue(self, kind: str, payload: JSON) -> int | None:
        """Queue an update of type ``kind``; returns its update_id (``None`` if filtered out
        by the bot's ``allowed_updates``, which Telegram applies when updates are created)."""
        allowed = self.allowed_updates
        if allowed is None or not allowed:
            if kind in DEFAULT_EXCLUDED_UPDATES:
                return None
        elif kind not in allowed:
            return None
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append({"update_id": update_id, kind: payload})
        self.changed()
        return update_id

    def inject(self, update: JSON) -> int:
        """Queue a raw update verbatim (assigning an update_id when missing)."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.next_update_id
        self.next_update_id = max(self.next_update_id, int(update["update_id"]) + 1)
        self.updates.append(update)
        self.changed()
        return int(update["update_id"])

    def confirm(self, offset: int) -> None:
        """Apply getUpdates ``offset`` semantics: positive offsets confirm (forget) all updates
        with a smaller id; negative offsets keep only the last ``-offset`` updates."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0:
            forgotten = self.updates[:offset]
            self.updates = self.updates[offset:]
            if forgotten:
                self.confirmed_offset = max(self.confirmed_offset,
                                            max(u["update_id"] for u in forgotten) + 1)
        self.changed()

    def set_allowed_updates(self, allowed: Iterable[str] | None) -> None:
        """Remember ``allowed_updates`` (``None`` keeps the previous setting)."""
        if allowed is not None:
            self.allowed_updates = frozenset(allowed)
