"""`gridbot run/web --deployment` as a street office runs them: clear one-sentence failures,
and a real process serving two communities on one token, with the token in no output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from localapi.testing import running_server
from runtime.secrets import REDACTED, TokenRedactor
from tests.support.deployment import (
    ANLE_GROUP,
    ANLE_WORKER,
    ENVIRON,
    TOKEN_A,
    TOKEN_B,
    write_deployment,
)
from tests.support.e2e import GROUP_1, RESIDENT, WORKER_1

ROOT = Path(__file__).resolve().parent.parent


async def run_cli(*args: str, env: dict[str, str], within: float = 60.0) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), *args, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), within)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def no_tokens(env: dict[str, str]) -> dict[str, str]:
    return {name: "" for name in (*ENVIRON, "TELEGRAM_BOT_TOKEN")} | env


async def test_run_with_unset_tokens_says_so(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    code, _, err = await run_cli("run", "--deployment", str(path),
                                 env=no_tokens({"XINGFULI_BOT_TOKEN": TOKEN_A}))
    assert code == 2 and "Traceback" not in err
    assert "环境变量 ANLE_BOT_TOKEN 未设置" in err and "社区 anle" in err


async def test_web_without_the_databases_says_so(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    code, _, err = await run_cli("web", "--deployment", str(path), "--web", "127.0.0.1:0",
                                 env=no_tokens({}))
    assert code == 2 and "找不到数据库" in err and "Traceback" not in err


def test_the_redactor_removes_every_token_of_a_deployment() -> None:
    redact = TokenRedactor(TOKEN_A)
    redact.add(TOKEN_B)
    text = f"GET /bot{TOKEN_A}/getMe then /bot{TOKEN_B}/getUpdates"
    assert redact(text) == f"GET /bot{REDACTED}/getMe then /bot{REDACTED}/getUpdates"


async def test_a_process_serves_two_communities_on_one_token(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    env = no_tokens({"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": TOKEN_A,
                     "GRIDBOT_LOG_LEVEL": "DEBUG"})
    async with running_server(token=TOKEN_A) as server:
        server.user(WORKER_1, "王芳", started=True)
        server.user(ANLE_WORKER, "孙丽", started=True)
        server.user(RESIDENT, "张阿姨")
        server.group(GROUP_1, "阳光花园一网格群", members=[WORKER_1, RESIDENT])
        server.group(ANLE_GROUP, "安乐一网格群", members=[ANLE_WORKER, RESIDENT])
        log = tmp_path / "output.txt"
        with log.open("wb") as sink:  # a file: DEBUG output would fill a pipe nobody reads
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bot.py"), "run", "--deployment", str(path),
                "--no-web", "--api-url", server.url, cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdout=sink, stderr=asyncio.subprocess.STDOUT)
        try:
            await server.post(GROUP_1, RESIDENT, "8号楼3单元顶楼漏雨了 天花板一直在滴水")
            await server.post(ANLE_GROUP, RESIDENT, "安乐苑5号楼门口的井盖丢了 很危险")
            [card_a] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage", timeout=60)
            [card_b] = await server.wait_sent(chat_id=ANLE_GROUP, method="sendMessage",
                                              timeout=60)
            assert "工单 #" in (card_a.text or "") and "工单 #" in (card_b.text or "")
            briefs = [r.text or "" for r in server.sent(ANLE_WORKER, "sendMessage")]
            assert any("井盖" in b for b in briefs) and not any("漏雨" in b for b in briefs)
        finally:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 60)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert process.returncode == 0, output
    bot_id = TOKEN_A.split(":", 1)[0]  # one token: its one lease holds both communities
    assert (f"token bot-{bot_id} taken (communities xingfuli、anle): holding 1 of 1 tokens"
            in output)
    secret = TOKEN_A.split(":", 1)[1]
    assert TOKEN_A not in output and secret not in output
    assert (tmp_path / "data" / "xingfuli.db").exists() and (tmp_path / "data" / "anle.db").exists()
