"""Read ``community.toml`` into a :class:`CommunityConfig`, collecting every problem.

Problems are reported in plain Chinese, one per line, with the place in the file they
refer to (``grids[2].areas[0]``), so a deployer can fix them all in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from community.conversations import parse_conversations
from community.model import (
    Area,
    Broadcast,
    CategoryConfig,
    CommunityConfig,
    Grid,
    Person,
    Role,
    SlaPolicy,
    SlaRule,
    WorkingHours,
)

ScheduleValidator = Callable[[str], str | None]
"""Returns an error message for a schedule expression, or None when it is valid."""


class ConfigError(Exception):
    """The config could not be used. ``problems`` lists every problem found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass
class _Collector:
    problems: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(wd|m|min|h|d|w)\s*$")
_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_RANGE_RE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


def parse_duration(value: Any) -> tuple[timedelta | None, int | None]:
    """Parse "15m", "2h", "1d", "1w" into a timedelta, or "3wd" into 3 working days.

    Returns ``(timedelta, None)`` or ``(None, working_days)``; raises ValueError.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(minutes=value), None
    if not isinstance(value, str):
        raise ValueError(f"时长应写成如 \"15m\"、\"2h\"、\"1d\"、\"3wd\"(工作日),而不是 {value!r}")
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(f"无法识别的时长 {value!r},应写成如 \"15m\"、\"2h\"、\"1d\"、\"3wd\"")
    amount, unit = float(match.group(1)), match.group(2)
    if unit == "wd":
        if amount != int(amount) or amount < 1:
            raise ValueError(f"工作日数应为正整数: {value!r}")
        return None, int(amount)
    minutes = {"m": 1, "min": 1, "h": 60, "d": 1440, "w": 10080}[unit] * amount
    if minutes <= 0:
        raise ValueError(f"时长必须大于零: {value!r}")
    return timedelta(minutes=minutes), None


def parse_buildings(value: Any) -> frozenset[str]:
    """Expand ``"1-12"``, ``[1, 3, "5-7"]`` or ``"1,3,5-7"`` into building number strings."""
    items: Iterable[Any]
    if isinstance(value, str):
        items = [part for part in re.split(r"[,，、\s]+", value) if part]
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"楼栋应写成 \"1-12\" 或列表,而不是 {value!r}")
    result: set[str] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            result.add(str(item))
            continue
        text = str(item).strip()
        match = _RANGE_RE.match(text)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if low > high or high - low > 500:
                raise ValueError(f"楼栋范围 {text!r} 不合理")
            result.update(str(n) for n in range(low, high + 1))
        elif text.isdigit():
            result.add(str(int(text)))
        else:
            raise ValueError(f"楼栋号 {text!r} 应为数字或 \"起-止\" 范围")
    return frozenset(result)


def _parse_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hour, minute = (int(x) for x in value.strip().split(":"))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"时间应写成 \"HH:MM\",而不是 {value!r}")


class _Reader:
    """Walks the TOML document; every accessor records problems instead of raising."""

    def __init__(self, raw: dict[str, Any], validate_schedule: ScheduleValidator | None) -> None:
        self.raw = raw
        self.out = _Collector()
        self.validate_schedule = validate_schedule

    # -- small typed getters --------------------------------------------------------------

    def text(self, table: dict[str, Any], key: str, where: str, *, required: bool = False,
             default: str | None = None) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.out.add(where, f"缺少必填项 {key}")
            return default
        if not isinstance(value, str) or not value.strip():
            self.out.add(where, f"{key} 应为非空文字")
            return default
        return value.strip()

    def text_list(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.out.add(where, f"{key} 应为文字列表")
            return ()
        return tuple(v.strip() for v in value)

    def tables(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            self.out.add(key, "应写成 [[" + key + "]] 表格数组")
            return []
        result = []
        for index, item in enumerate(value):
            where = f"{key}[{index + 1}]"
            if isinstance(item, dict):
                result.append((where, item))
            else:
                self.out.add(where, "应为表格")
        return result

    def schedule(self, expression: Any, where: str) -> str | None:
        if not isinstance(expression, str) or not expression.strip():
            self.out.add(where, "时间表达式应为非空文字,如 \"每周四 09:00\"")
            return None
        if self.validate_schedule is not None:
            error = self.validate_schedule(expression.strip())
            if error:
                self.out.add(where, f"时间表达式 {expression!r} 无效: {error}")
                return None
        return expression.strip()

    # -- sections -------------------------------------------------------------------------

    def community(self) -> tuple[str, str]:
        section = self.raw.get("community")
        if not isinstance(section, dict):
            self.out.add("", "缺少 [community] 部分(至少要写社区名称 name)")
            return "未命名社区", "Asia/Shanghai"
        name = self.text(section, "name", "community", required=True, default="未命名社区")
        tz = self.text(section, "timezone", "community", default="Asia/Shanghai") or "Asia/Shanghai"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.out.add("community", f"未知的时区 {tz!r}(例如 \"Asia/Shanghai\")")
            tz = "Asia/Shanghai"
        return name or "未命名社区", tz

    def areas(self, grid: dict[str, Any], where: str) -> tuple[Area, ...]:
        raw_areas = grid.get("areas", [])
        if not isinstance(raw_areas, list):
            self.out.add(where, "areas 应为列表")
            return ()
        areas: list[Area] = []
        for index, raw_area in enumerate(raw_areas):
            area_where = f"{where}.areas[{index + 1}]"
            if isinstance(raw_area, str):  # shorthand: "阳光花园" or "阳光花园:1-12"
                short_compound, _, short_buildings = raw_area.partition(":")
                raw_area = {"compound": short_compound.strip() or None,
                            "buildings": short_buildings or None}
            if not isinstance(raw_area, dict):
                self.out.add(area_where, "应为 {compound = \"…\", buildings = \"1-12\"}")
                continue
            compound = raw_area.get("compound")
            if compound is not None and (not isinstance(compound, str) or not compound.strip()):
                self.out.add(area_where, "compound 应为小区名称")
                compound = None
            buildings: frozenset[str] = frozenset()
            if raw_area.get("buildings") not in (None, ""):
                try:
                    buildings = parse_buildings(raw_area["buildings"])
                except ValueError as error:
                    self.out.add(area_where, str(error))
            if compound is None and not buildings:
                self.out.add(area_where, "至少要写小区名称 compound 或楼栋 buildings")
                continue
            areas.append(Area(compound=compound.strip() if compound else None, buildings=buildings))
        if not areas:
            self.out.add(where, "网格没有任何片区(areas),无法按地址派单")
        return tuple(areas)

    def chat_ids(self, grid: dict[str, Any], where: str) -> tuple[int, ...]:
        value = grid.get("chats", [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            self.out.add(where, "chats 应为群聊 id 数字列表,如 [-1001234567890]")
            return ()
        return tuple(value)

    def grids(self) -> tuple[Grid, ...]:
        grids: list[Grid] = []
        for where, table in self.tables("grids"):
            name = self.text(table, "name", where, required=True)
            if name is None:
                continue
            digest = None
            if "digest" in table:
                digest = self.schedule(table["digest"], f"{where}.digest")
            grids.append(Grid(
                name=name,
                areas=self.areas(table, where),
                chats=self.chat_ids(table, where),
                workers=self.text_list(table, "workers", where),
                backup=self.text(table, "backup", where),
                digest=digest,
            ))
        if not grids:
            self.out.add("grids", "至少需要一个 [[grids]] 网格")
        return tuple(grids)

    def people(self) -> tuple[Person, ...]:
        people: list[Person] = []
        for where, table in self.tables("people"):
            name = self.text(table, "name", where, required=True)
            if name is None:
                continue
            telegram_id = table.get("telegram_id")
            valid_id = isinstance(telegram_id, int) and not isinstance(telegram_id, bool)
            if telegram_id is not None and (not valid_id or telegram_id <= 0):
                self.out.add(where, f"{name} 的 telegram_id 应为正整数")
                telegram_id = None
            username = self.text(table, "username", where)
            if username is not None:
                username = username.lstrip("@")
            if telegram_id is None and username is None:
                self.out.add(where, f"{name} 没有 telegram_id 也没有 username,机器人无法认出此人")
            roles: set[Role] = set()
            for role_name in self.text_list(table, "roles", where):
                try:
                    roles.add(Role(role_name))
                except ValueError:
                    allowed = "、".join(r.value for r in Role)
                    self.out.add(where, f"{name} 的角色 {role_name!r} 未知(可选: {allowed})")
            if not roles:
                self.out.add(where, f"{name} 没有角色 roles")
            phone = table.get("phone")
            people.append(Person(
                key=name,
                telegram_id=telegram_id,
                username=username,
                roles=frozenset(roles),
                grids=self.text_list(table, "grids", where),
                categories=self.text_list(table, "categories", where),
                compounds=self.text_list(table, "compounds", where),
                phone=str(phone) if phone is not None else None,
            ))
        return tuple(people)

    def sla(self) -> SlaPolicy:
        section = self.raw.get("sla", {})
        if not isinstance(section, dict):
            self.out.add("sla", "应为表格")
            return SlaPolicy()
        defaults = SlaPolicy()
        rules: dict[str, SlaRule] = {}
        for level in ("emergency", "urgent", "normal"):
            base: SlaRule = getattr(defaults, level)
            raw_rule = section.get(level)
            if raw_rule is None:
                rules[level] = base
                continue
            if not isinstance(raw_rule, dict):
                self.out.add(f"sla.{level}", "应写成 {accept = \"15m\", resolve = \"4h\"}")
                rules[level] = base
                continue
            accept, accept_wd = base.accept, base.accept_working_days
            resolve, resolve_wd = base.resolve, base.resolve_working_days
            try:
                if "accept" in raw_rule:
                    accept, accept_wd = parse_duration(raw_rule["accept"])
                if "resolve" in raw_rule:
                    resolve, resolve_wd = parse_duration(raw_rule["resolve"])
            except ValueError as error:
                self.out.add(f"sla.{level}", str(error))
            rules[level] = SlaRule(accept, resolve, accept_wd, resolve_wd)
        durations: dict[str, timedelta] = {}
        for key in ("remind_before", "escalate_after", "long_overdue_after", "followup_after",
                    "close_unrated_after", "reopen_window", "duplicate_window", "stale_after"):
            if key not in section:
                continue
            try:
                delta, _working_days = parse_duration(section[key])
            except ValueError as error:
                self.out.add(f"sla.{key}", str(error))
                continue
            if delta is None:
                self.out.add(f"sla.{key}", "此项不支持工作日单位 wd,请用 m/h/d")
                continue
            durations[key] = delta
        fields: dict[str, Any] = {**rules, **durations}
        return SlaPolicy(**fields)

    def working_hours(self) -> WorkingHours:
        section = self.raw.get("working_hours", {})
        if not isinstance(section, dict):
            self.out.add("working_hours", "应写成 {start = \"08:30\", end = \"17:30\"}")
            return WorkingHours()
        hours = WorkingHours()
        try:
            start = _parse_time(section.get("start", "08:30"))
            end = _parse_time(section.get("end", "17:30"))
        except ValueError as error:
            self.out.add("working_hours", str(error))
            return hours
        if start >= end:
            self.out.add("working_hours", "上班时间 start 应早于下班时间 end")
            return hours
        return WorkingHours(start=start, end=end)

    def categories(self) -> tuple[CategoryConfig, ...]:
        result: list[CategoryConfig] = []
        for where, table in self.tables("categories"):
            slug = self.text(table, "slug", where, required=True)
            name = self.text(table, "name", where, required=True)
            if slug is None or name is None:
                continue
            if not _SLUG_RE.match(slug):
                self.out.add(where, f"分类代号 slug {slug!r} 只能用小写英文字母、数字和下划线")
                continue
            result.append(CategoryConfig(slug, name, self.text_list(table, "keywords", where)))
        return tuple(result)

    def broadcasts(self) -> tuple[Broadcast, ...]:
        result: list[Broadcast] = []
        for where, table in self.tables("broadcasts"):
            when = self.schedule(table.get("when"), f"{where}.when")
            text = self.text(table, "text", where, required=True)
            if when is None or text is None:
                continue
            grids = self.text_list(table, "grids", where)
            result.append(Broadcast(when=when, text=text, grids=grids))
        return tuple(result)


def _cross_check(config: CommunityConfig, out: _Collector) -> None:
    """Problems that need the whole config: references, overlaps, duplicates."""
    grid_names = [g.name for g in config.grids]
    for name in {n for n in grid_names if grid_names.count(n) > 1}:
        out.add("grids", f"网格名称 {name!r} 重复")
    people_keys = [p.key for p in config.people]
    for key in {k for k in people_keys if people_keys.count(k) > 1}:
        out.add("people", f"人员姓名 {key!r} 重复(姓名用作唯一标识)")
    ids = [p.telegram_id for p in config.people if p.telegram_id is not None]
    for dup in {i for i in ids if ids.count(i) > 1}:
        out.add("people", f"telegram_id {dup} 被多人使用")

    known_people = set(people_keys)
    for grid in config.grids:
        for key in (*grid.workers, *([grid.backup] if grid.backup else [])):
            if key not in known_people:
                out.add(f"网格 {grid.name}", f"人员 {key!r} 不在 [[people]] 中")
        workers = [config.person(k) for k in grid.workers]
        for person in workers:
            if person is not None and Role.WORKER not in person.roles:
                out.add(f"网格 {grid.name}", f"{person.key} 被列为网格员,但角色里没有 worker")

    from nlp.taxonomy import DEFAULT_CATEGORIES  # the taxonomy's one home

    category_slugs = set(DEFAULT_CATEGORIES) | {c.slug for c in config.categories}
    all_compounds = set(config.compounds)
    for person in config.people:
        for grid_name in person.grids:
            if config.grid(grid_name) is None:
                out.add(f"人员 {person.key}", f"所属网格 {grid_name!r} 不存在")
        for slug in person.categories:
            if slug not in category_slugs:
                out.add(f"人员 {person.key}", f"分类 {slug!r} 不存在")
        for compound in person.compounds:
            if compound not in all_compounds:
                out.add(f"人员 {person.key}", f"小区 {compound!r} 不属于任何网格")
        if Role.SPECIALIST in person.roles and not person.categories:
            out.add(f"人员 {person.key}", "专项人员(specialist)需要写负责的分类 categories")
    if not config.supervisors():
        out.add("people", "没有书记/主任(supervisor)或管理员(admin):升级和周报无人接收")

    for broadcast in config.broadcasts:
        for grid_name in broadcast.grids:
            if config.grid(grid_name) is None:
                out.add("broadcasts", f"定时通知的目标网格 {grid_name!r} 不存在")

    chat_owner: dict[int, str] = {}
    for grid in config.grids:
        for chat in grid.chats:
            if chat in chat_owner:
                out.add("grids", f"群聊 {chat} 同时属于 {chat_owner[chat]} 和 {grid.name}")
            chat_owner[chat] = grid.name
    _check_overlaps(config, out)


def _check_overlaps(config: CommunityConfig, out: _Collector) -> None:
    """Two grids may not claim the same building (or the same whole compound)."""
    owner: dict[tuple[str | None, str | None], str] = {}
    for grid in config.grids:
        for area in grid.areas:
            keys: list[tuple[str | None, str | None]] = [
                (area.compound, b) for b in sorted(area.buildings, key=int)
            ] or [(area.compound, None)]
            for key in keys:
                # A whole compound overlaps any building of the same compound.
                clashes = [
                    name for (compound, building), name in owner.items()
                    if name != grid.name and compound == key[0]
                    and (building is None or key[1] is None or building == key[1])
                ]
                for other in dict.fromkeys(clashes):
                    where = f"{key[0] or ''}{key[1] + '号楼' if key[1] else '(整个小区)'}"
                    out.add("grids", f"网格 {other} 与 {grid.name} 重叠: {where}")
                owner.setdefault(key, grid.name)




def parse_config(
    raw: dict[str, Any], *, validate_schedule: ScheduleValidator | None = None
) -> tuple[CommunityConfig, list[str]]:
    """Build a config from a parsed TOML document; returns it with the problems found."""
    reader = _Reader(raw, validate_schedule)
    name, timezone = reader.community()
    section = raw.get("community", {}) if isinstance(raw.get("community"), dict) else {}
    digest = "每周四 09:00"
    if "digest" in section:
        digest = reader.schedule(section["digest"], "community.digest") or digest
    retention = section.get("retention_days", 365)
    if not isinstance(retention, int) or isinstance(retention, bool) or retention < 1:
        reader.out.add("community", "retention_days 应为正整数(天)")
        retention = 365
    correction_days = section.get("correction_days", 90)
    if (not isinstance(correction_days, int) or isinstance(correction_days, bool)
            or correction_days < 0):
        reader.out.add("community", "correction_days 应为不小于 0 的整数(天)")
        correction_days = 90
    config = CommunityConfig(
        name=name,
        timezone=timezone,
        grids=reader.grids(),
        people=reader.people(),
        sla=reader.sla(),
        working_hours=reader.working_hours(),
        categories=reader.categories(),
        broadcasts=reader.broadcasts(),
        places=reader.text_list(section, "places", "community"),
        digest=digest,
        retention_days=retention,
        correction_days=correction_days,
        conversations=parse_conversations(raw.get("conversations"), reader.out.add,
                                          parse_duration),
    )
    _cross_check(config, reader.out)
    return config, reader.out.problems


def load_config(
    path: str | Path, *, validate_schedule: ScheduleValidator | None = None
) -> CommunityConfig:
    """Read and validate a config file; raises :class:`ConfigError` listing every problem."""
    config, problems = check_config(path, validate_schedule=validate_schedule)
    if problems or config is None:
        raise ConfigError(str(path), problems)
    return config


def check_config(
    path: str | Path, *, validate_schedule: ScheduleValidator | None = None
) -> tuple[CommunityConfig | None, list[str]]:
    """Like :func:`load_config` but returns ``(config, problems)`` without raising."""
    try:
        raw_bytes = Path(path).read_bytes()
    except OSError as error:
        return None, [f"无法读取配置文件 {path}: {error.strerror or error}"]
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [f"配置文件 {path} 不是 UTF-8 编码"]
    except tomllib.TOMLDecodeError as error:
        return None, [f"配置文件 {path} 不是合法的 TOML: {error}"]
    return parse_config(raw, validate_schedule=validate_schedule)
