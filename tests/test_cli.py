"""The command line: init/check round trip, clear one-sentence failures with exit code 2."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args], input=stdin, capture_output=True,
        text=True, env={**os.environ, **(env or {})}, cwd=ROOT, timeout=60, check=False)


def test_init_then_check_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "community.toml"
    assert main(["init", str(target)]) == 0
    assert target.read_text(encoding="utf-8").startswith("# GridBot")
    assert main(["check", "--config", str(target)]) == 0
    assert "配置无误" in capsys.readouterr().out
    assert main(["init", str(target)]) == 2  # refuses to overwrite
    assert "--force" in capsys.readouterr().err


def test_check_lists_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        "[community]\nname = '坏'\n[[grids]]\nname = 'A'\nareas = ['x:1-3']\nworkers = ['无名']\n"
        "[[grids]]\nname = 'B'\nareas = ['x:3-5']\n[[people]]\nname = '甲'\nroles = ['worker']\n"
        "[[broadcasts]]\nwhen = '每周八 9:00'\ntext = 't'\n", encoding="utf-8")
    assert main(["check", "--config", str(broken)]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  - ")]
    assert len(lines) >= 5
    joined = "\n".join(lines)
    assert "无名" in joined and "重叠" in joined and "每周八" in joined and "甲" in joined


def test_run_without_token_says_so_in_one_sentence(tmp_path: Path) -> None:
    result = run_cli("run", "--config", str(tmp_path / "none.toml"),
                     env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_with_unreadable_config_exits_2(tmp_path: Path) -> None:
    result = run_cli("run", "--config", str(tmp_path / "none.toml"),
                     env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert result.returncode == 2
    assert "找不到配置文件" in result.stderr and "Traceback" not in result.stderr


def test_run_refuses_a_database_from_a_newer_version(tmp_path: Path) -> None:
    config = tmp_path / "community.toml"
    assert main(["init", str(config)]) == 0
    db = tmp_path / "gridbot.db"
    import asyncio

    import storage
    from tickets.clock import SystemClock

    async def create() -> None:  # (an unreachable Bot API is retried now, not exit 2)
        await (await storage.open_database(db, clock=SystemClock())).close()

    asyncio.run(create())
    with sqlite3.connect(db) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {version + 5}")
    result = run_cli("run", "--config", str(config), "--db", str(db),
                     env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "gridbot" in result.stderr


def test_run_refuses_a_file_that_is_not_a_gridbot_database(tmp_path: Path) -> None:
    config = tmp_path / "community.toml"
    assert main(["init", str(config)]) == 0
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE foreign_thing (x)")
    result = run_cli("run", "--config", str(config), "--db", str(db),
                     env={"TELEGRAM_BOT_TOKEN": "1:x"})
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_parse_reads_json_lines_and_survives_bad_lines() -> None:
    lines = "\n".join([
        json.dumps({"text": "3單元好大的煤氣味!!"}, ensure_ascii=False),
        "not json at all",
        json.dumps({"text": 12}),
        json.dumps({"text": "大家早上好", "id": 7}, ensure_ascii=False),
    ]) + "\n"
    result = run_cli("parse", stdin=lines)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 4
    assert rows[0]["is_report"] and rows[0]["urgency"] == "emergency"
    assert rows[0]["category"] == "fire_gas_safety"
    assert rows[3]["is_report"] is False and rows[3]["category"] is None
    for row in rows:
        assert set(row) >= {"is_report", "kind", "category", "urgency", "confidence",
                            "location", "keywords"}


def test_help_is_available_for_every_subcommand() -> None:
    for command in ("run", "init", "check", "demo", "parse", "eval-nlp"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "usage" in result.stdout.lower()


def test_output_piped_into_head_ends_quietly() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    corpus = root / "tests" / "data" / "nlp_corpus.jsonl"
    run = subprocess.run(
        f"{sys.executable} bot.py eval-nlp {corpus} | head -1", shell=True, cwd=root,
        capture_output=True, text=True, check=False)
    assert run.stdout.startswith("==")
    assert "Traceback" not in run.stderr


def test_init_ships_example_broadcasts_commented_out_and_check_warns_when_uncommented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from community import load_config

    target = tmp_path / "community.toml"
    assert main(["init", str(target)]) == 0
    assert load_config(target).broadcasts == ()  # nothing would be posted
    assert main(["check", "--config", str(target)]) == 0
    assert "提醒" not in capsys.readouterr().out
    # The deployer uncomments the examples as they are: one warning line each, exit 0.
    text = target.read_text(encoding="utf-8")
    uncommented = "\n".join(
        line[2:] if line.startswith(("# [[broadcasts]]", "# when", "# text", "# grids"))
        else line for line in text.splitlines())
    target.write_text(uncommented, encoding="utf-8")
    assert len(load_config(target).broadcasts) == 2
    assert main(["check", "--config", str(target)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "提醒" in line]
    assert len(warnings) == 2 and all("示例" in line for line in warnings)
    # Rewritten text: no warning for that one.
    target.write_text(uncommented.replace("免费理发", "免费量血压"), encoding="utf-8")
    assert main(["check", "--config", str(target)]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if "提醒" in line]) == 1
