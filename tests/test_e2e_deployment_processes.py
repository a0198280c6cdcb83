"""Three real ``gridbot run --deployment`` processes on one deployment of three tokens, on
both backends: they spread the tokens (one each), every token is polled by exactly one
process (each token's local Bot API server counts a getUpdates ended by another as a
conflict), and when the holder of one token is SIGKILLed mid-burst a survivor takes that
token over within 30 s; every report becomes exactly one ticket in its own community's
database and gets exactly one acknowledgement (besides the at-least-once sends that were on
the wire at the kill)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

from localapi import LocalBotApi
from localapi.router import TokenRouter
from localapi.testing import running_server
from storage.leases import lease_key
from tests.support.backends import query
from tests.support.deployment import (
    ANLE_GROUP,
    ANLE_SUPERVISOR,
    ANLE_WORKER,
    TOKEN_A,
    TOKEN_B,
    deployment_database,
    inline_community,
    write_deployment,
)
from tests.support.e2e import GROUP_1, SUPERVISOR, WORKER_1, WORKER_2
from tests.support.processes import ROOT, held_tokens, report_text
from ui.texts import fold_card_numbers

TOKEN_C = "7000000033:AAFdeployment-test-token-heping-00000"
HEPING_GROUP = -1003000000001
HEPING_SUPERVISOR, HEPING_WORKER = 4000, 4001
HEPING_INLINE = inline_community("heping", "和平社区", "HEPING_BOT_TOKEN", compound="和平里",
                                 chat=HEPING_GROUP, worker=("钱明", HEPING_WORKER),
                                 supervisor=("吴主任", HEPING_SUPERVISOR))
ENVIRON = {"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": TOKEN_B,
           "HEPING_BOT_TOKEN": TOKEN_C}
#: community → (token, its group, its staff)
COMMUNITIES = {
    "xingfuli": (TOKEN_A, GROUP_1, (WORKER_1, WORKER_2, SUPERVISOR)),
    "anle": (TOKEN_B, ANLE_GROUP, (ANLE_WORKER, ANLE_SUPERVISOR)),
    "heping": (TOKEN_C, HEPING_GROUP, (HEPING_WORKER, HEPING_SUPERVISOR)),
}
REPORTS = 36
RESIDENTS = range(5000, 5000 + REPORTS)


@contextlib.asynccontextmanager
async def three_servers() -> AsyncIterator[tuple[dict[str, LocalBotApi], TokenRouter]]:
    async with (running_server(token=TOKEN_A) as a, running_server(token=TOKEN_B) as b,
                running_server(token=TOKEN_C) as c):
        servers = {TOKEN_A: a, TOKEN_B: b, TOKEN_C: c}
        for token, group, staff in COMMUNITIES.values():
            api = servers[token]
            for user in staff:
                api.user(user, f"员工{user}", started=True)
            for user in RESIDENTS:
                api.user(user, f"居民{user}")
            api.group(group, "网格群", admins=[staff[-1]], members=[*staff, *RESIDENTS])
        async with TokenRouter(servers) as router:
            yield servers, router


async def start_process(deployment: Path, api_url: str,
                        log: Path) -> asyncio.subprocess.Process:
    env = {**os.environ, **ENVIRON, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("TELEGRAM_API_URL", None)
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "run", "--no-web", "--deployment",
            str(deployment), "--api-url", api_url, env=env, cwd=str(ROOT),
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)


def _polled(server: LocalBotApi) -> bool:
    return server.poll_count > 0


def holdings(logs: list[Path]) -> list[set[str]]:
    return [held_tokens(log.read_text(errors="replace")) if log.exists() else set()
            for log in logs]


def database(db_target: str, root: Path, key: str) -> tuple[str, str]:
    """(target, schema) of a community's database, for reads from outside."""
    if db_target.startswith("postgresql://"):
        return db_target, key
    return str(root / "data" / f"{key}.db"), "public"


def tickets_of(db_target: str, root: Path, key: str) -> dict[str, tuple[int, int]]:
    """Ticket number → (chat, report message id) in ``key``'s database."""
    target, schema = database(db_target, root, key)
    with contextlib.suppress(Exception):
        return {str(n): (int(c), int(m)) for n, c, m in query(
            target, "SELECT number, source_chat_id, source_message_id FROM tickets",
            schema=schema)}
    return {}


def acknowledgements(server: LocalBotApi,
                     numbers: dict[str, tuple[int, int]]) -> Counter[tuple[int, int]]:
    """(chat, report message id) → acknowledgements sent: its card, or its line in a
    combined message."""
    counts: Counter[tuple[int, int]] = Counter()
    for request in server.sent(method="sendMessage"):
        text = request.params.get("text") or ""
        if text.startswith("📋 工单 #"):
            counts[(int(str(request.chat_id)),
                    request.params["reply_parameters"]["message_id"])] += 1
        for number in fold_card_numbers(text):
            if number in numbers:
                counts[numbers[number]] += 1
    return counts


async def test_three_processes_spread_three_tokens_and_take_over_a_killed_ones(
        tmp_path: Path, db_target: str) -> None:
    path = write_deployment(tmp_path, HEPING_INLINE, database=deployment_database(db_target))
    logs = [tmp_path / f"p{i}.log" for i in (1, 2, 3)]
    keys = {lease_key(token): community for community, (token, _, _) in COMMUNITIES.items()}
    async with three_servers() as (servers, router):
        procs = []
        for log in logs:
            procs.append(await start_process(path, router.base_url, log))
            await asyncio.sleep(0.5)
        killed: asyncio.subprocess.Process | None = None
        try:
            # Spread: one token each (the share is ceil(3 / 3) = 1).
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 90
            while [len(h) for h in holdings(logs)] != [1, 1, 1]:
                assert loop.time() < deadline, [log.read_text(errors="replace")[-2000:]
                                                  for log in logs]
                assert all(p.returncode is None for p in procs)
                await asyncio.sleep(0.2)
            spread = holdings(logs)
            assert set().union(*spread) == set(keys)
            for server in servers.values():
                await server.wait_for(partial(_polled, server), timeout=30)

            # A burst across the three communities; the holder of 安乐's token is
            # SIGKILLed halfway.
            victim_index = next(i for i, h in enumerate(spread) if lease_key(TOKEN_B) in h)
            victim, victim_log = procs[victim_index], logs[victim_index]
            survivors = [log for log in logs if log is not victim_log]
            offsets = {log: log.stat().st_size for log in survivors}
            posted: dict[str, list[tuple[int, int]]] = {k: [] for k in COMMUNITIES}
            takeover = -1.0
            for index, user in enumerate(RESIDENTS):
                community = list(COMMUNITIES)[index % 3]
                token, group, _ = COMMUNITIES[community]
                message = await servers[token].post(group, user, report_text(index))
                posted[community].append((group, message.message_id))
                if index == REPORTS // 2:
                    await servers[TOKEN_B].wait_for(lambda: len(acknowledgements(
                        servers[TOKEN_B], tickets_of(db_target, tmp_path, "anle"))) >= 2,
                        timeout=30)
                    offsets = {log: log.stat().st_size for log in survivors}
                    victim.send_signal(signal.SIGKILL)
                    killed_at = time.monotonic()
                    await victim.wait()
                    killed = victim
                await asyncio.sleep(0.05)
            # Takeover: a survivor logs that it took the dead process's token.
            needle = f"token {lease_key(TOKEN_B)} taken".encode()
            while takeover < 0:
                if any(needle in log.read_bytes()[offsets[log]:] for log in survivors):
                    takeover = time.monotonic() - killed_at
                    break
                assert time.monotonic() - killed_at < 30, "token not taken over in 30 s"
                await asyncio.sleep(0.05)

            def all_acknowledged() -> bool:
                for community, reports in posted.items():
                    token = COMMUNITIES[community][0]
                    acks = acknowledgements(servers[token],
                                            tickets_of(db_target, tmp_path, community))
                    if not set(reports) <= set(acks):
                        return False
                return True

            deadline = loop.time() + 90
            while not await asyncio.to_thread(all_acknowledged):
                assert loop.time() < deadline, "not every report was acknowledged"
                await asyncio.sleep(0.25)
            await asyncio.sleep(1.0)  # anything sent twice would show up now
            after = holdings([log for log in logs if log is not victim_log])
            assert set().union(*after) == set(keys)  # the survivors hold every token
            assert sorted(len(h) for h in after) == [1, 2]  # share ceil(3 / 2) = 2
        finally:
            codes = []
            for proc in procs:
                if proc is killed:
                    continue
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                codes.append(await asyncio.wait_for(proc.wait(), timeout=60))
        assert codes == [0, 0], [log.read_text(errors="replace")[-3000:] for log in logs]
        # Never two pollers on one token (a second getUpdates would end the first: 409).
        assert {lease_key(t): s.poll_conflicts for t, s in servers.items()} == dict.fromkeys(
            keys, 0)
        acks = {c: acknowledgements(servers[COMMUNITIES[c][0]],
                                    tickets_of(db_target, tmp_path, c)) for c in COMMUNITIES}

    print(f"takeover of {lease_key(TOKEN_B)} after the SIGKILL: {takeover:.1f} s")
    assert 0 < takeover < 30
    for community, reports in posted.items():
        target, schema = database(db_target, tmp_path, community)
        tickets = query(target, "SELECT source_chat_id, source_message_id FROM tickets",
                        schema=schema)
        assert sorted(tickets) == sorted(reports), community  # each report once, none lost
        [(unhandled,)] = query(target, "SELECT count(*) FROM inbox WHERE processed_at IS NULL",
                               schema=schema)
        assert unhandled == 0
        [(resent,)] = query(target, "SELECT count(*) FROM outbox WHERE suspect_since IS NOT "
                                    "NULL", schema=schema)
        doubled = sum(n - 1 for n in acks[community].values())
        assert set(acks[community]) == set(reports)
        assert doubled <= resent <= 8, community  # only what was on the wire repeats
        if community != "anle":
            assert resent == 0  # its holder never died
