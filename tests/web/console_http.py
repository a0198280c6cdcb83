"""A console app over a real database and real HTTP (aiohttp's test server), with
sessions started directly (the link flow has its own tests): the fixtures of the list,
dashboard and export tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from community import CommunityConfig
from services import TicketService
from services.console_access import start_session
from storage import Database, open_database
from tests.console_data import T0
from tests.support.e2e import example_community
from tests.support.tickets import RecordingPresenter
from tickets.clock import FakeClock
from web.app import create_console_app
from web.auth import COOKIE
from web.deps import ConsoleDeps

# People of community/example.toml.
SECRETARY, WORKER_1, WORKER_2, POLICE = 1000, 1001, 1002, 1003
KEYS = {SECRETARY: "张书记", WORKER_1: "王芳", WORKER_2: "李强", POLICE: "刘警官"}
NOW = T0 + timedelta(days=3)


@dataclass
class Console:
    db: Database
    config: CommunityConfig
    clock: FakeClock
    server: TestServer

    async def client(self, user_id: int | None) -> TestClient:
        """An HTTP client signed in as ``user_id`` (None: not signed in)."""
        client = TestClient(self.server)
        await client.start_server()
        if user_id is not None:
            session = await start_session(self.db, self.clock, user_id, KEYS[user_id], "test")
            client.session.cookie_jar.update_cookies({COOKIE: session.cookie_value})
        self._clients.append(client)
        return client

    def __post_init__(self) -> None:
        self._clients: list[TestClient] = []


@pytest.fixture(name="console")
async def console_fixture(tmp_path: Path) -> AsyncIterator[Console]:
    clock = FakeClock(NOW)
    config = example_community()
    db = await open_database(tmp_path / "console.db", clock=clock)
    service = TicketService(db, config, clock, RecordingPresenter())
    app = create_console_app(ConsoleDeps(db=db, config=config, clock=clock, service=service))
    server = TestServer(app)
    await server.start_server()
    c = Console(db, config, clock, server)
    try:
        yield c
    finally:
        for client in c._clients:
            await client.close()
        await server.close()
        await db.close()
