"""Use cases about group chats and private chats: /bind, a group upgraded to a supergroup,
/start, the bot blocked or unblocked in a private chat."""

from __future__ import annotations

from community.model import CommunityConfig
from storage import Database


async def bind_chat(db: Database, chat_id: int, grid: str, *, title: str,
                    thread_id: int | None, by: int) -> None:
    """/bind: tickets from this chat (and forum thread) belong to ``grid``."""
    async with db.transaction() as uow:
        await uow.chats.bind(chat_id, grid, title=title, thread_id=thread_id, by=by)


async def migrate_chat(db: Database, config: CommunityConfig, old_id: int, new_id: int,
                       title: str) -> str | None:
    """A group became a supergroup: every stored id moves to ``new_id``. Returns its grid."""
    configured = config.grid_of_chat(old_id)
    async with db.transaction() as uow:
        grid = await uow.chats.grid_of(old_id)
        if grid is None and configured is not None:
            # Record the config's binding on the old id first, so that the storage's
            # migrate moves it and marks the old id as migrated like any /bind.
            grid = configured.name
            await uow.chats.bind(old_id, grid, title=title)
        await uow.chats.migrate(old_id, new_id)
    return grid


async def private_chat_started(db: Database, user_id: int, *, username: str | None,
                               display_name: str, person_key: str | None) -> None:
    """/start in private: the user can receive private messages; a configured person is
    registered under this account (the latest registration is the one used)."""
    async with db.transaction() as uow:
        await uow.people.seen(user_id, username=username, display_name=display_name)
        await uow.people.set_private_chat(user_id, True)
        if person_key is not None:
            await uow.people.register(user_id, person_key)


async def private_chat_allowed(db: Database, user_id: int, allowed: bool) -> None:
    """The user blocked (False) or unblocked (True) the bot in private."""
    async with db.transaction() as uow:
        await uow.people.set_private_chat(user_id, allowed)
