"""Acting as people: users posting, editing, tapping buttons; groups migrating; raw updates."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .faults import Faults
from .formatting import auto_entities
from .state import (
    CHANNEL_BOT_ID,
    GROUP_ANONYMOUS_BOT_ID,
    JSON,
    CallbackQuery,
    Chat,
    Message,
    Store,
    User,
)

ChatRef = Chat | User | int
UserRef = User | int

GROUP_ANONYMOUS_BOT = User(GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot", is_bot=True,
                           language_code=None)
CHANNEL_BOT = User(CHANNEL_BOT_ID, "Channel", "Channel_Bot", is_bot=True, language_code=None)


def fake_jpeg(seed: str) -> bytes:
    """Deterministic bytes that look like a JPEG (SOI/APP0 header ... EOI)."""
    body = b"".join(hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(32))
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9"


class ActorsMixin:
    """Methods that make people do things; each queues the Update Telegram would send."""

    store: Store
    faults: Faults
    privacy_mode: bool

    # ------------------------------------------------------------------ setup
    def user(
        self,
        id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        *,
        last_name: str | None = None,
        is_bot: bool = False,
        started: bool = False,
    ) -> User:
        """Create (or replace) a user. ``started=True``: the user opened the private chat
        with the bot before the test began (no ``/start`` update is queued), so private
        sends to them succeed under ``strict_private``."""
        user = User(id, first_name, username, last_name, language_code, is_bot)
        self.store.users[id] = user
        if started:
            self.store.private_chat(user)
            self.store.started_users.add(id)
        return user

    def group(
        self,
        id: int,
        title: str,
        type: str = "supergroup",
        is_forum: bool = False,
        admins: Sequence[UserRef] | None = None,
        *,
        owner: UserRef | None = None,
        members: Sequence[UserRef] | None = None,
        bot_is_admin: bool = False,
        username: str | None = None,
    ) -> Chat:
        """Create a group or supergroup the bot is in. The owner defaults to the first admin."""
        if type not in ("group", "supergroup"):
            raise ValueError(f"group type must be 'group' or 'supergroup', not {type!r}")
        if id >= 0:
            raise ValueError("group chat ids are negative")
        admin_ids = [self._user(a).id for a in admins or []]
        owner_id = self._user(owner).id if owner is not None else (
            admin_ids[0] if admin_ids else None)
        chat = Chat(id=id, type=type, title=title, is_forum=is_forum and type == "supergroup",
                    owner_id=owner_id, admin_ids=admin_ids, bot_is_admin=bot_is_admin,
                    username=username,
                    member_ids={self._user(m).id for m in members or []} | set(admin_ids))
        if chat.is_forum:
            chat.next_message_id = 2  # message 1 opens the forum; topics get ids from 2 on
        return self.store.add_chat(chat)

    def channel(self, id: int, title: str, username: str | None = None) -> Chat:
        """Create a channel (usable as ``sender_chat`` of posts in a linked group)."""
        return self.store.add_chat(Chat(id=id, type="channel", title=title, username=username))

    # -------------------------------------------------------------- helpers
    def _user(self, ref: UserRef) -> User:
        if isinstance(ref, User):
            self.store.users.setdefault(ref.id, ref)
            return ref
        user = self.store.users.get(ref)
        if user is None:
            raise KeyError(f"unknown user {ref}; create it with server.user(...)")
        return user

    def _chat(self, ref: ChatRef) -> Chat:
        if isinstance(ref, User):
            return self.store.private_chat(self._user(ref))
        chat_id = ref.id if isinstance(ref, Chat) else ref
        chat = self.store.chats.get(chat_id)
        if chat is None and chat_id in self.store.users and chat_id > 0:
            chat = self.store.private_chat(self.store.users[chat_id])
        if chat is None:
            raise KeyError(f"unknown chat {chat_id}")
        if chat.migrated_to is not None:
            raise ValueError(f"chat {chat_id} was migrated to {chat.migrated_to}")
        return chat

    def _message(self, chat: Chat, ref: Message | int | None) -> Message | None:
        if ref is None:
            return None
        message_id = ref.message_id if isinstance(ref, Message) else ref
        message = self.store.message(chat.id, message_id)
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat.id}")
        return message

    def _deliver(self, message: Message, kind: str = "message") -> int | None:
        if self.privacy_mode and message.chat.is_group and not self._addressed(message):
            return None
        return self.store.enqueue(kind, message.to_dict())

    def _addressed(self, message: Message) -> bool:
        """Privacy mode: commands, replies to the bot, mentions and service messages pass."""
        text = message.text or message.caption
        if text is None:
            return True
        bot = self.store.bot
        if message.reply_to is not None and message.reply_to.from_user is not None and (
            message.reply_to.from_user.id == bot.id
        ):
            return True
        if bot.username and f"@{bot.username}".lower() in text.lower():
            return True
        return text.startswith("/")

    def _ensure_topic(self, chat: Chat, thread_id: int) -> Message:
        topic = self.store.message(chat.id, thread_id)
        if topic is not None:
            chat.topics.setdefault(thread_id, f"Topic {thread_id}")
        else:
            chat.topics[thread_id] = f"Topic {thread_id}"
            topic = self.store.add_message(
                chat, message_id=thread_id, thread_id=thread_id, is_topic_message=True,
                from_user=self.store.users.get(chat.owner_id or 0),
                extra={"forum_topic_created": {"name": chat.topics[thread_id],
                                               "icon_color": 7322096}},
            )
        return topic

    # -------------------------------------------------------------- actions
    async def post(
        self,
        chat: ChatRef,
        user: UserRef | None,
        text: str | None = None,
        *,
        reply_to: Message | int | None = None,
        photo: bool | bytes = False,
        caption: str | None = None,
        thread_id: int | None = None,
        sender_chat: Chat | int | None = None,
        is_bot: bool = False,
        entities: list[JSON] | None = None,
        extra: JSON | None = None,
    ) -> Message:
        """Post a message as ``user`` (or as ``sender_chat``: the group itself for an anonymous
        admin, or a channel) and queue its ``message`` update.

        ``photo=True`` (or raw bytes) makes a photo message; ``text`` then becomes the caption
        unless ``caption`` is given. In forums, ``thread_id`` puts the message in that topic
        (created silently if unknown) and, like Telegram, ``reply_to_message`` is then the
        topic's creation message unless ``reply_to`` is given. Telegram never shows bots
        other bots' messages; ``is_bot=True`` posts are delivered anyway for testing filters.
        ``extra`` adds Bot API message fields verbatim (``voice``, ``location``,
        ``forward_origin``…); with it, ``text`` may be omitted.
        """
        target = self._chat(chat)
        author: User | None = None
        sender: Chat | None = None
        if sender_chat is not None:
            sender = sender_chat if isinstance(sender_chat, Chat) else self._chat(sender_chat)
            author = GROUP_ANONYMOUS_BOT if sender.id == target.id else CHANNEL_BOT
        elif user is not None:
            author = self._user(user)
            if is_bot:
                author = replace(author, is_bot=True)
        else:
            raise ValueError("post needs a user or a sender_chat")
        reply = self._message(target, reply_to)
        fields: JSON = {"from_user": author, "sender_chat": sender, "reply_to": reply}
        if target.is_forum:
            if thread_id is None and reply is not None and reply.thread_id is not None:
                thread_id = reply.thread_id
            if thread_id is not None and thread_id != 1:
                topic = self._ensure_topic(target, thread_id)
                fields.update(thread_id=thread_id, is_topic_message=True,
                              reply_to=reply or topic)
        elif thread_id is not None:
            fields["thread_id"] = thread_id
        if photo:
            data = photo if isinstance(photo, bytes) else fake_jpeg(f"{target.id}:{text}")
            fields["photo"] = self.store.add_photo(data)
            body = caption if caption is not None else text
            if body is not None:
                fields.update(caption=body, caption_entities=entities or auto_entities(body))
        elif text is not None:
            fields.update(text=text, entities=entities if entities is not None
                          else auto_entities(text))
        elif not extra:
            raise ValueError("post needs text, photo or extra")
        if extra:  # other message fields verbatim: voice, location, forward_origin, ...
            fields["extra"] = dict(extra)
        if target.type == "private" and author is not None:
            self.store.started_users.add(author.id)
            self.faults.forbidden_users.discard(author.id)
        message = self.store.add_message(target, **fields)
        self._deliver(message)
        return message

    async def command(self, chat: ChatRef, user: UserRef, command: str, **kwargs: Any) -> Message:
        """Send a command such as ``"/accept 12"`` or ``"/accept@botname 12"`` (with the
        ``bot_command`` entity Telegram adds)."""
        if not command.startswith("/"):
            raise ValueError("commands start with '/'")
        return await self.post(chat, user, command, **kwargs)

    async def start_private(self, user: UserRef, payload: str | None = None) -> Message:
        """The user opens the private chat with the bot (or unblocks it) and sends
        ``/start [payload]``. Lifts ``forbid``/``block`` faults for this user."""
        person = self._user(user)
        chat = self.store.private_chat(person)
        if person.id in self.faults.blocked_users:
            self._chat_member_update(chat, person, "kicked", "member")
        self.faults.unblock(person.id)
        text = "/start" if not payload else f"/start {payload}"
        return await self.post(chat, person, text)

    async def block(self, user: UserRef) -> int | None:
        """The user blocks the bot: queues ``my_chat_member`` (member → kicked) and makes sends
        to the user answer 403 "bot was blocked by the user"."""
        person = self._user(user)
        chat = self.store.private_chat(person)
        self.faults.block(person.id)
        return self._chat_member_update(chat, person, "member", "kicked")

    def _chat_member_update(self, chat: Chat, actor: User, old: str, new: str) -> int | None:
        bot = self.store.bot.to_dict()
        new_member: JSON = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: JSON = {"status": old, "user": bot}
        if old == "kicked":
            old_member["until_date"] = 0
        return self.store.enqueue("my_chat_member", {
            "chat": chat.to_dict(), "from": actor.to_dict(), "date": self.store.now(),
            "old_chat_member": old_member, "new_chat_member": new_member,
        })

    async def edit(self, message: Message, new_text: str) -> Message:
        """The author edits their message: queues an ``edited_message`` update."""
        if message.from_user is not None and message.from_user.id == self.store.bot.id:
            raise ValueError("people cannot edit the bot's messages")
        if message.photo:
            message.caption, message.caption_entities = new_text, auto_entities(new_text)
        else:
            message.text, message.entities = new_text, auto_entities(new_text)
        message.edit_date = self.store.now()
        self.store.changed()
        self._deliver(message, "edited_message")
        return message

    async def tap(
        self, message: Message, user: UserRef, callback_data: str, *, verify: bool = True
    ) -> CallbackQuery:
        """The user taps an inline button of a bot message: queues a ``callback_query``.

        With ``verify`` (default) the message must be alive and carry a button with that
        ``callback_data``, as only then can a real user produce the query.
        """
        person = self._user(user)
        live = self.store.message(message.chat.id, message.message_id)
        if verify:
            if live is None:
                raise ValueError("the message was deleted; its buttons cannot be tapped")
            if callback_data not in live.callback_data:
                raise ValueError(
                    f"message {message.message_id} has no button with callback_data "
                    f"{callback_data!r}; buttons: {live.callback_data}"
                )
        query = CallbackQuery(
            id=str(4_000_000_000_000_000 + self.store.new_id()),
            from_user=person,
            message=live or message,
            data=callback_data,
            chat_instance=str(int(hashlib.sha1(str(message.chat.id).encode()).hexdigest()[:15],
                                  16)),
        )
        self.store.callback_queries[query.id] = query
        self.store.enqueue("callback_query", query.to_dict())
        return query

    async def create_topic(self, group: ChatRef, user: UserRef, name: str) -> int:
        """A user creates a forum topic; queues the service message; returns its thread id."""
        chat = self._chat(group)
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        thread_id = chat.next_message_id
        chat.topics[thread_id] = name
        message = self.store.add_message(
            chat, from_user=self._user(user), thread_id=thread_id, is_topic_message=True,
            extra={"forum_topic_created": {"name": name, "icon_color": 7322096}},
        )
        self._deliver(message)
        return thread_id

    async def join(self, group: ChatRef, user: UserRef) -> Message:
        """A user joins a group: queues the ``new_chat_members`` service message."""
        chat = self._chat(group)
        person = self._user(user)
        chat.member_ids.add(person.id)
        message = self.store.add_message(chat, from_user=person,
                                         extra={"new_chat_members": [person.to_dict()],
                                                "new_chat_member": person.to_dict(),
                                                "new_chat_participant": person.to_dict()})
        self._deliver(message)
        return message

    async def migrate(self, group: ChatRef, user: UserRef | None = None) -> int:
        """Upgrade a basic group to a supergroup, as Telegram does: the old group gets a
        ``migrate_to_chat_id`` message, the new one a ``migrate_from_chat_id`` message, and
        later calls on the old id answer 400 with ``parameters.migrate_to_chat_id``.
        Returns the new supergroup id."""
        old = self._chat(group)
        if old.type != "group":
            raise ValueError("only basic groups (type='group') migrate")
        new_id = -1_000_000_000_000 - abs(old.id)
        new = self.store.add_chat(Chat(
            id=new_id, type="supergroup", title=old.title, owner_id=old.owner_id,
            admin_ids=list(old.admin_ids), member_ids=set(old.member_ids),
            bot_is_admin=old.bot_is_admin,
        ))
        actor = self._user(user) if user is not None else self.store.users.get(
            old.owner_id or 0, GROUP_ANONYMOUS_BOT)
        first = self.store.add_message(old, from_user=actor,
                                       extra={"migrate_to_chat_id": new_id})
        second = self.store.add_message(new, from_user=actor,
                                        extra={"migrate_from_chat_id": old.id})
        old.migrated_to = new_id
        self.store.enqueue("message", first.to_dict())
        self.store.enqueue("message", second.to_dict())
        return new_id

    async def inject_update(self, update: JSON) -> int:
        """Queue a raw update dict verbatim (keeps a given ``update_id``, so duplicates and
        redeliveries can be simulated). Returns its update_id."""
        return self.store.inject(update)
