"""Which per-person command menu was last set for whom (so start-up and /start only call
Telegram for people whose menu is not the one their role wants)."""

from __future__ import annotations

from storage import Database


async def record_menu(db: Database, user_id: int, menu: str | None) -> None:
    """Remember that ``menu`` (None: the default resident menu) is now set for ``user_id``."""
    async with db.transaction() as uow:
        await uow.menus.record(user_id, menu)


async def menu_of(db: Database, user_id: int) -> str | None:
    """The menu last set for ``user_id`` (None: the default, or never set)."""
    async with db.read() as uow:
        return await uow.menus.get(user_id)


async def menus_and_registrations(db: Database) -> tuple[dict[int, str], dict[int, str]]:
    """Every recorded menu by user id, and the person key of every registered user."""
    async with db.read() as uow:
        return await uow.menus.all(), await uow.menus.registered_users()
