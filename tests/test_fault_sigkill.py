"""The bot process killed (SIGKILL) in the middle of a burst, then restarted.

The bot runs as a real subprocess (``bot.py run``) against the local Bot API server
hosted by the test, on SQLite and on PostgreSQL. Every report the server delivered must
become exactly one ticket,
and every report must get its acknowledgement card; a card can only appear twice if its
send was in flight at the moment of the kill (Telegram gives no way to know whether it
arrived), and those are counted by the bot and bounded here.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from pathlib import Path

from community import example_config_text
from localapi import LocalBotApi
from tests.support.backends import query
from ui.texts import fold_card_numbers

ROOT = Path(__file__).resolve().parent.parent
# Three groups of the first grid, so the acknowledgements stay within Telegram's
# 20 messages per minute per group and the test does not wait on the rate limiter.
GROUPS = (-1001000000001, -1001000000003, -1001000000004)
REPORTS = 36


def report_text(index: int) -> str:
    building = index % 12 + 1
    problems = ["楼道灯坏了", "门口下水道堵了", "单元门禁坏了", "楼道堆满杂物",
                "有人在楼道给电动车充电", "楼上漏水到我家"]
    return f"{building}号楼{index // 12 + 1}单元{problems[index % len(problems)]}"


async def start_bot(server: LocalBotApi, config: Path, db: str,
                    log: Path) -> asyncio.subprocess.Process:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=server.token, PYTHONPATH=str(ROOT))
    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "run", "--no-web", "--config", str(config), "--db", db,
        "--api-url", server.base_url, env=env, cwd=str(ROOT),
        stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT,
    )


def ticket_reports(db: str) -> dict[str, tuple[int, int]]:
    """Ticket number -> (chat id, report message id), read while the bot runs."""
    with contextlib.suppress(sqlite3.Error):  # SQLite: the bot has not created the file yet
        return {n: (c, m) for n, c, m in query(
            db, "SELECT number, source_chat_id, source_message_id FROM tickets")}
    return {}


def cards_by_report(server: LocalBotApi, db: str) -> dict[tuple[int, int], int]:
    """(chat id, report message id) -> how many acknowledgements answered it: its own card
    or its line in a combined message (a group short of its allowance gets those)."""
    counts: dict[tuple[int, int], int] = {}
    numbers = ticket_reports(db)
    for request in server.sent(method="sendMessage"):
        text = request.params.get("text") or ""
        if text.startswith("📋 工单 #"):
            reply_to = (int(str(request.chat_id)), request.params["reply_parameters"]["message_id"])
            counts[reply_to] = counts.get(reply_to, 0) + 1
        for number in fold_card_numbers(text):
            if number in numbers:
                counts[numbers[number]] = counts.get(numbers[number], 0) + 1
    return counts


def repeated_messages(server: LocalBotApi) -> int:
    """Acknowledgements sent more than once (the same text to the same chat)."""
    seen: dict[tuple[int, str], int] = {}
    for request in server.sent(method="sendMessage"):
        text = request.params.get("text") or ""
        if text.startswith("📋 工单 #") or fold_card_numbers(text):
            key = (int(str(request.chat_id)), text)
            seen[key] = seen.get(key, 0) + 1
    return sum(n - 1 for n in seen.values())


async def test_sigkill_mid_burst_loses_nothing_and_repeats_nothing(tmp_path: Path,
                                                                   db_path: str) -> None:
    config = tmp_path / "community.toml"
    config.write_text(example_config_text().replace(
        "chats = [-1001000000001]", f"chats = [{', '.join(map(str, GROUPS))}]"), encoding="utf-8")
    db = db_path
    log = tmp_path / "bot.log"
    async with LocalBotApi() as server:
        server.user(1000, "张书记")
        residents = list(range(5000, 5000 + REPORTS))
        for user in residents:
            server.user(user, f"居民{user}")
        for group in GROUPS:
            server.group(group, f"阳光花园群{group}", admins=[1000], members=[1000, *residents])

        bot = await start_bot(server, config, db, log)
        await server.wait_for(lambda: server.poll_count > 0, timeout=30)
        reports = []
        for index, user in enumerate(residents):
            group = GROUPS[index % len(GROUPS)]
            reports.append(await server.post(group, user, report_text(index)))
            await server.post(group, user, "谢谢大家")  # chatter in between
            if index == REPORTS // 2:
                # Mid-burst: wait until some cards went out, then kill without warning.
                await server.wait_for(lambda: len(cards_by_report(server, db)) >= 5, timeout=30)
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
        killed_with = len(cards_by_report(server, db))
        assert 0 < killed_with < REPORTS

        bot = await start_bot(server, config, db, log)
        try:
            report_ids = {(m.chat.id, m.message_id) for m in reports}
            await server.wait_for(lambda: report_ids <= set(cards_by_report(server, db)), timeout=60)
            await asyncio.sleep(0.5)  # anything sent twice would show up now
        finally:
            bot.send_signal(signal.SIGTERM)
            exit_code = await asyncio.wait_for(bot.wait(), timeout=30)
        assert exit_code == 0, log.read_text(errors="replace")[-3000:]

    tickets = query(db, "SELECT source_chat_id, source_message_id FROM tickets")
    [(resent,)] = query(db, "SELECT count(*) FROM outbox WHERE last_error = 'in flight at restart'")
    [(unhandled,)] = query(db, "SELECT count(*) FROM inbox WHERE processed_at IS NULL")
    assert sorted(tickets) == sorted(report_ids)  # each report once, none lost
    assert unhandled == 0
    duplicates = repeated_messages(server)
    print(f"killed after {killed_with} cards; resent {resent}; duplicates {duplicates}")
    assert duplicates <= resent <= 8  # only sends cut off by the kill can repeat


def fold_in_flight(db: str, after_row: int) -> str | None:
    """The text of the combined message in flight, of those queued after ``after_row``."""
    with contextlib.suppress(sqlite3.Error):
        rows = query(db, "SELECT text FROM outbox WHERE kind = 'fold' "
                         "AND in_flight_at IS NOT NULL AND id > ?", after_row)
        return str(rows[0][0]) if rows else None
    return None


async def test_sigkill_during_a_combined_send_repeats_only_what_was_on_the_wire(
        tmp_path: Path, db_path: str) -> None:
    """Issue 15: a group short of its allowance gets one combined acknowledgement; the bot
    dies while it is on the wire (Telegram posts it, the bot never hears back). After the
    restart that one message goes out again, identical, and nothing else is repeated; the
    unseen first copy is found and deleted, so no stale copy stays at 已受理."""
    group = GROUPS[0]
    config = tmp_path / "community.toml"
    config.write_text(example_config_text(), encoding="utf-8")
    db, log = db_path, tmp_path / "bot.log"
    async with LocalBotApi() as server:
        server.user(1000, "张书记")
        residents = list(range(5000, 5015))
        for user in residents:
            server.user(user, f"居民{user}")
        server.group(group, "阳光花园群", admins=[1000], members=[1000, *residents])
        bot = await start_bot(server, config, db, log)
        await server.wait_for(lambda: server.poll_count > 0, timeout=30)
        reports = [await server.post(group, user, report_text(index))
                   for index, user in enumerate(residents[:5])]
        await server.wait_for(lambda: len(cards_by_report(server, db)) == 5, timeout=30)
        # Every group send now takes 3 s to answer: a combined message stays on the wire.
        held = server.faults.delay(3.0, methods="sendMessage", chat_id=group)
        # A combined message of the first five (the workers' notices fall back to the
        # group) may still be on the wire, undelayed: only rows queued from now on count.
        [(delayed_from,)] = query(db, "SELECT coalesce(max(id), 0) FROM outbox")
        reports += [await server.post(group, user, report_text(index))
                    for index, user in enumerate(residents[5:], start=5)]
        on_the_wire = None
        for _ in range(1500):  # the database is not the server: poll it
            # in a thread: a synchronous read would stall this loop, which also runs the
            # local Bot API server whose delayed answers keep the fold on the wire
            on_the_wire = await asyncio.to_thread(fold_in_flight, db, delayed_from)
            if on_the_wire is not None:
                break
            await asyncio.sleep(0.02)
        assert on_the_wire is not None, "no combined message went in flight"
        # Claimed is not yet sent: kill only once the server holds the whole request.
        await server.wait_for(lambda: any(p.get("text") == on_the_wire for p in held.applied),
                              timeout=30)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        assert query(db, "SELECT text FROM outbox WHERE kind = 'fold' "
                         "AND in_flight_at IS NOT NULL AND id > ?",
                     delayed_from) == [(on_the_wire,)]
        first_copy = await server.wait_for(lambda: [
            r for r in server.sent(chat_id=group, method="sendMessage")
            if r.params.get("text") == on_the_wire], timeout=30)
        server.faults.clear()

        bot = await start_bot(server, config, db, log)
        try:
            report_ids = {(m.chat.id, m.message_id) for m in reports}
            await server.wait_for(lambda: report_ids <= set(cards_by_report(server, db)),
                                  timeout=60)
            await server.wait_for(lambda: server.sent(chat_id=group, method="deleteMessage"),
                                  timeout=30)
            await asyncio.sleep(0.5)  # anything sent twice would show up now
        finally:
            bot.send_signal(signal.SIGTERM)
            exit_code = await asyncio.wait_for(bot.wait(), timeout=30)
        assert exit_code == 0, log.read_text(errors="replace")[-3000:]

    sent = [(r, r.params.get("text") or "")
            for r in server.sent(chat_id=group, method="sendMessage")]
    # every card and every combined message (the one on the wire may hold only notices)
    acks = [r for r, text in sent
            if text.startswith(("📋 工单 #", "📮")) or fold_card_numbers(text)]
    texts_sent = [r.params.get("text") for r in acks]
    repeated = {t for t in texts_sent if texts_sent.count(t) > 1}
    assert repeated == {on_the_wire}  # the message on the wire, and only it
    assert texts_sent.count(on_the_wire) == 2
    # Every report acknowledged by exactly one distinct message.
    numbers = ticket_reports(db)
    by_report: dict[tuple[int, int], set[str | None]] = {}
    for request in acks:
        for number in fold_card_numbers(request.params.get("text") or ""):
            by_report.setdefault(numbers[number], set()).add(request.params.get("text"))
        if (request.params.get("text") or "").startswith("📋 工单 #"):
            key = (group, request.params["reply_parameters"]["message_id"])
            by_report.setdefault(key, set()).add(request.params.get("text"))
    assert set(by_report) == report_ids
    assert all(len(texts) == 1 for texts in by_report.values())
    assert first_copy[0].message is not None
    stale = server.message(group, first_copy[0].message.message_id)
    assert stale is None or stale.deleted
