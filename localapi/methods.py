"""Implementations of the Bot API methods, operating on the :class:`~localapi.state.Store`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import ApiError, bad_request
from .formatting import Entity, parse_text, utf16_len
from .state import JSON, Chat, Message, Store, User, scope_key

#: Raises or returns (result, message-created-or-edited).
Handler = Callable[[JSON, dict[str, bytes]], Awaitable[tuple[Any, Message | None]]]

MAX_TEXT = 4096
MAX_CAPTION = 1024
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def _int(params: JSON, key: str, default: int | None = None) -> int | None:
    value = params.get(key, default)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {key} specified") from None


def _required(params: JSON, key: str) -> Any:
    if params.get(key) in (None, ""):
        raise bad_request(f"{key} is empty" if key != "chat_id" else "chat_id is empty")
    return params[key]


def validate_inline_keyboard(markup: Any) -> JSON | None:
    """Validate ``reply_markup``; return the inline keyboard to attach (``None`` for reply
    keyboards, which Telegram never echoes back on the message)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request("can't parse inline keyboard button: field \"inline_keyboard\" "
                          "of the InlineKeyboardMarkup must be an Array of Arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
            if not actions:
                raise bad_request("can't parse inline keyboard button: "
                                  "Text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                raise bad_request("BUTTON_URL_INVALID")
    if not any(rows):
        return None
    return {"inline_keyboard": rows}


class BotApiMethods:
    """The Bot API methods. :meth:`get` maps a (case-insensitive) method name to a handler."""

    def __init__(
        self,
        store: Store,
        wait_change: Callable[[float], Awaitable[None]],
        is_closing: Callable[[], bool],
    ) -> None:
        self.store = store
        self._wait_change = wait_change
        self._is_closing = is_closing
        self._poll_generation = 0
        #: Called after a setWebhook with a URL (the server starts delivering).
        self.on_webhook_set: Callable[[], None] = lambda: None
        self.settings: dict[str, Any] = {}
        self._handlers: dict[str, Handler] = {}
        for name in dir(self):
            if name.startswith("api_"):
                self._handlers[name[4:].replace("_", "").lower()] = getattr(self, name)

    def get(self, method: str) -> Handler | None:
        """The handler for ``method`` (Telegram method names are case-insensitive)."""
        return self._handlers.get(method.lower())

    @property
    def bot(self) -> User:
        """The bot's own user."""
        return self.store.bot

    # ================================================================ bot & polling
    async def api_get_me(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        me = self.bot.to_dict()
        me.update(can_join_groups=True, can_read_all_group_messages=True,
                  supports_inline_queries=False, can_connect_to_business=False,
                  has_main_web_app=False)
        return me, None

    async def api_log_out(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        return True, None

    async def api_close(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        return True, None

    async def api_get_updates(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        store = self.store
        if store.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        self._poll_generation += 1
        generation = self._poll_generation
        offset = _int(p, "offset", 0) or 0
        limit = min(100, max(1, _int(p, "limit", 100) or 100))
        timeout = max(0.0, float(p.get("timeout") or 0))
        allowed = p.get("allowed_updates")
        store.set_allowed_updates(allowed if isinstance(allowed, list) else None)
        store.confirm(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                    "that only one bot instance is running")
            if store.updates:
                return store.updates[:limit], None
            remaining = deadline - loop.time()
            if remaining <= 0 or self._is_closing():
                return [], None
            await self._wait_change(remaining)

    async def api_set_webhook(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        self.store.webhook_url = str(p.get("url") or "")
        self.store.webhook_secret = str(p.get("secret_token") or "")
        allowed = p.get("allowed_updates")
        self.store.set_allowed_updates(allowed if isinstance(allowed, list) else None)
        if p.get("drop_pending_updates"):
            self.store.updates.clear()
        if self.store.webhook_url:
            self.on_webhook_set()
        self.store.changed()
        return True, None

    async def api_delete_webhook(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        self.store.webhook_url = ""
        self.store.webhook_secret = ""
        self.store.changed()
        if p.get("drop_pending_updates"):
            if self.store.updates:
                self.store.confirm(self.store.updates[-1]["update_id"] + 1)
            self.store.updates.clear()
        return True, None

    async def api_get_webhook_info(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        info: JSON = {"url": self.store.webhook_url, "has_custom_certificate": False,
                      "pending_update_count": len(self.store.updates)}
        if self.store.allowed_updates:
            info["allowed_updates"] = sorted(self.store.allowed_updates)
        return info, None

    # ====================================================================== sending
    def _target_chat(self, p: JSON) -> Chat:
        chat_id = _required(p, "chat_id")
        try:
            return self.store.chat(chat_id)
        except ApiError:
            # A known user whose private chat was not opened yet (Telegram allows this unless
            # the user never started the bot, which ``faults.forbid`` models).
            if isinstance(chat_id, int) and chat_id in self.store.users and chat_id > 0:
                return self.store.private_chat(self.store.users[chat_id])
            raise

    def _placement(self, p: JSON, chat: Chat) -> JSON:
        """reply_to / thread fields for a new bot message."""
        store = self.store
        reply: JSON | None = p.get("reply_parameters") if isinstance(
            p.get("reply_parameters"), dict) else None
        if p.get("reply_to_message_id") is not None:
            reply = {"message_id": p["reply_to_message_id"],
                     "allow_sending_without_reply": p.get("allow_sending_without_reply", False)}
        reply_to: Message | None = None
        if reply:
            target = store.chat(reply.get("chat_id", chat.id))
            reply_to = store.message(target.id, _int(reply, "message_id") or 0)
            if reply_to is None and not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            quote = reply.get("quote")
            if reply_to is not None and quote and quote not in (
                reply_to.text or reply_to.caption or ""
            ):
                raise bad_request("QUOTE_TEXT_INVALID")
        thread_id = _int(p, "message_thread_id")
        fields: JSON = {"reply_to": reply_to}
        if chat.is_forum:
            if thread_id is None and reply_to is not None and reply_to.thread_id is not None:
                thread_id = reply_to.thread_id
            if thread_id is not None and thread_id != 1:
                if thread_id not in chat.topics:
                    raise bad_request("message thread not found")
                fields.update(thread_id=thread_id, is_topic_message=True)
                if reply_to is None:
                    fields["reply_to"] = store.message(chat.id, thread_id)
        return fields

    def _new_bot_message(self, p: JSON, chat: Chat, **fields: Any) -> Message:
        placement = self._placement(p, chat)
        markup = validate_inline_keyboard(p.get("reply_markup"))
        return self.store.add_message(chat, from_user=self.bot, reply_markup=markup,
                                      **placement, **fields)

    async def api_send_message(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, Message]:
        chat = self._target_chat(p)
        raw = p.get("text")
        if raw is None or str(raw).strip() == "":
            raise bad_request("message text is empty")
        text, entities = parse_text(str(raw), p.get("parse_mode"), p.get("entities"))
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        message = self._new_bot_message(p, chat, text=text, entities=entities)
        return message.to_dict(), message

    def _photo_sizes(self, p: JSON, f: dict[str, bytes]) -> list[JSON]:
        photo = p.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = f.get(photo[len("attach://"):])
        if photo is None and "photo" in f:
            photo = f["photo"]
        if isinstance(photo, bytes):
            return self.store.add_photo(photo)
        if isinstance(photo, str):
            known = self.store.files.get(photo)
            if known is not None:
                return self.store.add_photo(known.data)
            if re.match(r"https?://", photo):
                return self.store.add_photo(photo.encode())
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def api_send_photo(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, Message]:
        chat = self._target_chat(p)
        sizes = self._photo_sizes(p, f)
        caption: str | None = None
        entities: list[Entity] = []
        if p.get("caption"):
            caption, entities = parse_text(str(p["caption"]), p.get("parse_mode"),
                                           p.get("caption_entities"))
            if utf16_len(caption) > MAX_CAPTION:
                raise bad_request("message caption is too long")
        message = self._new_bot_message(p, chat, photo=sizes, caption=caption,
                                        caption_entities=entities)
        return message.to_dict(), message

    async def api_copy_message(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, Message]:
        """Copy a message (text, photo, voice, video note, audio…) without a forward header;
        ``caption`` replaces the caption of a media message. Returns its MessageId."""
        chat = self._target_chat(p)
        source_chat = self.store.chat(_required(p, "from_chat_id"))
        source = self.store.message(source_chat.id, _int(p, "message_id") or 0)
        if source is None or source.deleted:
            raise bad_request("message to copy not found")
        media = {k: v for k, v in source.extra.items()
                 if k in ("voice", "video_note", "audio", "document", "video", "location",
                          "venue")}
        fields: JSON = {"extra": media, "photo": list(source.photo)}
        if source.text is not None and not media and not source.photo:
            fields.update(text=source.text, entities=list(source.entities))
        else:
            caption = p.get("caption", source.caption)
            if caption:
                caption, entities = parse_text(str(caption), p.get("parse_mode"),
                                               p.get("caption_entities"))
                if utf16_len(caption) > MAX_CAPTION:
                    raise bad_request("message caption is too long")
                fields.update(caption=caption, caption_entities=entities)
        message = self._new_bot_message(p, chat, **fields)
        return {"message_id": message.message_id}, message

    async def api_send_chat_action(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        self._target_chat(p)
        if p.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True, None

    # ====================================================================== editing
    def _own_message(self, p: JSON, what: str) -> Message:
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self.store.chat(_required(p, "chat_id"))
        message = self.store.message(chat.id, _int(p, "message_id") or 0)
        if message is None:
            raise bad_request(f"message to {what} not found")
        if what == "edit" and (message.from_user is None or message.from_user.id != self.bot.id):
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(self, message: Message, **changes: Any) -> tuple[Any, Message]:
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise bad_request(NOT_MODIFIED)
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = self.store.now()
        self.store.changed()
        return message.to_dict(), message

    async def api_edit_message_text(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, Message]:
        message = self._own_message(p, "edit")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        raw = p.get("text")
        if raw is None or str(raw).strip() == "":
            raise bad_request("message text is empty")
        text, entities = parse_text(str(raw), p.get("parse_mode"), p.get("entities"))
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        markup = validate_inline_keyboard(p.get("reply_markup"))
        return self._apply_edit(message, text=text, entities=entities, reply_markup=markup)

    async def api_edit_message_caption(
        self, p: JSON, f: dict[str, bytes]
    ) -> tuple[Any, Message]:
        message = self._own_message(p, "edit")
        if not message.photo:
            raise bad_request("there is no caption in the message to edit")
        caption: str | None = None
        entities: list[Entity] = []
        if p.get("caption"):
            caption, entities = parse_text(str(p["caption"]), p.get("parse_mode"),
                                           p.get("caption_entities"))
        markup = validate_inline_keyboard(p.get("reply_markup"))
        return self._apply_edit(message, caption=caption, caption_entities=entities,
                                reply_markup=markup)

    async def api_edit_message_reply_markup(
        self, p: JSON, f: dict[str, bytes]
    ) -> tuple[Any, Message]:
        message = self._own_message(p, "edit")
        markup = validate_inline_keyboard(p.get("reply_markup"))
        return self._apply_edit(message, reply_markup=markup)

    async def api_delete_message(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        message = self._own_message(p, "delete")
        self._check_deletable(message)
        message.deleted = True
        self.store.changed()
        return True, None

    async def api_delete_messages(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        chat = self.store.chat(_required(p, "chat_id"))
        ids = p.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a non-empty list of at most 100 ids")
        for message_id in ids:
            message = self.store.message(chat.id, int(message_id))
            if message is not None:
                try:
                    self._check_deletable(message)
                except ApiError:
                    continue
                message.deleted = True
        self.store.changed()
        return True, None

    def _check_deletable(self, message: Message) -> None:
        own = message.from_user is not None and message.from_user.id == self.bot.id
        if not own and message.chat.is_group and not message.chat.bot_is_admin:
            raise bad_request("message can't be deleted")

    async def api_pin_chat_message(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        message = self._own_message(p, "pin")
        if message.chat.is_group and not message.chat.bot_is_admin:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        self.settings[f"pinned:{message.chat.id}"] = message.message_id
        return True, None

    async def api_unpin_chat_message(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        chat = self.store.chat(_required(p, "chat_id"))
        if chat.is_group and not chat.bot_is_admin:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        self.settings.pop(f"pinned:{chat.id}", None)
        return True, None

    # ===================================================================== callbacks
    async def api_answer_callback_query(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        from .state import CallbackAnswer

        query_id = str(p.get("callback_query_id") or "")
        query = self.store.callback_queries.get(query_id)
        if query is None or query.answered:
            raise bad_request("query is too old and response timeout expired or query ID is "
                              "invalid")
        query.answered = True
        self.store.callback_answers.append(CallbackAnswer(
            query_id=query_id,
            text=p.get("text"),
            show_alert=bool(p.get("show_alert", False)),
            url=p.get("url"),
            cache_time=_int(p, "cache_time"),
            query=query,
        ))
        self.store.changed()
        return True, None

    # ====================================================================== commands
    async def api_set_my_commands(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not _COMMAND_NAME_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._check_scope_chat(p.get("scope"))
        key = (scope_key(p.get("scope")), str(p.get("language_code") or ""))
        if commands:
            self.store.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.store.commands.pop(key, None)
        self.store.changed()
        return True, None

    async def api_get_my_commands(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        key = (scope_key(p.get("scope")), str(p.get("language_code") or ""))
        return list(self.store.commands.get(key, [])), None

    def _check_scope_chat(self, scope: Any) -> None:
        """As on Telegram: a chat scope needs a chat the bot knows; a user's private chat
        exists only once the user started the bot ("chat not found" before)."""
        if not isinstance(scope, dict) or scope.get("type") not in (
                "chat", "chat_administrators", "chat_member"):
            return
        chat = self.store.chats.get(scope.get("chat_id"))  # type: ignore[arg-type]
        if chat is None or (chat.type == "private" and chat.id not in self.store.started_users):
            raise bad_request("chat not found")

    async def api_delete_my_commands(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        self._check_scope_chat(p.get("scope"))
        key = (scope_key(p.get("scope")), str(p.get("language_code") or ""))
        self.store.commands.pop(key, None)
        self.store.changed()
        return True, None

    def _text_setting(self, name: str, p: JSON, key: str) -> tuple[Any, None]:
        self.settings[f"{name}:{p.get('language_code') or ''}"] = str(p.get(key) or "")
        return True, None

    async def api_set_my_description(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        return self._text_setting("description", p, "description")

    async def api_get_my_description(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        lang = p.get("language_code") or ""
        return {"description": self.settings.get(f"description:{lang}", "")}, None

    async def api_set_my_short_description(
        self, p: JSON, f: dict[str, bytes]
    ) -> tuple[Any, None]:
        return self._text_setting("short_description", p, "short_description")

    async def api_get_my_short_description(
        self, p: JSON, f: dict[str, bytes]
    ) -> tuple[Any, None]:
        lang = p.get("language_code") or ""
        return {"short_description": self.settings.get(f"short_description:{lang}", "")}, None

    async def api_set_my_name(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        return self._text_setting("name", p, "name")

    async def api_get_my_name(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        lang = p.get("language_code") or ""
        return {"name": self.settings.get(f"name:{lang}", self.bot.first_name)}, None

    async def api_set_chat_menu_button(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        self.settings[f"menu:{p.get('chat_id', '')}"] = p.get("menu_button")
        return True, None

    async def api_get_chat_menu_button(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        return self.settings.get(f"menu:{p.get('chat_id', '')}") or {"type": "commands"}, None

    # ======================================================================== chats
    async def api_get_chat(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        chat = self._target_chat(p)
        info = chat.to_dict()
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={"unlimited_gifts": False, "limited_gifts": False,
                                 "unique_gifts": False, "premium_subscription": False,
                                 "gifts_from_channels": False},
        )
        return info, None

    def _member(self, chat: Chat, user: User) -> JSON:
        if chat.type == "private":
            return {"status": "member", "user": user.to_dict()}
        if user.id == chat.owner_id:
            return {"status": "creator", "user": user.to_dict(), "is_anonymous": False}
        is_admin = user.id in chat.admin_ids or (user.id == self.bot.id and chat.bot_is_admin)
        if is_admin:
            return {
                "status": "administrator", "user": user.to_dict(), "can_be_edited":
                user.id == self.bot.id, "is_anonymous": False, "can_manage_chat": True,
                "can_delete_messages": True, "can_manage_video_chats": True,
                "can_restrict_members": True, "can_promote_members": False,
                "can_change_info": True, "can_invite_users": True, "can_post_stories": False,
                "can_edit_stories": False, "can_delete_stories": False,
                "can_pin_messages": True, "can_manage_topics": chat.is_forum,
            }
        if user.id in chat.member_ids or user.id == self.bot.id:
            return {"status": "member", "user": user.to_dict()}
        return {"status": "left", "user": user.to_dict()}

    async def api_get_chat_member(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        chat = self._target_chat(p)
        user = self.store.users.get(_int(p, "user_id") or 0)
        if user is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        if chat.type == "private" and user.id not in (chat.id, self.bot.id):
            raise bad_request("user not found")
        return self._member(chat, user), None

    async def api_get_chat_administrators(
        self, p: JSON, f: dict[str, bytes]
    ) -> tuple[Any, None]:
        chat = self._target_chat(p)
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        ids = ([chat.owner_id] if chat.owner_id else []) + [
            a for a in chat.admin_ids if a != chat.owner_id
        ]
        if chat.bot_is_admin:
            ids.append(self.bot.id)
        return [self._member(chat, self.store.users[i]) for i in ids
                if i in self.store.users], None

    async def api_get_chat_member_count(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        chat = self._target_chat(p)
        if chat.type == "private":
            return 2, None
        people = set(chat.member_ids) | set(chat.admin_ids) | {self.bot.id}
        if chat.owner_id:
            people.add(chat.owner_id)
        return len(people), None

    # ======================================================================== files
    async def api_get_file(self, p: JSON, f: dict[str, bytes]) -> tuple[Any, None]:
        stored = self.store.files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return stored.to_file(), None
