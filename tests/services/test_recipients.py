"""One answer to "which account reaches this person", for use cases and the scheduler."""

from __future__ import annotations

from datetime import timedelta

from services.common import contacts_for
from services.recipients import contacts
from storage import Database
from tests.support.tickets import CONFIG, T0

UNLISTED = "未登记员"  # a worker configured without a Telegram id


async def test_a_person_registered_from_two_accounts_is_reached_on_the_latest(
        db: Database) -> None:
    async with db.transaction() as uow:
        # The higher user id registers first, so table order alone would pick the old one.
        await uow.people.register(7002, UNLISTED, now=T0)
        await uow.people.set_private_chat(7002, True, now=T0)
        await uow.people.register(7001, UNLISTED, now=T0 + timedelta(hours=1))
    async with db.read() as uow:
        found = await contacts(uow, CONFIG, [UNLISTED, "王芳"])
        with_supervisors = await contacts_for(uow, CONFIG, [UNLISTED])
    assert found[UNLISTED].user_id == 7001
    assert found[UNLISTED].can_dm is False  # the new account never started the bot
    assert found["王芳"].user_id == 101  # the config's id comes first, no registration needed
    assert with_supervisors[UNLISTED] == found[UNLISTED]
    assert with_supervisors["周书记"].user_id == 900


async def test_a_person_nobody_registered_has_no_account(db: Database) -> None:
    async with db.read() as uow:
        found = await contacts(uow, CONFIG, [UNLISTED])
    assert found[UNLISTED].user_id is None
    assert found[UNLISTED].can_dm is None
