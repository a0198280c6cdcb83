"""The community config: defaults, shorthand, and every problem reported in plain words."""

from datetime import timedelta
from pathlib import Path

import pytest

from community import (
    ConfigError,
    Role,
    check_config,
    example_config_text,
    load_config,
    parse_buildings,
    parse_config,
    parse_duration,
)
from services.schedules import schedule_error

MINIMAL = """
[community]
name = "小社区"

[[grids]]
name = "一网格"
areas = ["阳光花园:1-3"]
workers = ["王芳"]

[[people]]
name = "王芳"
telegram_id = 7
roles = ["worker"]
grids = ["一网格"]

[[people]]
name = "书记"
username = "@shuji"
roles = ["supervisor"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "community.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_and_complete(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, example_config_text()), validate_schedule=schedule_error)
    assert config.name == "幸福里社区"
    assert [g.name for g in config.grids] == ["第一网格", "第二网格"]
    first = config.grids[0]
    assert first.covers("阳光花园", "8") and not first.covers("阳光花园", "13")
    assert config.grids[1].covers("翠苑小区", None)
    assert config.person("刘警官").categories == ("public_order",)
    assert config.supervisors()[0].key == "张书记"
    assert config.sla.normal.accept_working_days == 1
    assert config.sla.emergency.accept == timedelta(minutes=15)
    assert config.broadcasts == ()  # the examples ship commented out


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.timezone == "Asia/Shanghai"
    assert config.digest == "每周四 09:00"
    assert config.grids[0].areas[0].buildings == frozenset({"1", "2", "3"})
    assert config.person("书记").username == "shuji"
    assert config.person_by_telegram(None, "SHUJI").key == "书记"
    assert config.person_by_telegram(7).has(Role.WORKER)


def test_every_problem_is_reported_with_its_place(tmp_path: Path) -> None:
    broken = """
[community]
name = "坏配置"
timezone = "Mars/Olympus"

[[grids]]
name = "一网格"
areas = [{ compound = "阳光花园", buildings = "1-8" }]
workers = ["王芳", "无名氏"]

[[grids]]
name = "二网格"
areas = [{ compound = "阳光花园", buildings = "8-12" }]
chats = ["not-a-number"]
digest = "每周八 09:00"

[[people]]
name = "王芳"
roles = ["worker", "boss"]

[[people]]
name = "刘警官"
telegram_id = 3
roles = ["specialist"]

[sla]
normal = { accept = "soon" }

[[broadcasts]]
when = "cron: 0 9 *"
text = "通知"
"""
    _config, problems = check_config(write(tmp_path, broken), validate_schedule=schedule_error)
    text = "\n".join(problems)
    assert "Mars/Olympus" in text
    assert "无名氏" in text  # unknown worker
    assert "王芳 没有 telegram_id 也没有 username" in text
    assert "boss" in text
    assert "专项人员" in text  # specialist without categories
    assert "重叠" in text and "8号楼" in text  # overlapping grids
    assert "chats" in text
    assert "每周八" in text  # bad digest schedule
    assert "cron" in text
    assert "soon" in text
    assert "supervisor" in text  # no supervisor configured
    assert len(problems) >= 11


def test_unreadable_and_invalid_files_give_one_sentence(tmp_path: Path) -> None:
    _, problems = check_config(tmp_path / "missing.toml")
    assert problems and "无法读取" in problems[0]
    _, problems = check_config(write(tmp_path, "[community\nname="))
    assert problems and "TOML" in problems[0]
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "[community]\nname='x'\n"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("15m", (timedelta(minutes=15), None)), ("2h", (timedelta(hours=2), None)),
     ("1d", (timedelta(days=1), None)), ("3wd", (None, 3)), (30, (timedelta(minutes=30), None))],
)
def test_durations(value: object, expected: tuple) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["soon", "0m", "1.5wd", "-3h", True])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_building_ranges() -> None:
    assert parse_buildings("1,3,5-7") == frozenset({"1", "3", "5", "6", "7"})
    assert parse_buildings([2, "10-11"]) == frozenset({"2", "10", "11"})
    with pytest.raises(ValueError):
        parse_buildings("9-3")
    with pytest.raises(ValueError):
        parse_buildings("A栋")


def test_whole_compound_area_does_not_claim_bare_building_numbers() -> None:
    raw = {
        "community": {"name": "x"},
        "grids": [{"name": "g", "areas": [{"compound": "翠苑小区"}]}],
        "people": [{"name": "s", "telegram_id": 1, "roles": ["supervisor"]}],
    }
    config, problems = parse_config(raw)
    assert problems == []
    grid = config.grids[0]
    assert grid.covers("翠苑小区", "5")
    assert not grid.covers(None, "5")
    assert not grid.covers("阳光花园", "5")
