"""Clause-level readings shared by category scoring and urgency: is a phrase negated,
hypothetical, in the past, about somewhere else, or already resolved."""

from __future__ import annotations

import re
from functools import lru_cache

from nlp import patterns as P


def crossed(i: int, j: int, spans: list[tuple[int, int]]) -> bool:
    for a, b in spans:
        if a >= j:
            break
        if (a < i < b and b < j) or (i < a < j and b > j):
            return True
    return False


def is_negated(text: str, start: int, end: int, thing: bool = False) -> bool:
    """Negated before or after. For a thing (a manhole cover, a handrail) "没了" after it
    means it is missing, which is the problem, not its absence."""
    before = text[max(0, start - 6): start]
    if P.NEG_BEFORE.search(before):
        return True
    m = P.NEG_AFTER.match(text[end: end + 8])
    if m and thing and _MISSING.match(m.group(0)):
        return False
    return bool(m)


_MISSING = re.compile(r"^(?:已经|已|都)?没有?了")


@lru_cache(maxsize=8)  # asked several times per message by different layers
def is_elsewhere(text: str) -> bool:
    """News, a forward or an article about somewhere else, not told as the writer's own case."""
    return bool(P.NEWS.search(text)) and not (
        P.LOCAL_NOW.search(text) or P.FIRST_PERSON.search(text))


@lru_cache(maxsize=8)  # asked several times per message by different layers
def is_resolved(text: str) -> bool:
    """The message says the matter is over (and does not say it came back)."""
    return bool(P.RESOLVED.search(text) or P.RESOLVED_MORE.search(text)) and not (
        P.RELAPSE.search(text))


def clause_before(text: str, start: int, width: int = 10) -> str:
    """The text before `start` back to the previous clause break (at most `width` chars)."""
    chunk = text[max(0, start - width): start]
    for sep in ("。", "!", "?", ",", ";", " "):
        k = chunk.rfind(sep)
        if k >= 0:
            chunk = chunk[k + 1:]
    return chunk


def not_happening(text: str, start: int, end: int) -> bool:
    """Negated, hypothetical ("万一着火"), averted ("差点摔倒") or past ("上次着火")."""
    if is_negated(text, start, end):
        return True
    if start > 0 and text[start - 1] == "防":  # 防溺水, 防跌倒: prevention, not an event
        return True
    before = clause_before(text, start)
    if P.HYPOTHETICAL.search(before) or P.PAST.search(before):
        return True
    return bool(P.HYPO_AFTER.match(text[end: end + 6]))
