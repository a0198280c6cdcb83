"""Soak: two `gridbot run` processes on one token and database under a steady mixed load
(chatter, reports, 附议 repeats across six groups), the lease holder SIGKILLed and restarted
every few minutes. At the end: every report one ticket and one acknowledgement (counting
the sends that were on the wire at a kill), every takeover timed, no limit exceeded, and
each process's RSS over its life (flat, or not).

Usage: .venv/bin/python bench/soak.py [--minutes 30] [--rate 5] [--kill-every 180]
       [--backend sqlite|postgres] [--db postgresql://…] [--keep DIR]
Last line: ``overall: ok`` or ``overall: FAILED (<reasons>)``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.e2e import (  # noqa: E402
    ALL_GROUPS,
    GIVEN,
    GLOBAL_LIMIT_PER_SECOND,
    GROUP_LIMIT_PER_MINUTE,
    STAFF,
    SURNAMES,
    TAKEOVER_LOG,
    RunResult,
    _measure,
    config_text,
    db_counts,
    log_has,
    make_plan,
    pending_card_sources,
    percentile,
    ticket_sources,
)
from localapi import LocalBotApi  # noqa: E402
from localapi.state import User  # noqa: E402
from tests.support import pg  # noqa: E402


@dataclass
class Incarnation:
    """One `gridbot run` process: its log and its RSS samples (seconds alive, bytes)."""

    number: int
    proc: asyncio.subprocess.Process
    log: Path
    started: float
    rss: list[tuple[float, int]] = field(default_factory=list)
    killed: bool = False
    #: Seconds after start when the sampler first saw it acting (None: stood by all along).
    active_since: float | None = None

    @property
    def acting(self) -> bool:
        return self.proc.returncode is None and log_has(self.log, TAKEOVER_LOG)


@dataclass
class Soak:
    server: LocalBotApi
    config: Path
    db: str
    workdir: Path
    env: dict[str, str]
    alive: list[Incarnation] = field(default_factory=list)
    dead: list[Incarnation] = field(default_factory=list)
    takeovers: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _count: int = 0

    async def spawn(self) -> Incarnation:
        self._count += 1
        log = self.workdir / f"bot{self._count}.log"
        with log.open("ab") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), "run", "--no-web", "--config",
                str(self.config), "--db", self.db, "--api-url", self.server.base_url,
                cwd=ROOT, env=self.env, stdin=asyncio.subprocess.DEVNULL, stdout=out,
                stderr=out)
        incarnation = Incarnation(self._count, proc, log, time.monotonic())
        self.alive.append(incarnation)
        return incarnation

    async def sample_rss(self, every: float = 10.0) -> None:
        while True:
            for inc in self.alive:
                try:
                    rss = psutil.Process(inc.proc.pid).memory_info().rss
                except psutil.Error:
                    continue
                if rss == 0:  # killed, not yet reaped
                    continue
                age = time.monotonic() - inc.started
                if inc.active_since is None and inc.acting:
                    inc.active_since = age
                inc.rss.append((age, rss))
            await asyncio.sleep(every)

    async def kill_cycle(self, every: float, say: object) -> None:
        assert callable(say)
        while True:
            await asyncio.sleep(every)
            holders = [inc for inc in self.alive if inc.acting]
            if len(holders) != 1:
                self.failures.append(f"{len(holders)} acting processes before a kill")
                continue
            [holder] = holders
            holder.proc.send_signal(signal.SIGKILL)
            await holder.proc.wait()
            holder.killed = True
            self.alive.remove(holder)
            self.dead.append(holder)
            killed_at = time.monotonic()
            fresh = await self.spawn()  # restarted at once
            # Whoever gets the lease first takes over: the standby (retrying every 3 s) or
            # the restarted process, when its start-up beats the standby's next retry.
            while not (acting := [inc for inc in self.alive if inc.acting]):
                if time.monotonic() - killed_at > 60:
                    self.failures.append(f"no takeover within 60 s after killing "
                                         f"process {holder.number}")
                    break
                await asyncio.sleep(0.05)
            else:
                seconds = time.monotonic() - killed_at
                self.takeovers.append(seconds)
                taker = acting[0]
                how = "the restarted process" if taker is fresh else "the standby"
                say(f"killed process {holder.number} (pid {holder.proc.pid}); taken over "
                    f"after {seconds:.1f} s by process {taker.number} ({how}); process "
                    f"{fresh.number} restarted")


def _phases(inc: Incarnation) -> list[tuple[str, list[tuple[float, int]]]]:
    """The samples of each role the process had (standby, then active), without the
    first 30 s of each (start-up, and the jump from standby to active)."""
    cut = inc.active_since
    standby = [(t, r) for t, r in inc.rss if (cut is None or t < cut) and t >= 30]
    active = [(t, r) for t, r in inc.rss if cut is not None and t >= cut + 30]
    return [(name, samples) for name, samples in (("standby", standby), ("active", active))
            if samples]


def rss_line(inc: Incarnation) -> str:
    alive = inc.rss[-1][0] if inc.rss else 0
    parts = [f"{name} {(samples[-1][0] - samples[0][0]) / 60:.1f} min: RSS "
             f"{samples[0][1] / 2**20:.0f} → {samples[-1][1] / 2**20:.0f} MiB (peak "
             f"{max(r for _, r in samples) / 2**20:.0f})" for name, samples in _phases(inc)]
    return (f"process {inc.number} ({'killed' if inc.killed else 'stopped'}, "
            f"{alive / 60:.1f} min, {len(inc.rss)} samples): "
            + ("; ".join(parts) if parts else "too short to settle"))


async def soak(args: argparse.Namespace) -> int:
    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gridbot-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    groups = ALL_GROUPS
    seconds = args.minutes * 60
    plan, problems = make_plan(args.rate, seconds, groups, random.Random(args.seed),
                               residents=20000)
    reports = sum(p.kind != "chat" for p in plan)
    supports = sum(p.kind == "support" for p in plan)
    pg_server: pg.PgServer | None = None
    db = args.db
    if args.backend == "postgres" and db is None:
        pg_server = await asyncio.to_thread(pg.start)
        db = pg_server.url(pg_server.new_database(template=None))
    if db is None:
        db = str(workdir / "soak.db")
    config = workdir / "soak.toml"
    config.write_text(config_text(groups), encoding="utf-8")
    print(f"soak: {args.minutes:g} min at {args.rate:g} msg/s ({len(plan)} messages, {reports} "
          f"reports, {len(problems)} problems), 2 processes, holder killed every "
          f"{args.kill_every:g} s, backend {args.backend}", flush=True)

    def say(text: str) -> None:
        print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)

    result = RunResult(rate=args.rate, seconds=seconds, processes=2)
    result.problems, result.supports, result.reports = len(problems), supports, reports
    try:
        async with LocalBotApi(enforce_limits=True) as server:
            staff: list[User | int] = [server.user(uid, name, username)
                                       for uid, name, username in STAFF]
            for spec in groups:
                server.group(spec.chat_id, spec.title, admins=[staff[2]], members=staff[:2])
            env = {**os.environ, "TELEGRAM_BOT_TOKEN": server.token, "PYTHONUNBUFFERED": "1"}
            env.pop("TELEGRAM_API_URL", None)
            run = Soak(server, config, db, workdir, env)
            first = await run.spawn()
            await server.wait_for(lambda: server.poll_count > 0, timeout=60)
            await run.spawn()
            for person in staff:
                await server.start_private(person)
            residents: dict[int, User] = {}
            sampler = asyncio.create_task(run.sample_rss())
            killer = asyncio.create_task(run.kill_cycle(args.kill_every, say))
            loop = asyncio.get_running_loop()
            start, origin = loop.time(), time.time()
            posted: list[tuple[int, int, float]] = []
            for item in plan:
                delay = start + item.at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if item.user_id not in residents:
                    residents[item.user_id] = server.user(
                        item.user_id, SURNAMES[item.user_id % len(SURNAMES)]
                        + GIVEN[item.user_id // 7 % len(GIVEN)])
                message = await server.post(item.group.chat_id, residents[item.user_id],
                                            item.text)
                if item.kind == "report":
                    posted.append((item.group.chat_id, message.message_id, time.time()))
            killer.cancel()
            say(f"load done ({len(plan)} posted); draining")
            drain_start = loop.time()
            while loop.time() - drain_start < 300:
                counts = await asyncio.to_thread(db_counts, db)
                if (server.pending_updates() == 0 and counts["inbox_unprocessed"] == 0
                        and counts["outbox_pending"] == 0):
                    result.drained = True
                    break
                await asyncio.sleep(0.5)
            sampler.cancel()
            codes = []
            for inc in list(run.alive):
                inc.proc.send_signal(signal.SIGTERM)
                codes.append(await asyncio.wait_for(inc.proc.wait(), 30))
            result.exit_code = next((c for c in codes if c != 0), 0)
            counts = db_counts(db)
            result.tickets, result.supporters = counts["tickets"], counts["supporters"]
            result.outbox_failed, result.resent = counts["outbox_failed"], counts["resent"]
            originals = {(chat, mid): at for chat, mid, at in posted}
            _measure(result, server, originals, origin, pending_card_sources(db),
                     ticket_sources(db))
            incarnations = [*run.dead, *run.alive]
            del first
    finally:
        if pg_server is not None:
            await asyncio.to_thread(pg_server.stop)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    lat = result.latencies
    print(f"\nreports {len(originals)}: tickets {result.tickets}/{result.problems} expected, "
          f"supporters {result.supporters}/{result.supports}; acks missing "
          f"{result.acks_missing_queued + result.acks_missing_lost}, doubled "
          f"{result.duplicate_acks} (sent again after a kill: {result.resent})")
    if lat:
        print(f"report → acknowledgement: median {statistics.median(lat):.2f} s, p99 "
              f"{percentile(lat, 99):.2f} s, max {max(lat):.2f} s")
    print(f"takeovers: {len(run.takeovers)}, "
          + (f"{min(run.takeovers):.1f}–{max(run.takeovers):.1f} s" if run.takeovers else "-"))
    print(f"sends per group per minute max {result.group_minute_max} (limit "
          f"{GROUP_LIMIT_PER_MINUTE}); per second max {result.sends_second_max} (limit "
          f"{GLOBAL_LIMIT_PER_SECOND}); 429s {result.served_429}")
    for inc in incarnations:
        print(rss_line(inc))
    reasons = list(run.failures)
    if result.tickets != result.problems or result.supporters != result.supports:
        reasons.append("tickets or supporters differ from expected")
    if result.acks_missing_lost or result.acks_missing_queued:
        reasons.append("acknowledgements missing")
    if result.duplicate_acks > result.resent:
        reasons.append("acknowledgements doubled beyond what was on the wire")
    if result.served_429 or result.group_minute_max > GROUP_LIMIT_PER_MINUTE or \
            result.sends_second_max > GLOBAL_LIMIT_PER_SECOND:
        reasons.append("a rate limit exceeded")
    if not result.drained or result.exit_code != 0:
        reasons.append(f"drained {result.drained}, exit code {result.exit_code}")
    if any(_grew(inc) for inc in incarnations):
        reasons.append("RSS grew by more than 20 % within one role of a process")
    print("overall: ok" if not reasons else f"overall: FAILED ({'; '.join(reasons)})")
    return 0 if not reasons else 1


def _grew(inc: Incarnation) -> bool:
    """More than 20 % growth within a role that lasted at least two minutes once settled
    (standby → active is a role change, not growth)."""
    return any(samples[-1][0] - samples[0][0] >= 120 and samples[-1][1] > 1.2 * samples[0][1]
               for _, samples in _phases(inc))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second")
    parser.add_argument("--kill-every", type=float, default=180.0, metavar="S")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--db", metavar="postgresql://…")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", metavar="DIR")
    args = parser.parse_args(argv)
    if args.db is not None:
        args.backend = "postgres"
    if not 0 < args.minutes <= 600 or not 0 < args.rate <= 100 or args.kill_every < 10:
        parser.error("--minutes in (0, 600], --rate in (0, 100], --kill-every ≥ 10")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(soak(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
