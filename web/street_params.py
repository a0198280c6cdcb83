"""The street ticket list's query parameters (``/street/tickets`` and its export): the
community list's filters that mean the same in every community, checked as the
community list checks them, plus ``c`` (which communities).

``grid`` and ``worker`` name one community's grids and people, so the street list
ignores them (as it ignores any unknown parameter); ``category`` may be any category of
a chosen community (a community's own categories filter the others to nothing); ``q``
may also be a number as the street list shows it, ``anle 2611-0001``. Dates
are each community's own days (its config's time zone). Bad values raise
:class:`~web.list_params.BadParameter` with a Chinese message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

from multidict import MultiMapping

from community.model import CommunityConfig
from services.street_list import decode_street_cursor
from storage.console_repo import NUMBER_RE, CursorError, Sort, TicketFilter
from web.list_params import (
    MAX_QUERY_STRING,
    BadParameter,
    known_categories,
    parse_list_query,
    single_value,
)

#: The community list's parameters that the street list takes over unchanged.
SHARED_KEYS = ("state", "urgency", "overdue", "from", "to", "q", "sort")
#: Parameters that make up the street filter (links and the export keep exactly these).
STREET_FILTER_KEYS = ("c", *SHARED_KEYS, "category")
BAD_CURSOR = "翻页参数无效，请从第一页重新打开列表。"


@dataclass(frozen=True, slots=True)
class StreetQuery:
    chosen: tuple[str, ...]  # community keys, in the deployment's order
    filters: dict[str, TicketFilter]  # each chosen community's filter
    sort: Sort
    cursor: str | None
    params: dict[str, str]  # the validated parameters, as given (for links)

    def link(self, path: str = "/street/tickets", **extra: str) -> str:
        query = {**self.params, **extra}
        return path + ("?" + urlencode(query) if query else "")


def _chosen(query: MultiMapping[str], keys: Sequence[str]) -> tuple[str, ...]:
    """``c=a,b`` or ``c=a&c=b`` (the form's checkboxes); nothing = every community."""
    wanted: set[str] = set()
    for value in query.getall("c", []):
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if part not in keys:
                raise BadParameter(f"没有这个社区：{part[:20]}")
            wanted.add(part)
    return tuple(k for k in keys if k in wanted) if wanted else tuple(keys)


def parse_street_query(query: MultiMapping[str], communities: Sequence[tuple[str, CommunityConfig]],
                       now: datetime, query_string: str = "") -> StreetQuery:
    """Validate the street list's parameters; raises BadParameter (Chinese) for any bad
    value. ``communities``: every community of the deployment, in its order."""
    keys = [key for key, _ in communities]
    if len(query_string) > MAX_QUERY_STRING + 24 * len(keys):  # room for every ``c``
        raise BadParameter("查询参数太长")
    picked = chosen = _chosen(query, keys)
    configs = dict(communities)
    shared = {key: single_value(query, key, 200) for key in SHARED_KEYS if key in query}
    given_text = shared.get("q", "")
    community, _, number = given_text.partition(" ")
    if community in keys and NUMBER_RE.match(number.strip()):
        # A number as the street list shows it ("anle 2611-0001"): that community's.
        chosen = tuple(k for k in chosen if k == community)
        shared["q"] = number.strip()
    category = single_value(query, "category")
    if category and not any(category in known_categories(configs[k])
                            for k in chosen or keys):
        raise BadParameter(f"没有这个类别：{category}")
    cursor = single_value(query, "after", 400) or None

    filters: dict[str, TicketFilter] = {}
    parsed = None
    for key in chosen:
        parsed = parse_list_query(shared, configs[key], now)
        filters[key] = (replace(parsed.filter, category=category) if category
                        else parsed.filter)
    if parsed is None:  # "anle 2611-0001" while 安乐 is not among the chosen
        parsed = parse_list_query(shared, configs[keys[0]], now)
    params = dict(parsed.params)
    if given_text:
        params["q"] = given_text
    if category:
        params["category"] = category
    if len(picked) < len(keys):
        params = {"c": ",".join(picked), **params}
    if cursor is not None:
        try:
            decode_street_cursor(cursor, parsed.sort, {k: i for i, k in enumerate(keys)})
        except CursorError:
            raise BadParameter(BAD_CURSOR) from None
    return StreetQuery(chosen, filters, parsed.sort, cursor, params)
