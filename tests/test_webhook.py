"""Webhook mode: the receiver checks the secret, stores before answering 200, stores a
repeated delivery once; the lease holder handles what any process received."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp
import pytest

import storage
from community import CommunityConfig
from localapi import LocalBotApi
from runtime.app import GridBot
from runtime.stores import StorageInboxStore
from runtime.webhook import SECRET_HEADER, WebhookReceiver, webhook_path, webhook_secret
from storage.leases import open_lease
from tests.support.e2e import GROUP_1, RESIDENT, RESIDENT_2, fast_options
from tickets.clock import FakeClock

SECRET = "s3cret-token_value"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def db(tmp_path: Path, clock: FakeClock) -> AsyncIterator[storage.Database]:
    database = await storage.open_database(str(tmp_path / "g.db"), clock=clock)
    try:
        yield database
    finally:
        await database.close()


async def post(url: str, body: str, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession() as session, session.post(
            url, data=body, headers=headers) as response:
        return response.status


async def stored(db: storage.Database) -> list[int]:
    async with db.read() as uow:
        return [u.update_id for u in await uow.inbox.pending()]


def update(update_id: int) -> str:
    return json.dumps({"update_id": update_id, "message": {
        "message_id": 1, "date": 0, "chat": {"id": GROUP_1, "type": "supergroup"},
        "text": "8号楼漏水"}}, ensure_ascii=False)


async def test_secret_checked_update_stored_before_200_and_once(
        db: storage.Database, clock: FakeClock) -> None:
    receiver = WebhookReceiver(StorageInboxStore(db, clock), secret=SECRET, path="/tg/abc",
                               listen="127.0.0.1:0")
    await receiver.start()
    url = f"http://127.0.0.1:{receiver.port}/tg/abc"
    try:
        assert await post(url, update(10), None) == 401
        assert await post(url, update(10), "wrong") == 401
        assert await stored(db) == []  # nothing stored for a refused request
        assert await post(url, update(10), SECRET) == 200
        assert await stored(db) == [10]  # in the inbox by the time Telegram hears 200
        assert await post(url, update(10), SECRET) == 200  # Telegram's retry
        assert await stored(db) == [10]
        assert await post(url, "not json", SECRET) == 400
        assert await post(url, json.dumps({"update_id": "7"}), SECRET) == 400
        assert await post(f"http://127.0.0.1:{receiver.port}/other", update(11), SECRET) == 404
        assert (receiver.refused, receiver.stored) == (2, 1)
    finally:
        await receiver.stop()


class BrokenInbox:
    async def save_updates(self, updates: Sequence[tuple[int, str]]) -> int | None:
        raise OSError("disk full")


async def test_a_failed_store_answers_500_so_telegram_retries() -> None:
    receiver = WebhookReceiver(BrokenInbox(), secret=SECRET, path="/", listen="127.0.0.1:0")  # type: ignore[arg-type]
    await receiver.start()
    try:
        assert await post(f"http://127.0.0.1:{receiver.port}/", update(1), SECRET) == 500
    finally:
        await receiver.stop()


def test_the_secret_and_the_path() -> None:
    token = "7000000001:AAF-secret"
    assert webhook_secret(token) == webhook_secret(token)  # the same in every process
    assert "AAF" not in webhook_secret(token) and len(webhook_secret(token)) == 64
    assert webhook_path("https://bot.example.org/tg/xyz") == "/tg/xyz"
    with pytest.raises(ValueError, match="完整网址"):
        webhook_path("bot.example.org/tg")


def webhook_bot(server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
                db_path: str) -> GridBot:
    port = free_port()
    options = fast_options(server, webhook_url=f"http://127.0.0.1:{port}/tg/hook",
                           listen=f"127.0.0.1:{port}", inbox_poll=0.05, lease_retry=0.05,
                           lease_check=0.05)
    return GridBot(community, server.token, db_path, clock=clock, options=options,
                   lease=open_lease(db_path, server.token))


async def wait_idle(bot: GridBot, server: LocalBotApi) -> None:
    await server.wait_for(lambda: not server.store.updates, timeout=10)  # delivered
    await bot.until_idle()


def cards(server: LocalBotApi) -> list[int]:
    return [r.params["reply_parameters"]["message_id"]
            for r in server.sent(chat_id=GROUP_1, method="sendMessage")
            if (r.text or "").startswith("📋 工单 #")]


async def test_webhook_mode_against_the_local_bot_api(
        server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
        db_path: str) -> None:
    bot = webhook_bot(server, community, clock, db_path)
    await bot.start()
    try:
        assert server.store.webhook_url == bot.options.webhook_url
        assert server.store.webhook_secret == webhook_secret(server.token)
        report = await server.post(GROUP_1, RESIDENT, "8号楼顶楼漏水了")
        await wait_idle(bot, server)
        assert cards(server) == [report.message_id]
        # Telegram delivers the same update again (its answer was lost): one ticket.
        await server.inject_update({"update_id": 990_001, "message": report.to_dict()})
        await server.inject_update({"update_id": 990_001, "message": report.to_dict()})
        await wait_idle(bot, server)
        assert cards(server) == [report.message_id]
        assert {d.status for d in server.webhook.deliveries} == {200}
        assert server.poll_count == 0  # no getUpdates in webhook mode
    finally:
        await bot.stop()


async def test_a_standby_receives_and_the_holder_handles(
        server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
        db_path: str) -> None:
    holder = webhook_bot(server, community, clock, db_path)
    standby = webhook_bot(server, community, clock, db_path)
    await holder.start()
    await standby.start()
    try:
        assert holder.active and not standby.active
        assert standby.webhook is not None
        # A reverse proxy sends Telegram's POST to the standby process (the local API's
        # own delivery is paused: the test posts the update itself).
        await server.webhook.stop()
        message = await server.post(GROUP_1, RESIDENT_2, "3号楼楼道灯坏了")
        [raw] = server.store.updates
        url = f"http://127.0.0.1:{standby.webhook.port}/tg/hook"
        assert await post(url, json.dumps(raw, ensure_ascii=False),
                          webhook_secret(server.token)) == 200
        for _ in range(250):
            if message.message_id in cards(server):
                break
            await asyncio.sleep(0.02)
        await holder.until_idle()
        assert cards(server) == [message.message_id]
    finally:
        await standby.stop()
        await holder.stop()


@pytest.mark.parametrize(("flags", "expected"), [
    (["--webhook", "https://bot.example.org/tg/x"], "须配 --listen"),
    (["--webhook", "bot.example.org/tg/x", "--listen", "127.0.0.1:8443"], "完整网址"),
    (["--webhook", "https://bot.example.org/tg/x", "--listen", "8443"], "主机:端口"),
    (["--listen", "127.0.0.1:8443"], "只与 --webhook 一起使用"),
])
def test_bad_webhook_flags_exit_2_with_one_sentence(tmp_path: Path, flags: list[str],
                                                     expected: str) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    config = tmp_path / "community.toml"
    subprocess.run([sys.executable, str(root / "bot.py"), "init", str(config)], check=True,
                   capture_output=True, cwd=root)
    result = subprocess.run(
        [sys.executable, str(root / "bot.py"), "run", "--no-web", "--config", str(config),
         "--db", str(tmp_path / "g.db"), *flags],
        capture_output=True, text=True, cwd=root, timeout=60,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": "123:secret"})
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "g.db").exists()  # refused before anything was opened
