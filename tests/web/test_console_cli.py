"""The console's entry points: ``gridbot demo --web`` (one login line, serving until
interrupted) and ``gridbot web`` (the console alone against the bot's database, re-reading
an edited config)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from community import example_config_text
from localapi import LocalBotApi
from runtime.app import GridBot
from runtime.demo import _run
from services.console_access import issue_login_link
from tests.support.e2e import GROUP_1, WORKER_1, file_report
from tickets.clock import FakeClock, SystemClock

ROOT = Path(__file__).resolve().parent.parent.parent


async def test_demo_with_web_prints_one_login_line_and_serves_until_interrupted() -> None:
    out = io.StringIO()
    demo = asyncio.create_task(_run(600.0, None, True, out, web="127.0.0.1:0"))
    for _ in range(1800):
        if "console:" in out.getvalue() or demo.done():
            break
        await asyncio.sleep(0.1)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("console:")]
    assert len(lines) == 1, out.getvalue()
    link = lines[0].removeprefix("console: ")
    assert link.startswith("http://127.0.0.1:") and "/login/" in link
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(link) as response:
            assert response.status == 200 and "进入工作台" in await response.text()
        async with http.post(link) as response:
            page = await response.text()
            assert response.status == 200 and "张书记" in page  # the demo's secretary
        base = link.split("/login/")[0]
        async with http.get(base + "/agenda") as response:
            assert response.status == 200 and "2611-" in await response.text()
    assert not demo.done()  # still serving
    os.kill(os.getpid(), signal.SIGINT)
    assert await asyncio.wait_for(demo, 30) == 0
    assert "演示结束" in out.getvalue()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_gridbot_web_runs_the_console_alone_on_the_bots_database(
    server: LocalBotApi, gridbot: GridBot, db_path: str, tmp_path: Path, clock: FakeClock
) -> None:
    number = await file_report(server, gridbot, "3号楼楼道灯坏了好几天了 晚上看不见")
    # The separate process runs on the system clock; the bot's clock is brought up to it
    # below, so that the messages the console queued are due for the bot's sender too.
    [card] = await server.wait_sent(chat_id=GROUP_1, method="sendMessage")
    assert card.message is not None
    card_id = card.message.message_id
    config = tmp_path / "community.toml"
    config.write_text(example_config_text(), encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": server.token}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "web", "--config", str(config), "--db", db_path,
        "--web", f"127.0.0.1:{port}", "--api-url", server.base_url,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        assert gridbot.services is not None
        token = await issue_login_link(gridbot.services.db, SystemClock(), WORKER_1)
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/login/{token}") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(f"{base}/login/{token}") as response:
                assert response.status == 200 and "王芳" in await response.text()
            async with http.get(f"{base}/tickets/{number}") as response:
                page = await response.text()
                assert response.status == 200 and "楼道灯" in page
            csrf = page.split('name="_csrf" value="')[1].split('"')[0]
            async with http.post(f"{base}/tickets/{number}/accept",
                                 data={"_csrf": csrf}) as response:
                assert response.status == 200 and "已接单。" in await response.text()
            # The running bot's outbox sender delivers the card edit.
            clock.set(datetime.now(UTC) + timedelta(minutes=1))
            edits = await server.wait_for(lambda: [
                r for r in server.sent(chat_id=GROUP_1, method="editMessageText")
                if r.params.get("message_id") == card_id
                and "已接单" in (r.text or "")])
            assert edits
            # Removing the worker from the config file ends her access at the next request.
            text = config.read_text(encoding="utf-8").replace("telegram_id = 1001", "")
            config.write_text(text, encoding="utf-8")
            os.utime(config, (1, 1))  # a different mtime even within the same second
            async with http.get(f"{base}/agenda") as response:
                assert response.status == 403
                assert "不是本社区配置的工作人员" in await response.text()
    finally:
        process.send_signal(signal.SIGINT)
        raw, _ = await asyncio.wait_for(process.communicate(), 30)
    output = raw.decode()
    assert process.returncode in (0, 130), output
    assert "网格工作台" in output


async def test_a_busy_console_port_does_not_stop_the_bot(
    server: LocalBotApi, community, clock: FakeClock, db_path: str, caplog
) -> None:
    from tests.support.e2e import fast_options

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = GridBot(community, server.token, db_path, clock=clock,
                      options=fast_options(server, web=f"127.0.0.1:{port}"))
        await bot.start()
        try:
            assert bot.console is None
            assert any("网格工作台无法监听" in r.getMessage() for r in caplog.records)
            number = await file_report(server, bot, "3号楼楼道灯坏了好几天了 晚上看不见")
            assert number  # the groups are still served
            await server.command(WORKER_1, WORKER_1, "/web")
            await server.wait_consumed()
            await bot.until_idle()
            assert any("没有开启网格工作台" in (r.text or "")
                       for r in server.sent(chat_id=WORKER_1, method="sendMessage"))
        finally:
            await bot.stop()


def test_cli_refuses_bad_web_options_in_one_sentence(tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    from bot import main

    config = tmp_path / "community.toml"
    config.write_text(example_config_text(), encoding="utf-8")
    assert main(["web", "--config", str(config), "--db", str(tmp_path / "none.db")]) == 2
    assert "找不到数据库" in capsys.readouterr().err
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    for bad in ("8080", "localhost:http", "host:99999"):
        assert main(["run", "--config", str(config), "--web", bad]) == 2
        assert "--web 应为" in capsys.readouterr().err
    assert main(["demo", "--web", "nope"]) == 2
    assert "--web 应为" in capsys.readouterr().err
