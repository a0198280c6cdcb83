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
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = ["FileLease", "Lease", "PostgresLease", "lease_key", "open_lease",
           "postgres_lock_ids"]

#: First half of the two-int advisory lock id of every GridBot token lease. The two-int
#: form never collides with the single-bigint form the write transactions use.
LEASE_CLASS_ID = 0x47424C53  # "GBLS"


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
