"""Fixtures of the use-case tests: a real SQLite file, a fake clock at T0, a presenter that
records what it was asked to show, and the TicketService over them. (They replace the
end-to-end `clock` fixture of tests/conftest.py inside this folder.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services import TicketService
from storage import Database, open_database
from tests.support.tickets import CONFIG, T0, RecordingPresenter
from tickets.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def db(db_target: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=clock)
    yield database
    await database.close()


@pytest.fixture
def presenter() -> RecordingPresenter:
    return RecordingPresenter()


@pytest.fixture
def svc(db: Database, clock: FakeClock, presenter: RecordingPresenter) -> TicketService:
    return TicketService(db, CONFIG, clock, presenter)
