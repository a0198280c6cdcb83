"""Token leases: keys from the bot id only, the SQLite flock lease, the keeper's roles."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from runtime.lease import LeaseKeeper
from storage.leases import (
    FileLease,
    PostgresLease,
    PostgresPresence,
    lease_key,
    open_lease,
    open_presence,
    postgres_lock_ids,
)
from tests.support import pg

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000000001:AAF-secret-part-never-in-a-key"


def holder_pid(lease: FileLease) -> int:
    """The pid the holder wrote into the lease file (for an operator)."""
    return int(lease.path.read_text().strip())


def test_key_is_the_bot_id_never_the_secret() -> None:
    assert lease_key(TOKEN) == "bot-7000000001"
    assert "secret" not in lease_key(TOKEN)
    ids = postgres_lock_ids(lease_key(TOKEN))
    assert ids == postgres_lock_ids("bot-7000000001")  # stable across processes
    assert ids != postgres_lock_ids("bot-7000000002")
    assert all(-(2**31) <= part < 2**31 for part in ids)  # the two int4 halves


@pytest.mark.parametrize("token", ["", "abc:def", "12a:x", "１２:x"])
def test_a_token_without_a_bot_id_is_refused_in_chinese(token: str) -> None:
    with pytest.raises(ValueError, match="令牌格式不正确"):
        lease_key(token)


def test_open_lease_fits_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_lease(str(tmp_path / "g.db"), TOKEN), FileLease)
    lease = open_lease("postgresql://u@127.0.0.1:1/db", TOKEN)
    assert isinstance(lease, PostgresLease) and lease.key == "bot-7000000001"


async def test_one_holder_at_a_time_and_freed_on_release(tmp_path: Path) -> None:
    db = tmp_path / "gridbot.db"
    first, second = FileLease(db, "bot-1"), FileLease(db, "bot-1")
    other_token = FileLease(db, "bot-2")
    assert await first.try_acquire()
    assert await first.try_acquire()  # re-entrant for its holder
    assert not await second.try_acquire()
    assert await other_token.try_acquire()  # each token has its own lease
    assert holder_pid(first) == os.getpid()
    assert await first.check()
    await first.release()
    await first.release()  # idempotent
    assert not first.held and not await first.check()
    assert await second.try_acquire()
    await second.release()
    await other_token.release()


async def test_a_removed_lease_file_counts_as_lost(tmp_path: Path) -> None:
    lease = FileLease(tmp_path / "g.db", "bot-1")
    assert await lease.try_acquire()
    lease.path.unlink()  # someone else could now lock a new file of that name
    assert not await lease.check()
    await lease.release()  # the holder stops acting, then releases
    assert not lease.held


async def test_a_killed_holder_frees_the_lease(tmp_path: Path) -> None:
    """The kernel drops a dead process's flock: no expiry to wait for."""
    db = tmp_path / "g.db"
    script = ("import asyncio, sys, time\n"
              "from storage.leases import FileLease\n"
              f"lease = FileLease({str(db)!r}, 'bot-9')\n"
              "assert asyncio.run(lease.try_acquire())\n"
              "print('held', flush=True)\n"
              "time.sleep(60)\n")
    root = ROOT
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script,
        cwd=root, stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"held"
        mine = FileLease(db, "bot-9")
        assert not await mine.try_acquire()
        proc.kill()
        await proc.wait()
        assert await mine.try_acquire()
        await mine.release()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.changed = asyncio.Event()

    async def activate(self) -> None:
        self.events.append("active")
        self.changed.set()

    async def deactivate(self) -> None:
        self.events.append("standby")
        self.changed.set()

    async def next(self) -> None:
        await asyncio.wait_for(self.changed.wait(), 10)
        self.changed.clear()


async def test_keeper_stands_by_takes_over_and_gives_up_a_lost_lease(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    a, b = Recorder(), Recorder()
    first = LeaseKeeper(FileLease(db, "bot-1"), activate=a.activate,
                        deactivate=a.deactivate, retry=0.05, check=0.05)
    second_lease = FileLease(db, "bot-1")
    second = LeaseKeeper(second_lease, activate=b.activate, deactivate=b.deactivate,
                         retry=0.05, check=0.05)
    await first.start()
    await second.start()
    assert (a.events, b.events) == (["active"], [])
    assert first.active and not second.active
    # The holder's lease is lost (its file replaced): it stops acting, the other takes over.
    first.lease.path.unlink()  # type: ignore[attr-defined]
    await a.next()
    await b.next()
    assert a.events == ["active", "standby"] and b.events == ["active"]
    await first.stop()
    await second.stop()
    await second_lease.release()


async def test_a_failed_first_activation_gives_the_lease_back(tmp_path: Path) -> None:
    lease = FileLease(tmp_path / "g.db", "bot-1")

    async def broken() -> None:
        raise RuntimeError("token rejected")

    async def nothing() -> None:
        return None

    keeper = LeaseKeeper(lease, activate=broken, deactivate=nothing)
    with pytest.raises(RuntimeError):
        await keeper.start()
    assert not lease.held
    assert await FileLease(tmp_path / "g.db", "bot-1").try_acquire()


async def test_postgres_lease_one_holder_and_freed_when_its_session_dies(
        pg_server: pg.PgServer) -> None:
    url = pg_server.url()
    first, second = PostgresLease(url, "bot-1"), PostgresLease(url, "bot-1")
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.check()
    first._conn.terminate()  # the holder's connection dies (a killed process)
    assert not await first.check()
    await first.release()
    assert await second.try_acquire()  # the server freed the lock at once
    await second.release()
    assert await first.try_acquire()
    await first.release()


# ------------------------------------------------------------ member slots (presence)

TOKEN_2 = "7000000002:AAF-another-secret-never-in-a-key"


async def test_member_slots_count_the_processes_of_one_deployment(db_target: str) -> None:
    a, b = open_presence(db_target, "deployment-x"), open_presence(db_target, "deployment-x")
    other = open_presence(db_target, "deployment-y")
    try:
        assert await a.join() == 0
        assert await a.join() == 0  # joined once
        assert await a.members() == 1
        assert await b.join() == 1
        assert await a.members() == 2 and await b.members() == 2
        assert await other.join() == 0 and await other.members() == 1  # its own slots
        assert await a.check()
        await a.leave()
        await a.leave()  # idempotent
        assert not await a.check()
        assert await b.members() == 1
        c = open_presence(db_target, "deployment-x")
        assert await c.join() == 0  # the freed slot is taken again
        assert await b.members() == 2
        await c.leave()
    finally:
        for presence in (a, b, other):
            await presence.leave()


async def test_unheld_names_the_token_leases_nobody_holds(db_target: str) -> None:
    presence = open_presence(db_target, "deployment-x")
    holder = open_lease(db_target, TOKEN_2)  # its lock id's second half is negative
    assert postgres_lock_ids(holder.key)[1] < 0  # (pg_locks shows it as an unsigned oid)
    try:
        await presence.join()
        assert await holder.try_acquire()
        probes = [open_lease(db_target, TOKEN), open_lease(db_target, TOKEN_2)]
        free = [lease.key for lease in await presence.unheld(probes)]
        assert "bot-7000000001" in free
        if isinstance(presence, PostgresPresence):  # pg_locks shows the other's lock
            assert free == ["bot-7000000001"]
        assert [lease.key for lease in await presence.unheld([holder])] == []  # mine
    finally:
        await holder.release()
        await presence.leave()


async def test_a_killed_process_frees_its_member_slot(db_target: str) -> None:
    script = ("import asyncio\n"
              "from storage.leases import open_presence\n"
              "async def main():\n"
              f"    presence = open_presence({db_target!r}, 'deployment-x')\n"
              "    print('slot', await presence.join(), flush=True)\n"
              "    await asyncio.sleep(60)\n"
              "asyncio.run(main())\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    mine = open_presence(db_target, "deployment-x")
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"slot 0"
        assert await mine.join() == 1
        assert await mine.members() == 2
        proc.kill()
        await proc.wait()
        for _ in range(100):  # the server notices the closed session within moments
            if await mine.members() == 1:
                break
            await asyncio.sleep(0.05)
        assert await mine.members() == 1
    finally:
        await mine.leave()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
