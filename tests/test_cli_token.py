"""`gridbot run` as a deployer runs it: the token never shows, a blip at boot is retried.

Each test runs the real CLI in a subprocess (debug logging on, so PTB's own lines that quote
request URLs are printed) against the local Bot API, a closed port or a bad URL, and searches
everything the process wrote (stdout, stderr) and the database it left for any form of the
token.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from bot import main
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.secrets import REDACTED, TokenRedactor, token_forms
from tests.support.e2e import GROUP_1, RESIDENT, WORKER_1

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7123456789:AAHgridbotSecretPart-never_in_logs_42"
SECRET = TOKEN.split(":", 1)[1]


@dataclass
class Cli:
    """A running ``gridbot run`` whose output is collected line by line."""

    process: asyncio.subprocess.Process
    db: Path
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def wait_for(self, predicate: Callable[[str], bool], within: float = 30.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            for line in self.err + self.out:
                if predicate(line):
                    return line
            if self.process.returncode is not None and all(r.done() for r in self.readers):
                break
            await asyncio.sleep(0.05)
        raise AssertionError("no such line; output was:\n" + self.all_output())

    async def finish(self, within: float = 30.0, *, terminate: bool = True) -> int:
        if terminate and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), within)
        await asyncio.gather(*self.readers)
        return code

    def all_output(self) -> str:
        return "".join(self.out) + "".join(self.err)

    def last_said(self) -> str:
        """The last stderr line that is not a DEBUG log line (this runs the bot at DEBUG to
        check redaction; aiosqlite's worker thread may log its last close after the bot's
        final sentence)."""
        return [line for line in self.err if " DEBUG " not in line][-1]


async def _collect(stream: asyncio.StreamReader | None, into: list[str]) -> None:
    assert stream is not None
    while line := await stream.readline():
        into.append(line.decode("utf-8", "replace"))


@contextlib.asynccontextmanager
async def gridbot_run(tmp_path: Path, api_url: str, token: str = TOKEN,
                      *extra: str) -> AsyncIterator[Cli]:
    config = tmp_path / "community.toml"
    if not config.exists():
        assert main(["init", str(config)]) == 0
    db = tmp_path / "gridbot.db"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "GRIDBOT_LOG_LEVEL": "DEBUG",
           "PYTHONUNBUFFERED": "1"}
    env.pop("TELEGRAM_API_URL", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "run", "--no-web", "--config", str(config), "--db", str(db),
        "--api-url", api_url, *extra, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    cli = Cli(process, db)
    cli.readers = [asyncio.create_task(_collect(process.stdout, cli.out)),
                   asyncio.create_task(_collect(process.stderr, cli.err))]
    try:
        yield cli
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def assert_no_token(cli: Cli) -> None:
    text = cli.all_output()
    for form in (TOKEN, SECRET, quote(TOKEN, safe="")):
        assert form not in text, f"the token leaked into the output:\n{text}"
    for path in cli.db.parent.glob(cli.db.name + "*"):
        data = path.read_bytes()
        assert SECRET.encode() not in data, f"the token is stored in {path.name}"


def populate(server: LocalBotApi) -> None:
    server.user(WORKER_1, "王芳", username="wangfang_grid", started=True)
    server.user(RESIDENT, "张阿姨")
    server.group(GROUP_1, "阳光花园一网格群", members=[WORKER_1, RESIDENT])


async def report_gets_a_card(server: LocalBotApi) -> None:
    await server.post(GROUP_1, RESIDENT, "8号楼3单元顶楼漏雨了 天花板一直在滴水")
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage", timeout=30)
    assert "工单 #" in (card.text or "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("suffix", ["", "/", "/bot", "/bot/"])
async def test_api_url_root_and_bot_forms_work_and_nothing_shows_the_token(
    tmp_path: Path, suffix: str
) -> None:
    async with running_server(token=TOKEN) as server:
        populate(server)
        async with gridbot_run(tmp_path, f"http://127.0.0.1:{server.port}{suffix}") as cli:
            await cli.wait_for(lambda line: "is running" in line)
            await report_gets_a_card(server)
            assert await cli.finish() == 0
    assert any(REDACTED in line for line in cli.err)  # debug lines quoted URLs, redacted
    assert_no_token(cli)


async def test_a_rejected_token_exits_2_without_echoing_it(tmp_path: Path) -> None:
    async with running_server() as server, gridbot_run(tmp_path, server.base_url) as cli:
        code = await cli.finish(terminate=False)  # the server accepts only its own token
    assert code == 2
    assert "令牌" in cli.last_said() and "Traceback" not in cli.all_output()
    assert_no_token(cli)


@pytest.mark.parametrize("url", ["http://127.0.0.1:80x81", "ftp://127.0.0.1/bot", "127.0.0.1"])
async def test_a_bad_api_url_exits_2_in_one_sentence(tmp_path: Path, url: str) -> None:
    async with gridbot_run(tmp_path, url) as cli:
        code = await cli.finish(terminate=False)
    assert code == 2 and "--api-url" in cli.all_output()
    assert len(cli.err) == 1 and "Traceback" not in cli.all_output()
    assert_no_token(cli)


async def test_unreachable_api_at_boot_is_retried_until_it_comes_up(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet
    async with gridbot_run(tmp_path, f"http://127.0.0.1:{port}") as cli:
        await cli.wait_for(lambda line: "retrying in" in line)
        await cli.wait_for(lambda line: "attempt 2" in line)
        assert cli.process.returncode is None  # still trying, not exit 2
        async with running_server(token=TOKEN, port=port) as server:
            populate(server)
            await cli.wait_for(lambda line: "is running" in line)
            await report_gets_a_card(server)
            assert await cli.finish() == 0
    assert_no_token(cli)


async def test_sigterm_while_waiting_for_the_api_stops_cleanly(tmp_path: Path) -> None:
    async with gridbot_run(tmp_path, f"http://127.0.0.1:{free_port()}") as cli:
        await cli.wait_for(lambda line: "retrying in" in line)
        assert await cli.finish() == 0
    assert "Traceback" not in cli.all_output()
    assert_no_token(cli)


async def test_an_unexpected_traceback_is_redacted(tmp_path: Path) -> None:
    """A crash whose exception quotes the request URL (as httpx/PTB errors do)."""
    script = (
        "import sys, runtime\n"
        "def boom(**kwargs):\n"
        "    raise RuntimeError('POST http://127.0.0.1:1/bot' + kwargs['token'] + '/getMe')\n"
        "runtime.run_bot = boom\n"
        "import bot\n"
        "sys.exit(bot.main(sys.argv[1:]))\n"
    )
    config = tmp_path / "community.toml"
    assert main(["init", str(config)]) == 0
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, "run", "--no-web", "--config", str(config), "--db",
        str(tmp_path / "gridbot.db"), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    text = (out + err).decode()
    assert process.returncode == 1 and "Traceback" in text and "RuntimeError" in text
    assert f"/bot{REDACTED}/getMe" in text
    assert TOKEN not in text and SECRET not in text


def test_redactor_hides_every_form_but_leaves_short_test_secrets_whole() -> None:
    redact = TokenRedactor(TOKEN)
    assert redact(f"a {TOKEN} b {quote(TOKEN, safe='')} c {SECRET}") == \
        f"a {REDACTED} b {REDACTED} c {REDACTED}"
    assert "x" not in token_forms("1:x")  # "x" alone would eat every x in the log
    assert TokenRedactor("1:x")("box 1:x") == f"box {REDACTED}"


async def test_5xx_answers_at_boot_are_retried_and_403_is_for_a_person(tmp_path: Path) -> None:
    async with running_server(token=TOKEN) as server:
        populate(server)
        server.faults.fail(502, count=2, methods="getMe")
        async with gridbot_run(tmp_path, server.base_url) as cli:
            await cli.wait_for(lambda line: "is running" in line)
            assert sum("retrying in" in line for line in cli.err) == 2
            assert await cli.finish() == 0
        assert_no_token(cli)
        server.faults.fail(403, count=None, methods="getMe")
        async with gridbot_run(tmp_path, server.base_url) as cli:
            assert await cli.finish(terminate=False) == 2
        assert "Forbidden" in cli.last_said() and "Traceback" not in cli.all_output()
        assert_no_token(cli)
