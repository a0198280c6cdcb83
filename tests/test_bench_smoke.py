"""Smoke test of the end-to-end bench: ``bench/e2e.py --quick`` runs the real bot in a
subprocess against the local Bot API for 3 s at 10 and 50 msg/s and must finish cleanly.

It fails when the bench itself breaks (its corpus no longer reads as intended, the bot
does not start, a table row is missing) and when the bot loses or doubles a ticket or an
acknowledgement, crashes, logs an error or does not drain: the bench exits 1 then.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: A final-table row: rate, achieved, tickets created/expected, supporters, ..., ok.
ROW = re.compile(
    r"^\|\s+(\d+)\s+\|\s+[\d.]+\s+\|\s+(\d+)/(\d+)\s+\|\s+(\d+)/(\d+)\s+\|.*\|\s+(yes|NO)\s+\|$",
    re.MULTILINE)


def test_e2e_bench_quick_runs_and_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "e2e.py"), "--quick", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "| rate/s |" in done.stdout, output[-4000:]
    rows = {int(m[0]): m for m in ROW.findall(done.stdout)}
    assert set(rows) == {10, 50}, output[-4000:]
    for rate, tickets, expected, supporters, supports, ok in rows.values():
        assert tickets == expected and int(expected) > 0, f"{rate}/s: tickets {tickets}/{expected}"
        assert supporters == supports, f"{rate}/s: supporters {supporters}/{supports}"
        assert ok == "yes", output[-4000:]
    missing = re.findall(r"^acks missing: (\d+) ", done.stdout, re.MULTILINE)
    assert missing == ["0", "0"], output[-4000:]


def test_e2e_bench_runs_a_deployment_of_three_communities() -> None:
    """``--communities 3``: one ``gridbot run --deployment`` process, two tokens (the last
    two communities share one); the per-community table has a ``yes`` row for each."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "e2e.py"), "--rates", "10", "--seconds", "3",
         "--drain-timeout", "60", "--communities", "3", "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    rows = re.findall(r"^\|\s+10 \|\s+(community\d)\s+\|\s+(T\d)\s+\|\s+(\d+)/(\d+)\s+\|\s+0 \|"
                      r".*\|\s+(yes|NO) \|$", done.stdout, re.MULTILINE)
    assert [(c, t) for c, t, *_ in rows] == [
        ("community1", "T1"), ("community2", "T2"), ("community3", "T2")], output[-4000:]
    for community, _token, tickets, expected, ok in rows:
        assert tickets == expected and int(expected) > 0, f"{community}: {tickets}/{expected}"
        assert ok == "yes", output[-4000:]
    assert done.stdout.rstrip().endswith("overall: ok"), output[-4000:]
