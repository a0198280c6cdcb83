"""Helpers of the several-processes tests: `gridbot run` subprocesses sharing one database,
and what their acknowledgements look like from the local Bot API's side."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from localapi import LocalBotApi
from ui.texts import fold_card_numbers

ROOT = Path(__file__).resolve().parent.parent.parent


async def start_run(server: LocalBotApi, config: Path, db: Path, log: Path,
                    *extra: str) -> asyncio.subprocess.Process:
    """``bot.py run`` against ``server``, output appended to ``log``."""
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=server.token, PYTHONPATH=str(ROOT))
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), "run", "--no-web", "--config", str(config),
            "--db", str(db), "--api-url", server.base_url, *extra, env=env, cwd=str(ROOT),
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)


def ticket_reports(db: Path) -> dict[str, tuple[int, int]]:
    """Ticket number → (chat id, report message id), read while the bots run."""
    with contextlib.suppress(sqlite3.Error), contextlib.closing(
            sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)) as conn:
        return {n: (c, m) for n, c, m in conn.execute(
            "SELECT number, source_chat_id, source_message_id FROM tickets")}
    return {}


def acknowledgements(server: LocalBotApi, db: Path) -> Counter[tuple[int, int]]:
    """(chat id, report message id) → acknowledgements sent: its card, or its line in a
    combined message."""
    counts: Counter[tuple[int, int]] = Counter()
    numbers = ticket_reports(db)
    for request in server.sent(method="sendMessage"):
        text = request.params.get("text") or ""
        if text.startswith("📋 工单 #"):
            counts[(int(str(request.chat_id)), request.params["reply_parameters"]["message_id"])] += 1
        for number in fold_card_numbers(text):
            if number in numbers:
                counts[numbers[number]] += 1
    return counts


def resent_after_takeover(db: Path) -> int:
    """Rows that were on the wire when their sender died (sent again: at least once)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox "
                                "WHERE suspect_since IS NOT NULL").fetchone()[0])


def report_text(index: int) -> str:
    building = index % 12 + 1
    problems = ["楼道灯坏了", "门口下水道堵了", "单元门禁坏了", "楼道堆满杂物",
                "有人在楼道给电动车充电", "楼上漏水到我家"]
    return f"{building}号楼{index // 12 + 1}单元{problems[index % len(problems)]}"


def held_tokens(log_text: str) -> set[str]:
    """The lease keys (``bot-<id>``) a ``gridbot run --deployment`` process holds according
    to its log (runtime/spread.py logs ``token bot-<id> taken`` / ``released`` / ``lost``)."""
    held: set[str] = set()
    for line in log_text.splitlines():
        match = _TOKEN_EVENT.search(line)
        if match is None:
            continue
        if match["what"] == "taken":
            held.add(match["key"])
        else:
            held.discard(match["key"])
    return held


_TOKEN_EVENT = re.compile(r"token (?P<key>bot-\d+) (?P<what>taken|released|lost)\b")
