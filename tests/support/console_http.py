"""A console app over a real database and real HTTP (aiohttp's test server), with
sessions started directly (the link flow has its own tests): what the list, dashboard and
export tests share. The ``console`` fixture itself is in ``tests/web/conftest.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from community import CommunityConfig
from services.console_access import start_session
from storage import Database
from tests.support.console_data import T0
from tickets.clock import FakeClock
from web.auth import COOKIE

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
