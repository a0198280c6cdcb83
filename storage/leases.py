"""Token leases: which process acts for a bot token (polls it, sends for it, runs its
scheduler). Every other process stands by and retries.

Two implementations, one per backend, both freed by the operating system or the server
the moment the holder dies, so no expiry time has to be guessed:

* :class:`FileLease` (SQLite, one host): a non-blocking ``fcntl.flock`` on
  ``<db>.lease-<key>``. The kernel drops the lock when the holder's descriptor closes,
  which a killed process's does.
* :class:`PostgresLease`: a session-level ``pg_try_advisory_lock`` on a dedicated
  connection held for the lease's life. A killed process's connection closes and the
  server frees the lock at once; the holder checks its connection periodically
  (:meth:`Lease.check`) and gives up acting the moment it is lost.

Keys derive from the bot id (the token's part before ``':'``), never from the secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = [
    "FileLease",
    "FilePresence",
    "Lease",
    "PostgresLease",
    "PostgresPresence",
    "Presence",
    "lease_key",
    "open_lease",
    "open_presence",
    "postgres_lock_ids",
]

#: First half of the two-int advisory lock id of every GridBot token lease. The two-int
#: form never collides with the single-bigint form the write transactions use.
LEASE_CLASS_ID = 0x47424C53  # "GBLS"
#: First half of the member-slot locks of a deployment's processes (:class:`Presence`).
MEMBER_CLASS_ID = 0x47424D53  # "GBMS"
#: Member slots per deployment: at most this many processes count as members.
MEMBER_SLOTS = 64


class Lease(Protocol):
    """One process's claim on a bot token."""

    key: str

    @property
    def held(self) -> bool: ...

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; True when this process holds it now."""
        ...

    async def check(self) -> bool:
        """True while the lease is still held. False once lost: the caller stops acting
        and then calls :meth:`release` (which another process may be waiting for)."""
        ...

    async def release(self) -> None:
        """Give the lease up (idempotent)."""
        ...


def lease_key(token: str) -> str:
    """``bot-<id>`` from a token ``<id>:<secret>``; the secret is never part of it."""
    bot_id = token.split(":", 1)[0].strip()
    if not bot_id.isdigit() or not bot_id.isascii():
        raise ValueError("令牌格式不正确:冒号前应为机器人的数字 id")
    return f"bot-{int(bot_id)}"


def postgres_lock_ids(key: str) -> tuple[int, int]:
    """The two int4 halves of the advisory lock for ``key`` (stable across processes)."""
    digest = hashlib.sha256(key.encode()).digest()
    return LEASE_CLASS_ID, int.from_bytes(digest[:4], "big", signed=True)


class FileLease:
    """An exclusive ``flock`` on ``<db>.lease-<key>`` (SQLite deployments, one host).

    Each instance opens its own descriptor, so two instances in one process exclude each
    other as two processes do (flock locks belong to the open file description)."""

    def __init__(self, db_path: str | os.PathLike[str], key: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", key):
            raise ValueError(f"bad lease key {key!r}")
        self.key = key
        self.path = Path(f"{os.fspath(db_path)}.lease-{key}")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for an operator
        self._fd = fd
        return True

    async def check(self) -> bool:
        # The kernel keeps the lock while the descriptor is open; a deleted or replaced
        # lock file would let another process lock a new inode, so compare them.
        if self._fd is None:
            return False
        try:
            same = os.fstat(self._fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            same = False
        if not same:  # the caller stops acting, then calls release()
            log.error("lease file %s was removed or replaced; lease lost", self.path)
        return same

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class PostgresLease:
    """A session-level advisory lock on a connection of its own (PostgreSQL)."""

    def __init__(self, url: str, key: str, *, check_timeout: float = 5.0) -> None:
        self.key = key
        self.url = url
        self.check_timeout = check_timeout
        self._ids = postgres_lock_ids(key)
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    async def try_acquire(self) -> bool:
        if self._conn is not None:
            return await self.check()
        import asyncpg  # only PostgreSQL deployments need it

        # A holder whose machine dies sends no FIN: TCP keepalives let the server see the
        # dead session (and free the lock) within ~20 s instead of the OS's hours.
        conn = await asyncpg.connect(self.url, timeout=self.check_timeout, server_settings={
            "application_name": f"gridbot-lease-{self.key}", "tcp_keepalives_idle": "5",
            "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"})
        try:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", *self._ids))
        except BaseException:
            await _close(conn)
            raise
        if not got:
            await _close(conn)
            return False
        self._conn = conn
        return True

    async def check(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            # The lock lives as long as this session: a live session still holds it.
            alive = await asyncio.wait_for(conn.fetchval("SELECT 1"), self.check_timeout)
        except Exception as error:  # connection lost, server restarted, timeout
            log.error("lease %s: connection lost (%s); lease given up", self.key, error)
            alive = None
        return alive == 1  # a dead session's lock is already gone; release() closes it

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                conn.fetchval("SELECT pg_advisory_unlock($1, $2)", *self._ids),
                self.check_timeout)
        await _close(conn)


async def _close(conn: Any) -> None:
    try:
        await asyncio.wait_for(conn.close(), 2.0)
    except Exception:
        conn.terminate()


def open_lease(target: str, token: str) -> Lease:
    """The lease for ``token`` that fits the database ``target`` (a SQLite path or a
    ``postgresql://`` URL)."""
    key = lease_key(token)
    if target.startswith(("postgresql://", "postgres://")):
        return PostgresLease(target, key)
    return FileLease(target, key)


# --------------------------------------------------------------------------- presence


class Presence(Protocol):
    """A process's membership of a deployment: it holds one of ``MEMBER_SLOTS`` slot locks
    (freed by the system when it dies, like a lease), and counts the slots held by anyone
    to estimate how many processes are alive — no membership protocol, no heartbeats."""

    key: str
    slot: int | None

    async def join(self) -> int:
        """Take the first free slot; its index. Raises RuntimeError when all are taken."""
        ...

    async def members(self) -> int:
        """How many slots are held right now (this process's included)."""
        ...

    async def check(self) -> bool:
        """True while this process still holds its slot."""
        ...

    async def unheld(self, leases: Sequence[Lease]) -> list[Lease]:
        """Those of ``leases`` that look free (a hint: taking one may still fail)."""
        ...

    async def leave(self) -> None:
        """Give the slot up (idempotent)."""
        ...


class FilePresence:
    """Member slots as ``flock`` files ``<db>.lease-<key>-member-<i>`` (one host).

    A slot is counted as held when a shared non-blocking lock on it fails; the probe's
    lock is dropped at once, so a process joining meanwhile merely takes the next slot."""

    def __init__(self, db_path: str | os.PathLike[str], key: str,
                 slots: int = MEMBER_SLOTS) -> None:
        self.key = key
        self.db_path = os.fspath(db_path)
        self.slots = slots
        self.slot: int | None = None
        self._lease: FileLease | None = None

    def _slot_lease(self, index: int) -> FileLease:
        return FileLease(self.db_path, f"{self.key}-member-{index}")

    async def join(self) -> int:
        if self.slot is not None:
            return self.slot
        for index in range(self.slots):
            lease = self._slot_lease(index)
            if await lease.try_acquire():
                self._lease, self.slot = lease, index
                return index
        raise RuntimeError(f"all {self.slots} member slots of {self.key} are taken")

    async def members(self) -> int:
        count = 0
        for index in range(self.slots):
            path = self._slot_lease(index).path
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                count += 1
            finally:
                os.close(fd)  # closing drops a probe's shared lock
        return count

    async def check(self) -> bool:
        return self._lease is not None and await self._lease.check()

    async def unheld(self, leases: Sequence[Lease]) -> list[Lease]:
        return [lease for lease in leases if not lease.held]  # trying a flock is cheap

    async def leave(self) -> None:
        lease, self._lease, self.slot = self._lease, None, None
        if lease is not None:
            await lease.release()


def _member_lock_id(key: str, index: int) -> int:
    digest = hashlib.sha256(f"{key}-member-{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class PostgresPresence:
    """Member slots as session-level advisory locks on a connection of its own; members
    and free token leases are read from ``pg_locks`` in one query each."""

    def __init__(self, url: str, key: str, *, slots: int = MEMBER_SLOTS,
                 timeout: float = 5.0) -> None:
        self.key = key
        self.url = url
        self.slots = slots
        self.timeout = timeout
        self.slot: int | None = None
        self._ids = [_member_lock_id(key, index) for index in range(slots)]
        self._conn: Any = None

    async def join(self) -> int:
        if self.slot is not None:
            return self.slot
        import asyncpg

        conn = await asyncpg.connect(self.url, timeout=self.timeout, server_settings={
            "application_name": f"gridbot-member-{self.key}"[:63],
            "tcp_keepalives_idle": "5", "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3"})
        try:
            for index, lock_id in enumerate(self._ids):
                if await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)",
                                       MEMBER_CLASS_ID, lock_id):
                    self._conn, self.slot = conn, index
                    return index
        except BaseException:
            await _close(conn)
            raise
        await _close(conn)
        raise RuntimeError(f"all {self.slots} member slots of {self.key} are taken")

    async def _held(self, class_id: int, ids: Sequence[int]) -> set[int]:
        """Which of the two-int advisory locks ``(class_id, id)`` are granted to anyone
        (``pg_locks`` shows the second half as an unsigned oid)."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("join first")
        rows = await asyncio.wait_for(conn.fetch(
            "SELECT objid::bigint AS id FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND objsubid = 2 AND classid::bigint = $1 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND objid::bigint = ANY($2::bigint[])",
            class_id & 0xFFFFFFFF, [i & 0xFFFFFFFF for i in ids]), self.timeout)
        return {int(row["id"]) for row in rows}

    async def members(self) -> int:
        return len(await self._held(MEMBER_CLASS_ID, self._ids))

    async def check(self) -> bool:
        conn = self._conn
        if conn is None:
            return False
        try:
            return await asyncio.wait_for(conn.fetchval("SELECT 1"), self.timeout) == 1
        except Exception as error:
            log.error("presence %s: connection lost (%s)", self.key, error)
            return False

    async def unheld(self, leases: Sequence[Lease]) -> list[Lease]:
        wanted = [lease for lease in leases if not lease.held]
        halves = {lease.key: postgres_lock_ids(lease.key)[1] for lease in wanted}
        held = await self._held(LEASE_CLASS_ID, list(halves.values()))
        return [lease for lease in wanted if halves[lease.key] & 0xFFFFFFFF not in held]

    async def leave(self) -> None:
        conn, self._conn, self.slot = self._conn, None, None
        if conn is not None:
            await _close(conn)  # closing the session frees its slot


def open_presence(target: str, key: str) -> Presence:
    """The member slots of deployment ``key`` beside the database ``target``."""
    if target.startswith(("postgresql://", "postgres://")):
        return PostgresPresence(target, key)
    return FilePresence(target, key)
