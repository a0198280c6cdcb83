"""A deployment: one street office (街道) running several communities in one process.

The deployment file (TOML) lists the communities, each inline or as an ordinary
``community.toml`` included by path::

    [deployment]
    name = "幸福街道"
    database = "data"          # a directory for SQLite files <key>.db, or postgresql://…

    [[street_staff]]           # the street office: sees every community in the console
    name = "赵主任"
    telegram_id = 9001

    [[communities]]
    key = "xingfuli"           # ascii slug: file/schema name, prefix of ticket numbers
    token_env = "XINGFULI_BOT_TOKEN"
    include = "communities/xingfuli.toml"

    [[communities]]
    key = "anle"
    token_env = "ANLE_BOT_TOKEN"
    db = "anle.db"             # optional: this community's own database
    [communities.community]    # inline: the sections of a community.toml
    name = "安乐社区"
    [[communities.grids]]
    …

Each community keeps its own database (its own SQLite file, or its own schema in one
PostgreSQL database), so scoping by community holds by construction. Checking a
deployment checks each community as ``gridbot check`` does, then the whole: duplicate
keys, chats claimed by two communities, a person in two communities, token variables
that are malformed or unset, broken includes. Every problem is one Chinese line naming
the community and its file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from community.deployment_checks import ENV_RE, cross_check
from community.deployment_model import (
    DEFAULT_TOKEN_ENV,
    Deployment,
    DeploymentCommunity,
    StreetPerson,
    is_database_url,
)
from community.loader import ScheduleValidator, parse_config
from community.model import CommunityConfig

__all__ = [
    "DEFAULT_TOKEN_ENV",
    "Deployment",
    "DeploymentCommunity",
    "DeploymentError",
    "StreetPerson",
    "check_deployment",
    "is_database_url",
    "load_deployment",
    "parse_deployment",
    "single_community",
]

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ENTRY_KEYS = frozenset({"key", "include", "token_env", "db"})


class DeploymentError(Exception):
    """The deployment cannot be used; ``problems`` lists every problem, one line each."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _read_toml(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return None, f"无法读取 {path}: {error.strerror or error}"
    try:
        return tomllib.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, f"{path} 不是 UTF-8 编码"
    except tomllib.TOMLDecodeError as error:
        return None, f"{path} 不是合法的 TOML: {error}"


class _Loader:
    def __init__(self, path: Path, raw: dict[str, Any],
                 validate_schedule: ScheduleValidator | None) -> None:
        self.path = path
        self.base = path.parent
        self.raw = raw
        self.validate_schedule = validate_schedule
        self.problems: list[str] = []

    def add(self, message: str) -> None:
        self.problems.append(message)

    def section(self) -> tuple[str, str]:
        """The street office's name and the default database."""
        section = self.raw.get("deployment")
        if not isinstance(section, dict):
            self.add(f"{self.path}: 缺少 [deployment] 部分(至少要写街道名称 name)")
            return "未命名街道", str(self.base)
        name = section.get("name")
        if not isinstance(name, str) or not name.strip():
            self.add(f"{self.path}: [deployment] 缺少街道名称 name")
            name = "未命名街道"
        database = section.get("database", ".")
        if not isinstance(database, str) or not database.strip():
            self.add(f"{self.path}: [deployment] database 应为目录或 postgresql:// 地址")
            database = "."
        return name.strip(), database.strip()

    def street_staff(self) -> tuple[StreetPerson, ...]:
        value = self.raw.get("street_staff", [])
        if not isinstance(value, list):
            self.add(f"{self.path}: street_staff 应写成 [[street_staff]] 表格数组")
            return ()
        staff: list[StreetPerson] = []
        for index, table in enumerate(value, start=1):
            where = f"{self.path}: street_staff[{index}]"
            if not isinstance(table, dict):
                self.add(f"{where} 应为表格")
                continue
            name = table.get("name")
            if not isinstance(name, str) or not name.strip():
                self.add(f"{where} 缺少姓名 name")
                continue
            telegram_id = table.get("telegram_id")
            if (not isinstance(telegram_id, int) or isinstance(telegram_id, bool)
                    or telegram_id <= 0):
                self.add(f"{where}: {name} 需要 telegram_id(正整数;街道人员只按 id 识别,"
                         "用户名可被他人占用)")
                continue
            staff.append(StreetPerson(name.strip(), telegram_id))
        return tuple(staff)

    def db_for(self, key: str, own: Any, default: str, where: str) -> str:
        target = default
        if own is not None:
            if not isinstance(own, str) or not own.strip():
                self.add(f"{where}: db 应为 SQLite 文件路径或 postgresql:// 地址")
            else:
                target = own.strip()
                if not is_database_url(target):
                    return str(self.base / target)
                return target
        if is_database_url(target):
            return target
        return str(self.base / target / f"{key}.db")

    def community(self, index: int, entry: Any, default_db: str) -> DeploymentCommunity | None:
        where = f"{self.path}: communities[{index}]"
        if not isinstance(entry, dict):
            self.add(f"{where} 应为表格")
            return None
        key = entry.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key) or key.startswith("pg_"):
            shown = f" {key!r}" if key is not None else ""
            self.add(f"{where}: 社区代号 key{shown} 应为小写英文字母开头、由小写字母/数字/"
                     "下划线组成的短名(最多 32 个字符,不以 pg_ 开头),如 \"xingfuli\"")
            return None
        where = f"{self.path}: 社区 {key}"
        token_env = entry.get("token_env")
        if token_env is None:
            self.add(f"{where}: 缺少 token_env(存放该社区机器人令牌的环境变量名)")
            token_env = ""
        elif not isinstance(token_env, str) or not ENV_RE.match(token_env):
            self.add(f"{where}: token_env {token_env!r} 不是合法的环境变量名"
                     "(字母、数字、下划线,如 \"XINGFULI_BOT_TOKEN\")")
            token_env = ""
        db = self.db_for(key, entry.get("db"), default_db, where)
        config, source = self.config_of(entry, key, where)
        if config is None:
            return None
        return DeploymentCommunity(key=key, config=config, token_env=token_env, db=db,
                                   source=source)

    def config_of(self, entry: dict[str, Any], key: str,
                  where: str) -> tuple[CommunityConfig | None, str]:
        inline = {k: v for k, v in entry.items() if k not in ENTRY_KEYS}
        include = entry.get("include")
        if include is not None:
            if inline:
                self.add(f"{where}: 已用 include 引用 {include!r},不能再内联写 "
                         f"{'、'.join(sorted(inline))}")
                return None, str(self.path)
            if not isinstance(include, str) or not include.strip():
                self.add(f"{where}: include 应为社区配置文件的路径")
                return None, str(self.path)
            path = self.base / include.strip()
            raw, error = _read_toml(path)
            if raw is None:
                self.add(f"{where}: include 的文件有问题: {error}")
                return None, str(path)
            source = str(path)
        else:
            if "community" not in inline:
                self.add(f"{where}: 既没有 include = \"社区配置.toml\",也没有内联的 "
                         "[communities.community] 等部分")
                return None, str(self.path)
            raw, source = inline, str(self.path)
        config, problems = parse_config(raw, validate_schedule=self.validate_schedule)
        label = f"社区 {key} ({source})"
        for problem in problems:
            self.add(f"{label}: {problem}")
        return config, source


def parse_deployment(
    raw: dict[str, Any], path: str | Path, *, validate_schedule: ScheduleValidator | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Deployment, list[str]]:
    """Build a deployment from its parsed file; returns it with every problem found.
    ``environ`` (the process environment for ``gridbot check``/``run``) also checks that
    each ``token_env`` is set; None skips that (the console needs no token)."""
    loader = _Loader(Path(path), raw, validate_schedule)
    name, database = loader.section()
    staff = loader.street_staff()
    entries = raw.get("communities", [])
    communities: list[DeploymentCommunity] = []
    if not isinstance(entries, list) or not entries:
        loader.add(f"{path}: 至少需要一个 [[communities]] 社区")
        entries = entries if isinstance(entries, list) else []
    for index, entry in enumerate(entries, start=1):
        community = loader.community(index, entry, database)
        if community is not None:
            communities.append(community)
    deployment = Deployment(name=name, path=str(path), communities=tuple(communities),
                            street_staff=staff)
    loader.problems.extend(cross_check(deployment, environ))
    return deployment, loader.problems


def check_deployment(
    path: str | Path, *, validate_schedule: ScheduleValidator | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Deployment | None, list[str]]:
    """Read a deployment file (or a plain ``community.toml``: a deployment of one) and
    return it with every problem found, without raising."""
    raw, error = _read_toml(Path(path))
    if raw is None:
        return None, [error or f"无法读取 {path}"]
    if "deployment" not in raw and "communities" not in raw and "community" in raw:
        return _single(raw, Path(path), validate_schedule, environ)
    return parse_deployment(raw, path, validate_schedule=validate_schedule, environ=environ)


def load_deployment(
    path: str | Path, *, validate_schedule: ScheduleValidator | None = None,
    environ: Mapping[str, str] | None = None,
) -> Deployment:
    """Like :func:`check_deployment`, raising :class:`DeploymentError` on any problem."""
    deployment, problems = check_deployment(path, validate_schedule=validate_schedule,
                                            environ=environ)
    if problems or deployment is None:
        raise DeploymentError(str(path), problems)
    return deployment


def single_community(config: CommunityConfig, db: str, *, key: str = "community",
                     token_env: str = DEFAULT_TOKEN_ENV, source: str = "") -> Deployment:
    """A plain community as a deployment of one (its database and token as today)."""
    community = DeploymentCommunity(key=key, config=config, token_env=token_env, db=db,
                                    source=source)
    return Deployment(name=config.name, path=source, communities=(community,))


def _single(raw: dict[str, Any], path: Path, validate_schedule: ScheduleValidator | None,
            environ: Mapping[str, str] | None) -> tuple[Deployment, list[str]]:
    config, problems = parse_config(raw, validate_schedule=validate_schedule)
    deployment = single_community(config, str(path.parent / "gridbot.db"), source=str(path))
    return deployment, [f"{path}: {p}" for p in problems] + cross_check(deployment, environ)
