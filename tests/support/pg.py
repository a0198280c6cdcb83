"""A throwaway PostgreSQL server for the test run.

Debian's ``initdb``/``pg_ctl`` (``/usr/lib/postgresql/<version>/bin``) build a cluster in a
temp directory and start it on a private free port with a private socket directory, fsync
off. ``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user
(``runuser -u postgres``) in a directory chowned to it. The server is stopped and its
directory removed at the end of the test session; a small watchdog process does the same
when the test process dies without tearing down (Ctrl+C twice, SIGKILL), so no cluster is
left running behind a test run.

When the server cannot be started (binaries missing, initdb or start failing) :func:`start`
raises :class:`PgUnavailable` with a message that names what to install: the tests that need
PostgreSQL fail, they are never skipped.

Each test gets a fresh database: a copy (``CREATE DATABASE … TEMPLATE``) of a template
migrated once per session, so it starts on an up-to-date, empty GridBot schema without running
the migrations again. Copying costs 250–700 ms on this 2-core machine (as much as migrating
a new schema), so a database a test has finished with is emptied (every table's rows deleted,
sequences restarted: about 40 ms) and handed to the next test, unless something is still
connected to it or the test added a schema; then it is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

T = TypeVar("T")

INSTALL_HINT = (
    "install Debian's PostgreSQL server (`apt-get install postgresql`; "
    "scripts/test.sh does it when run as root)"
)
TEMPLATE = "gridbot_template"

# Removes the cluster when the test process goes away without tearing it down: it waits
# for EOF on stdin (its parent's end of the pipe closes however the parent ends).
_WATCHDOG = r"""
import shutil, subprocess, sys
sys.stdin.read()
data, root, *pg_ctl = sys.argv[1:]
subprocess.run([*pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
shutil.rmtree(root, ignore_errors=True)
"""


class PgUnavailable(RuntimeError):
    """The test PostgreSQL could not be started; the message says why and what to do."""


def find_bindir() -> Path:
    """The newest Debian PostgreSQL server bin directory (holding initdb and pg_ctl)."""
    env = os.environ.get("GRIDBOT_PG_BINDIR")  # an explicit choice: only that directory
    if env:
        candidates = [Path(env)]
    else:
        versions = glob.glob("/usr/lib/postgresql/*/bin")
        candidates = sorted((Path(p) for p in versions), key=lambda p: _version(p.parent.name),
                            reverse=True)
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise PgUnavailable(
        "the tests need a PostgreSQL server but initdb/pg_ctl were not found (looked in "
        f"{env or '/usr/lib/postgresql/*/bin and PATH'}): {INSTALL_HINT}")


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix running a PostgreSQL binary as a non-root user, and that user
    (None: the current user, who is not root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PgUnavailable(
            "running as root, but there is no `postgres` user to run the test PostgreSQL as "
            f"(initdb refuses root): {INSTALL_HINT}, which creates it") from exc
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PgUnavailable("running as root, but `runuser` (util-linux) is missing: "
                            "install util-linux or run the tests as a normal user")
    return [runuser, "-u", "postgres", "--"], user


@dataclass
class PgServer:
    """A running throwaway cluster. Connect through :meth:`url`; stop with :meth:`stop`."""

    root: Path
    socket_dir: Path
    port: int
    prefix: list[str]
    bindir: Path
    watchdog: subprocess.Popen[bytes]
    user: str = "postgres"
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _admin: _Admin | None = None
    _free: list[str] = field(default_factory=list)  # emptied databases, ready for reuse
    _template_schemas: frozenset[str] = frozenset()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for ``database`` through the private socket directory."""
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{self.user}@/{database}?host={host}&port={self.port}"

    @property
    def admin(self) -> _Admin:
        if self._admin is None:
            self._admin = _Admin(self.url())
        return self._admin

    def execute(self, sql: str) -> None:
        """Run one statement in the ``postgres`` database (CREATE/DROP DATABASE …)."""
        self.admin.execute(sql)

    def new_database(self, template: str | None = TEMPLATE) -> str:
        """A fresh database copied from ``template`` (None: an empty one); its name."""
        if template == TEMPLATE and self._free:
            return self._free.pop()
        name = f"t{os.getpid()}_{next(self._names)}"
        source = f" TEMPLATE {template}" if template else " TEMPLATE template0"
        self.execute(f'CREATE DATABASE "{name}"{source}')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def release(self, name: str) -> None:
        """A test is done with database ``name`` (from :meth:`new_database`): empty it for
        the next test, or drop it when that is not safe."""
        try:
            reusable = self.admin.reset(self.url(name), name, self._template_schemas)
        except Exception:
            reusable = False
        if reusable:
            self._free.append(name)
        else:
            self.drop_database(name)

    def remember_template(self) -> None:
        """Record the template's schemas (a database with others is not reused)."""
        self._template_schemas = self.admin.schemas(self.url(TEMPLATE))

    def stop(self) -> None:
        """Stop the server and remove its directory (the watchdog does the work)."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.watchdog.stdin is not None and not self.watchdog.stdin.closed:
            self.watchdog.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.watchdog.wait(timeout=30)


def start() -> PgServer:
    """Initialise and start a throwaway cluster (raises :class:`PgUnavailable`)."""
    bindir = find_bindir()
    prefix, user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="gridbot-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if user is not None:
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    stop_cmd = [*prefix, str(bindir / "pg_ctl")]
    try:
        watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(data), str(root), *stop_cmd],
            stdin=subprocess.PIPE, start_new_session=True)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        _initdb(prefix, bindir, data)
        port = _start_server(prefix, bindir, data, sockets)
    except BaseException:
        if watchdog.stdin is not None:
            watchdog.stdin.close()
        watchdog.wait(timeout=30)
        raise
    return PgServer(root=root, socket_dir=sockets, port=port, prefix=prefix, bindir=bindir,
                    watchdog=watchdog)


def _initdb(prefix: list[str], bindir: Path, data: Path) -> None:
    # C locale: byte order of UTF-8 text, as SQLite compares it.
    command = [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
               "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PgUnavailable(
            f"initdb failed (exit {done.returncode}) for the test PostgreSQL: "
            f"{(done.stderr or done.stdout).strip()[-800:]}\n{INSTALL_HINT}")


def _start_server(prefix: list[str], bindir: Path, data: Path, sockets: Path) -> int:
    log = data.parent / "server.log"
    last = ""
    for _attempt in range(3):  # a free port may be taken between choosing and binding it
        port = _free_port()
        options = " ".join([
            f"-p {port}", f"-k {sockets}", "-c listen_addresses=127.0.0.1",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=300", "-c shared_buffers=64MB",
            "-c max_locks_per_transaction=256", "-c log_min_messages=warning",
        ])
        command = [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log),
                   "-o", options, "-w", "-t", "60", "start"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return port
        with contextlib.suppress(OSError):
            last = log.read_text(errors="replace")[-800:]
    raise PgUnavailable(f"the test PostgreSQL did not start (pg_ctl start failed): {last.strip()}")


class _Admin:
    """One asyncpg connection on an event loop of its own thread, usable from sync and async
    fixtures alike (a session-wide connection cannot live on a test's own loop)."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-admin",
                                        daemon=True)
        self._thread.start()
        self._conn: Any = self._call(self._connect(url))

    @staticmethod
    async def _connect(url: str) -> Any:
        import asyncpg

        return await asyncpg.connect(url)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=120)

    def execute(self, sql: str) -> None:
        self._call(self._conn.execute(sql))

    def fetchval(self, sql: str) -> Any:
        return self._call(self._conn.fetchval(sql))

    def schemas(self, url: str) -> frozenset[str]:
        return self._call(self._schemas(url))

    def reset(self, url: str, name: str, expected: frozenset[str]) -> bool:
        return self._call(self._reset(url, name, expected))

    @staticmethod
    async def _user_schemas(conn: Any) -> frozenset[str]:
        rows = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'"
            " AND nspname NOT IN ('information_schema', 'public')")
        return frozenset(str(r[0]) for r in rows)

    async def _schemas(self, url: str) -> frozenset[str]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return await self._user_schemas(conn)
        finally:
            await conn.close()

    async def _reset(self, url: str, name: str, expected: frozenset[str]) -> bool:
        """Delete every row and restart every sequence in ``name``'s GridBot schemas (the
        schema version table excepted); False (nothing done) when another session is
        connected or the schemas are not the template's."""
        import asyncpg

        others = await self._conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name)
        if others:
            return False
        conn = await asyncpg.connect(url)
        try:
            if await self._user_schemas(conn) != expected:
                return False
            tables = await conn.fetch(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[])"
                " AND tablename <> 'gridbot_schema'", sorted(expected))
            sequences = await conn.fetch(
                "SELECT schemaname, sequencename FROM pg_sequences"
                " WHERE schemaname = ANY($1::text[])", sorted(expected))
            statements = ["SET session_replication_role = replica"]  # no triggers, no FK order
            statements += [f"DELETE FROM {_ident(s)}.{_ident(t)}" for s, t in tables]
            statements += [f"ALTER SEQUENCE {_ident(s)}.{_ident(q)} RESTART" for s, q in sequences]
            async with conn.transaction():
                await conn.execute(";\n".join(statements))
            return True
        finally:
            await conn.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._conn.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def prepare_template(server: PgServer) -> None:
    """Create and migrate the template every test database is copied from (once a session)."""
    from datetime import UTC, datetime

    from storage import open_database
    from tickets.clock import FakeClock

    server.execute(f"CREATE DATABASE {TEMPLATE}")

    async def migrate() -> None:
        db = await open_database(server.url(TEMPLATE), clock=FakeClock(datetime(2026, 1, 1, tzinfo=UTC)))
        await db.close()

    # In a thread: the caller may be inside a running event loop (an async fixture).
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, migrate()).result()
    server.remember_template()
