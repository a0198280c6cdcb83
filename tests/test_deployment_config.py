"""The deployment file: includes and inline communities, where each database lives, and
every whole-deployment problem reported as one Chinese line naming the communities — each
problem shown present and absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import main
from community import example_config_text
from community.deployment import (
    DeploymentError,
    check_deployment,
    load_deployment,
    single_community,
)
from services.schedules import schedule_error
from tests.support.deployment import ANLE_INLINE, ENVIRON, TOKEN_A, write_deployment
from tests.support.e2e import example_community


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    _, problems = check_deployment(path, validate_schedule=schedule_error,
                                   environ=ENVIRON if environ is None else environ)
    return problems


def test_a_good_deployment_loads_with_includes_and_inline_communities(tmp_path: Path) -> None:
    deployment = load_deployment(write_deployment(tmp_path), environ=ENVIRON)
    assert deployment.name == "幸福街道"
    xingfuli, anle = deployment.communities
    assert (xingfuli.key, xingfuli.config.name) == ("xingfuli", "幸福里社区")
    assert xingfuli.source == str(tmp_path / "communities" / "xingfuli.toml")
    assert xingfuli.config == example_community()  # an included file reads as on its own
    assert (anle.key, anle.config.name, anle.source) == ("anle", "安乐社区",
                                                          str(tmp_path / "deployment.toml"))
    assert xingfuli.db == str(tmp_path / "data" / "xingfuli.db")
    assert anle.db == str(tmp_path / "data" / "anle.db")
    assert xingfuli.schema is None
    [chief] = deployment.street_staff
    assert deployment.street_person(9001) == chief and deployment.street_person(1000) is None


def test_postgres_gives_each_community_its_schema(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        'database = "data"', 'database = "postgresql://grid@db.example/street"')
    path.write_text(text.replace('key = "anle"', 'key = "anle"\ndb = "anle-own.db"'),
                    encoding="utf-8")
    xingfuli, anle = load_deployment(path, environ=ENVIRON).communities
    assert (xingfuli.db, xingfuli.schema) == ("postgresql://grid@db.example/street", "xingfuli")
    assert (anle.db, anle.schema) == (str(tmp_path / "anle-own.db"), None)


def test_a_plain_community_file_is_a_deployment_of_one(tmp_path: Path) -> None:
    path = tmp_path / "community.toml"
    path.write_text(example_config_text(), encoding="utf-8")
    deployment = load_deployment(path, environ={"TELEGRAM_BOT_TOKEN": TOKEN_A})
    [only] = deployment.communities
    assert only.config == example_community() and only.token_env == "TELEGRAM_BOT_TOKEN"
    assert single_community(example_community(), "g.db").communities[0].db == "g.db"


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    with pytest.raises(DeploymentError) as raised:
        load_deployment(write_deployment(tmp_path), environ={})
    assert len(raised.value.problems) == 2  # two token variables unset


def test_each_community_is_checked_as_on_its_own(tmp_path: Path) -> None:
    assert problems_of(write_deployment(tmp_path)) == []
    broken = ANLE_INLINE.replace('workers = ["孙丽"]', 'workers = ["无名"]')
    [problem] = problems_of(write_deployment(tmp_path, anle=broken))
    assert problem.startswith(f"社区 anle ({tmp_path / 'deployment.toml'}): ")
    assert "无名" in problem
    write_deployment(tmp_path)
    include = tmp_path / "communities" / "xingfuli.toml"
    include.write_text(include.read_text(encoding="utf-8").replace(
        '每周四 09:00', '每周八 09:00', 1), encoding="utf-8")
    [problem] = problems_of(tmp_path / "deployment.toml")
    assert problem.startswith(f"社区 xingfuli ({include}): ") and "每周八" in problem


def test_bad_includes(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("communities/xingfuli.toml", "communities/none.toml"),
                    encoding="utf-8")
    [problem] = problems_of(path)
    assert "社区 xingfuli" in problem and "none.toml" in problem and "无法读取" in problem
    (tmp_path / "communities" / "broken.toml").write_text("[community\n", encoding="utf-8")
    path.write_text(good.replace("communities/xingfuli.toml", "communities/broken.toml"),
                    encoding="utf-8")
    [problem] = problems_of(path)
    assert "broken.toml" in problem and "不是合法的 TOML" in problem
    path.write_text(good.replace('include = "communities/xingfuli.toml"',
                                 'include = "communities/xingfuli.toml"\n'
                                 '[communities.community]\nname = "重复"'), encoding="utf-8")
    [problem] = problems_of(path)
    assert "不能再内联" in problem and "社区 xingfuli" in problem


def test_duplicate_keys(tmp_path: Path) -> None:
    path = write_deployment(tmp_path, anle=ANLE_INLINE.replace('key = "anle"',
                                                               'key = "xingfuli"'))
    problems = problems_of(path)
    assert any(p.startswith("社区代号 xingfuli 重复") for p in problems)
    assert not any("社区代号" in p for p in problems_of(write_deployment(tmp_path)))


def test_malformed_keys_and_token_variables(tmp_path: Path) -> None:
    path = write_deployment(tmp_path, anle=ANLE_INLINE.replace('key = "anle"', 'key = "安乐"'))
    [problem] = problems_of(path)
    assert "社区代号 key '安乐'" in problem and "小写英文字母" in problem
    path = write_deployment(tmp_path, anle=ANLE_INLINE.replace('key = "anle"', 'key = "pg_anle"'))
    [problem] = problems_of(path)
    assert "社区代号 key 'pg_anle'" in problem  # PostgreSQL reserves the prefix
    path = write_deployment(tmp_path, anle=ANLE_INLINE.replace('"ANLE_BOT_TOKEN"', '"ANLE-TOKEN"'))
    [problem] = problems_of(path)
    assert "社区 anle" in problem and "不是合法的环境变量名" in problem


def test_a_chat_in_two_communities(tmp_path: Path) -> None:
    clash = ANLE_INLINE.replace("chats = [-1002000000001]", "chats = [-1001000000001]")
    [problem] = problems_of(write_deployment(tmp_path, anle=clash))
    assert problem.startswith("群聊 -1001000000001 同时属于 社区 xingfuli (xingfuli.toml) 的 "
                              "第一网格 与 社区 anle (deployment.toml) 的 安乐一网格")


def test_a_person_in_two_communities(tmp_path: Path) -> None:
    by_id = ANLE_INLINE.replace("telegram_id = 3001", "telegram_id = 1001")
    [problem] = problems_of(write_deployment(tmp_path, anle=by_id))
    assert problem.startswith("Telegram id 1001 同时是 社区 xingfuli (xingfuli.toml) 的 王芳 "
                              "与 社区 anle (deployment.toml) 的 孙丽")
    by_name = ANLE_INLINE.replace("telegram_id = 3001", 'telegram_id = 3001\n'
                                  'username = "WangFang_Grid"')
    [problem] = problems_of(write_deployment(tmp_path, anle=by_name))
    assert problem.startswith("用户名 @wangfang_grid 同时是") and "孙丽" in problem


def test_token_variables_must_be_set(tmp_path: Path) -> None:
    path = write_deployment(tmp_path)
    [problem] = problems_of(path, {"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": "  "})
    assert problem == "环境变量 ANLE_BOT_TOKEN 未设置:社区 anle (deployment.toml) 的机器人令牌从它读取"
    assert problems_of(path, {"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": TOKEN_A}) == []
    _, unchecked = check_deployment(path, environ=None)  # the console needs no token
    assert unchecked == []


def test_two_communities_on_one_database_file(tmp_path: Path) -> None:
    shared = ANLE_INLINE.replace('key = "anle"', 'key = "anle"\ndb = "data/xingfuli.db"')
    [problem] = problems_of(write_deployment(tmp_path, anle=shared))
    assert "使用同一个数据库文件" in problem and "社区 xingfuli" in problem


def test_street_staff_problems(tmp_path: Path) -> None:
    extra = '\n[[street_staff]]\nname = "钱科长"\n\n[[street_staff]]\nname = "孙科长"\ntelegram_id = 9001\n'
    problems = problems_of(write_deployment(tmp_path, extra))
    assert len(problems) == 2
    assert any("钱科长 需要 telegram_id" in p for p in problems)
    assert any("telegram_id 9001 重复" in p for p in problems)
    also_staff = ANLE_INLINE.replace("telegram_id = 3000", "telegram_id = 9001")
    [problem] = problems_of(write_deployment(tmp_path, anle=also_staff))
    assert problem.startswith("街道人员 赵主任 (telegram_id 9001) 同时是 社区 anle")


def test_no_communities_and_no_deployment_section(tmp_path: Path) -> None:
    path = tmp_path / "deployment.toml"
    path.write_text("[[street_staff]]\nname = '赵主任'\ntelegram_id = 9001\n", encoding="utf-8")
    problems = problems_of(path)
    assert any("缺少 [deployment]" in p for p in problems)
    assert any("至少需要一个 [[communities]]" in p for p in problems)


def test_gridbot_check_deployment(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_deployment(tmp_path)
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    assert main(["check", "--deployment", str(path)]) == 0
    out = capsys.readouterr().out
    assert "部署无误: 幸福街道,2 个社区,2 个机器人令牌,1 位街道人员" in out
    assert "xingfuli: 幸福里社区" in out and "anle: 安乐社区" in out
    clash = ANLE_INLINE.replace("telegram_id = 3001", "telegram_id = 1001")
    write_deployment(tmp_path, anle=clash)
    monkeypatch.delenv("ANLE_BOT_TOKEN")
    assert main(["check", "--deployment", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"部署文件 {path} 有 2 个问题:"
    assert len(lines) == 3 and all(line.startswith("  - ") for line in lines[1:])
