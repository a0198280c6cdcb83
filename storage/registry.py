"""People (Telegram users ↔ configured persons) and chats (group ↔ grid bindings)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.base import Repository
from storage.timefmt import from_db, req, to_db


@dataclass(frozen=True, slots=True)
class Registration:
    user_id: int
    person_key: str | None
    username: str | None
    display_name: str
    private_chat: bool  # the user started the bot: private messages can reach them
    registered_at: datetime | None
    last_seen_at: datetime


_PEOPLE_COLS = (
    "user_id, person_key, username, display_name, private_chat, registered_at, last_seen_at"
)


def _reg(r: object) -> Registration:
    return Registration(r[0], r[1], r[2], r[3], bool(r[4]), from_db(r[5]), req(r[6]))  # type: ignore[index]


class PeopleRepository(Repository):
    async def seen(self, user_id: int, *, username: str | None = None, display_name: str = "",
                   now: datetime | None = None) -> None:
        """Note that a user was seen (creates the row on first sight)."""
        await self._exec(
            "INSERT INTO people (user_id, username, display_name, last_seen_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "username = excluded.username, display_name = excluded.display_name, "
            "last_seen_at = excluded.last_seen_at",
            (user_id, username, display_name, to_db(self._now(now))))

    async def register(self, user_id: int, person_key: str, now: datetime | None = None) -> None:
        """Link a Telegram user to a configured person (/register)."""
        at = to_db(self._now(now))
        await self._exec(
            "INSERT INTO people (user_id, person_key, registered_at, last_seen_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
            "person_key = excluded.person_key, registered_at = excluded.registered_at",
            (user_id, person_key, at, at))

    async def set_private_chat(self, user_id: int, started: bool,
                               now: datetime | None = None) -> None:
        """The user started (True) or blocked (False) the bot in private."""
        await self._exec(
            "INSERT INTO people (user_id, private_chat, last_seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET private_chat = excluded.private_chat",
            (user_id, int(started), to_db(self._now(now))))

    async def get(self, user_id: int) -> Registration | None:
        row = await self._one(f"SELECT {_PEOPLE_COLS} FROM people WHERE user_id = ?", (user_id,))
        return _reg(row) if row else None

    async def by_person(self, person_key: str) -> list[Registration]:
        rows = await self._all(
            f"SELECT {_PEOPLE_COLS} FROM people WHERE person_key = ?", (person_key,))
        return [_reg(r) for r in rows]

    async def for_keys(self, keys: Iterable[str]) -> list[Registration]:
        """Registrations of several persons in one round trip."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return []
        marks = ", ".join("?" * len(keys))
        rows = await self._all(
            f"SELECT {_PEOPLE_COLS} FROM people WHERE person_key IN ({marks})", keys)
        return [_reg(r) for r in rows]

    async def for_users(self, user_ids: Iterable[int]) -> list[Registration]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        rows = await self._all(
            f"SELECT {_PEOPLE_COLS} FROM people WHERE user_id IN ({marks})", ids)
        return [_reg(r) for r in rows]


@dataclass(frozen=True, slots=True)
class ChatBinding:
    chat_id: int
    grid: str | None
    title: str
    thread_id: int | None
    bound_by: int | None
    bound_at: datetime | None
    migrated_to: int | None


class ChatRepository(Repository):
    async def bind(self, chat_id: int, grid: str, *, title: str = "", thread_id: int | None = None,
                   by: int | None = None, now: datetime | None = None) -> None:
        """/bind: this group chat belongs to ``grid`` (overrides the config)."""
        await self._exec(
            "INSERT INTO chats (chat_id, grid, title, thread_id, bound_by, bound_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET grid = excluded.grid, "
            "title = excluded.title, thread_id = excluded.thread_id, "
            "bound_by = excluded.bound_by, bound_at = excluded.bound_at",
            (chat_id, grid, title, thread_id, by, to_db(self._now(now))))

    async def unbind(self, chat_id: int) -> None:
        await self._exec("UPDATE chats SET grid = NULL WHERE chat_id = ?", (chat_id,))

    async def get(self, chat_id: int) -> ChatBinding | None:
        r = await self._one(
            "SELECT chat_id, grid, title, thread_id, bound_by, bound_at, migrated_to "
            "FROM chats WHERE chat_id = ?", (chat_id,))
        if r is None:
            return None
        return ChatBinding(r[0], r[1], r[2], r[3], r[4], from_db(r[5]), r[6])

    async def get_many(self, chat_ids: Iterable[int]) -> dict[int, ChatBinding]:
        """Bindings of several chats in one query (chats without a row are absent)."""
        ids = list(dict.fromkeys(chat_ids))
        if not ids:
            return {}
        rows = await self._all(
            "SELECT chat_id, grid, title, thread_id, bound_by, bound_at, migrated_to "
            f"FROM chats WHERE chat_id IN ({', '.join('?' * len(ids))})", ids)
        return {r[0]: ChatBinding(r[0], r[1], r[2], r[3], r[4], from_db(r[5]), r[6])
                for r in rows}

    async def grid_of(self, chat_id: int) -> str | None:
        """The /bind grid of a chat, or None (then the config decides)."""
        return await self._scalar("SELECT grid FROM chats WHERE chat_id = ?", (chat_id,))

    async def all_bound(self) -> list[ChatBinding]:
        rows = await self._all(
            "SELECT chat_id, grid, title, thread_id, bound_by, bound_at, migrated_to "
            "FROM chats WHERE grid IS NOT NULL ORDER BY chat_id")
        return [ChatBinding(r[0], r[1], r[2], r[3], r[4], from_db(r[5]), r[6]) for r in rows]

    async def migrate(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup (new chat id): move the binding, tickets' source and
        card chat ids and pending outbox rows to ``new_id``."""
        await self._exec(
            "INSERT INTO chats (chat_id, grid, title, thread_id, bound_by, bound_at) "
            "SELECT ?, grid, title, thread_id, bound_by, bound_at FROM chats WHERE chat_id = ? "
            "ON CONFLICT (chat_id) DO UPDATE SET grid = excluded.grid",
            (new_id, old_id))
        await self._exec(
            "UPDATE chats SET migrated_to = ?, grid = NULL WHERE chat_id = ?", (new_id, old_id))
        await self._exec(
            "UPDATE tickets SET source_chat_id = ? WHERE source_chat_id = ?", (new_id, old_id))
        await self._exec(
            "UPDATE tickets SET card_chat_id = ? WHERE card_chat_id = ?", (new_id, old_id))
        await self._exec(
            "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'",
            (new_id, old_id))
        await self._exec(
            "UPDATE outbox SET fallback_chat_id = ? WHERE fallback_chat_id = ? "
            "AND status = 'pending'", (new_id, old_id))


class MenuRepository(Repository):
    """Which command menu was last set for each private chat (absent: the default menu)."""

    async def all(self) -> dict[int, str]:
        rows = await self._all("SELECT chat_id, menu FROM command_menus")
        return {int(r[0]): str(r[1]) for r in rows}

    async def get(self, chat_id: int) -> str | None:
        value = await self._scalar("SELECT menu FROM command_menus WHERE chat_id = ?", (chat_id,))
        return None if value is None else str(value)

    async def record(self, chat_id: int, menu: str | None, now: datetime | None = None) -> None:
        """Remember ``menu`` as set for ``chat_id`` (None: back to the default menu)."""
        if menu is None:
            await self._exec("DELETE FROM command_menus WHERE chat_id = ?", (chat_id,))
            return
        await self._exec(
            "INSERT INTO command_menus (chat_id, menu, set_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET menu = excluded.menu, set_at = excluded.set_at",
            (chat_id, menu, to_db(self._now(now))))

    async def registered_users(self) -> dict[int, str]:
        """user id → person key of everyone who registered as a configured person."""
        rows = await self._all(
            "SELECT user_id, person_key FROM people WHERE person_key IS NOT NULL")
        return {int(r[0]): str(r[1]) for r in rows}
