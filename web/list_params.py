"""The ticket list's query parameters (shared by /tickets, its poll and
/export/tickets.xlsx): parsed and validated into a :class:`TicketFilter`.

Anything malformed or oversized raises :class:`BadParameter` with a Chinese message (the
handlers answer 400 with it); unknown parameters are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from multidict import MultiMapping

from community.model import CommunityConfig
from nlp.taxonomy import SLUG_ORDER
from storage.console_repo import (
    ALL_STATES,
    SORTS,
    URGENCIES,
    CursorError,
    Sort,
    TicketFilter,
    decode_cursor,
)
from storage.search_index import MAX_QUERY_CHARS
from tickets.model import OPEN_STATES

#: Parameters that make up the filter (links and the export keep exactly these).
FILTER_KEYS = ("grid", "state", "category", "urgency", "overdue", "worker", "from", "to", "q",
               "sort")
NO_GRID = "none"
OPEN = "open"
MAX_QUERY_STRING = 2000
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2100, 1, 1)


class BadParameter(ValueError):
    """A parameter the list cannot use; ``str(exc)`` is the Chinese message."""


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: TicketFilter
    sort: Sort
    cursor: str | None
    params: dict[str, str]  # the validated filter parameters, as given (for links)

    def link(self, path: str = "/tickets", **extra: str) -> str:
        query = {**self.params, **extra}
        return path + ("?" + urlencode(query) if query else "")


def known_categories(config: CommunityConfig) -> list[str]:
    return list(dict.fromkeys([*SLUG_ORDER, *(c.slug for c in config.categories)]))


def single_value(query: MultiMapping[str] | Mapping[str, str], key: str, limit: int = 64) -> str:
    """The query parameter ``key`` stripped ("" when absent); 400 in Chinese when it is
    given twice or is longer than ``limit``."""
    values = query.getall(key, []) if isinstance(query, MultiMapping) else (
        [query[key]] if key in query else [])
    if len(values) > 1:
        raise BadParameter(f"参数 {key} 只能出现一次")
    value = values[0].strip() if values else ""
    if len(value) > limit:
        raise BadParameter(f"参数 {key} 太长（最多 {limit} 个字符）")
    return value


def _date(value: str, key: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"日期格式不对：{key} 应为 2026-11-01 这样的日期") from None
    if not _EARLIEST <= day < _LATEST:
        raise BadParameter(f"日期超出范围：{key}")
    return day


def parse_list_query(query: MultiMapping[str] | Mapping[str, str], config: CommunityConfig,
                     now: datetime, query_string: str = "") -> ListQuery:
    """Validate the list's parameters against the community's grids, people and
    categories. Raises :class:`BadParameter` (Chinese message) for any bad value."""
    if len(query_string) > MAX_QUERY_STRING:
        raise BadParameter("查询参数太长")
    tz = ZoneInfo(config.timezone)
    params: dict[str, str] = {}
    flt: dict[str, object] = {"now": now}

    grid = single_value(query, "grid")
    if grid == NO_GRID:
        flt["no_grid"] = True
    elif grid:
        if config.grid(grid) is None:
            raise BadParameter(f"没有这个网格：{grid}")
        flt["grid"] = grid
    if grid:
        params["grid"] = grid

    raw_states = single_value(query, "state", 200)
    if raw_states:
        states: list[str] = []
        for part in raw_states.split(","):
            part = part.strip()
            if part == OPEN:
                states += [s.value for s in OPEN_STATES]
            elif part in ALL_STATES:
                states.append(part)
            else:
                raise BadParameter(f"没有这个状态：{part[:20]}")
        flt["states"] = tuple(sorted(set(states)))
        params["state"] = raw_states

    category = single_value(query, "category")
    if category:
        if category not in known_categories(config):
            raise BadParameter(f"没有这个类别：{category}")
        flt["category"] = category
        params["category"] = category

    urgency = single_value(query, "urgency")
    if urgency:
        if urgency not in URGENCIES:
            raise BadParameter("紧急程度只能是 emergency、urgent 或 normal")
        flt["urgency"] = urgency
        params["urgency"] = urgency

    overdue = single_value(query, "overdue")
    if overdue not in ("", "0", "1"):
        raise BadParameter("参数 overdue 只能是 1 或 0")
    if overdue == "1":
        flt["overdue"] = True
        params["overdue"] = "1"

    worker = single_value(query, "worker")
    if worker:
        if config.person(worker) is None:
            raise BadParameter(f"没有这个工作人员：{worker}")
        flt["assignee"] = worker
        params["worker"] = worker

    first, last = _date(single_value(query, "from"), "from"), _date(single_value(query, "to"), "to")
    if first and last and first > last:
        raise BadParameter("开始日期晚于结束日期")
    if first:
        flt["created_from"] = datetime(first.year, first.month, first.day, tzinfo=tz)
        params["from"] = first.isoformat()
    if last:
        end = last + timedelta(days=1)
        flt["created_to"] = datetime(end.year, end.month, end.day, tzinfo=tz)
        params["to"] = last.isoformat()

    text = single_value(query, "q", MAX_QUERY_CHARS)
    if text:
        if any(ord(ch) < 32 for ch in text):
            raise BadParameter("搜索内容含有不可见字符")
        flt["text"] = text
        params["q"] = text

    sort_name = single_value(query, "sort") or "new"
    if sort_name not in SORTS:
        raise BadParameter(f"没有这种排序：{sort_name}")
    if sort_name != "new":
        params["sort"] = sort_name

    cursor = single_value(query, "after", 400) or None
    if cursor is not None:
        try:
            decode_cursor(cursor, SORTS[sort_name])
        except CursorError:
            raise BadParameter("翻页参数无效，请从第一页重新打开列表。") from None
    return ListQuery(TicketFilter(**flt), SORTS[sort_name], cursor, params)  # type: ignore[arg-type]
