"""The tests' own PostgreSQL (tests/support/pg.py): a clear failure naming what to install
when it cannot start, databases emptied and reused between tests, and the server gone
however the run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import pg
from tests.support.backends import rows
from tests.support.pg import PgServer

ROOT = Path(__file__).resolve().parent.parent


def test_missing_binaries_fail_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDBOT_PG_BINDIR", "/nonexistent")
    with pytest.raises(pg.PgUnavailable, match="apt-get install postgresql"):
        pg.start()
    monkeypatch.delenv("GRIDBOT_PG_BINDIR")
    monkeypatch.setattr(pg.glob, "glob", lambda _pattern: [])
    monkeypatch.setattr(pg.shutil, "which", lambda _name: None)
    with pytest.raises(pg.PgUnavailable, match="apt-get install postgresql"):
        pg.start()


def test_a_failing_initdb_is_reported_not_skipped(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("initdb", "pg_ctl"):
        (fake / name).write_text("#!/bin/sh\necho 'initdb: could not create directory' >&2\n"
                                 "exit 1\n")
        (fake / name).chmod(0o755)
    fake.chmod(0o755)
    tmp_path.chmod(0o755)  # the postgres user (when root) must reach the scripts
    monkeypatch.setenv("GRIDBOT_PG_BINDIR", str(fake))
    with pytest.raises(pg.PgUnavailable, match="initdb failed"):
        pg.start()


async def test_a_database_is_emptied_before_the_next_test_gets_it(pg_server: PgServer) -> None:
    from storage import open_database
    from tests.support.tickets import T0
    from tickets.clock import FakeClock

    name = pg_server.new_database()
    db = await open_database(pg_server.url(name), clock=FakeClock(T0))
    async with db.transaction() as uow:
        await uow.people.seen(7001, username="x", display_name="住户")
    await db.close()
    pg_server.release(name)
    again = pg_server.new_database()
    assert again == name  # reused, not copied again
    db = await open_database(pg_server.url(again), clock=FakeClock(T0))
    try:
        assert await rows(db, "SELECT count(*) FROM people") == [(0,)]
    finally:
        await db.close()
        pg_server.release(again)


def test_the_server_is_removed_when_the_test_process_is_killed() -> None:
    script = ("import os, signal\nfrom tests.support import pg\ns = pg.start()\n"
              "print(s.root, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    root = Path(done.stdout.strip())
    assert root.name.startswith("gridbot-pg-")
    for _ in range(300):  # the watchdog stops the server and removes its directory
        if not root.exists():
            break
        time.sleep(0.1)
    assert not root.exists()
    assert not any(str(root) in _cmdline(pid) for pid in _pids())


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
