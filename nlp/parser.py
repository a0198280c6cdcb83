"""The public `parse` entry point: normalise, locate, classify, build the duplicate key."""

from __future__ import annotations

import contextlib

from nlp.classify import decide
from nlp.lexicon import Lexicon, default_lexicon
from nlp.location import extract_location
from nlp.normalize import normalize
from nlp.taxonomy import TAXONOMY
from nlp.types import ParsedLocation, ParseResult

_TOP_FLOOR = ("顶楼", "楼顶", "顶层", "房顶")


def duplicate_key(category: str | None, location: ParsedLocation, keywords: tuple[str, ...],
                  text: str) -> str:
    """category|compound|building|unit|room|canonical keywords.

    Keywords are mapped to canonical forms and sorted, so "顶楼漏雨" and "楼顶渗水了" at the
    same address give the same key.
    """
    canon = TAXONOMY.canon
    words = {canon.get(k, k) for k in keywords[:3]}
    for word in _TOP_FLOOR:
        if word in text:
            words.add("顶楼")
            break
    parts = [
        category or "",
        location.compound or location.street or "",
        location.building or "",
        location.unit or "",
        location.room or "",
        ",".join(sorted(words)[:3]),
    ]
    return "|".join(parts)


def parse(text: str, lexicon: Lexicon | None = None) -> ParseResult:
    """Parse one message. Pure and synchronous; never raises on any str input."""
    lexicon = lexicon or default_lexicon()
    try:
        norm = normalize(text)
        location = extract_location(norm, lexicon)
        d = decide(norm, lexicon)
    except Exception:  # last-resort guard: a parser bug must not take the bot down
        return ParseResult(False, "chat", None, None, 0.5, ParsedLocation(), (), "", "")
    category = d.category
    community = lexicon.community_model
    if community is not None and d.is_report and d.urgency != "emergency":
        # The community's own words decide the category; the rules keep report and urgency
        # (an emergency keeps the rules' category, which routes it).
        with contextlib.suppress(Exception):  # a damaged model must not stop the parser
            category = community.category(norm, lexicon.categories) or category
    key = duplicate_key(category, location, d.keywords, norm) if d.is_report else ""
    return ParseResult(
        is_report=d.is_report,
        kind=d.kind,
        category=category,
        urgency=d.urgency,
        confidence=round(d.confidence, 4),
        location=location,
        keywords=d.keywords,
        duplicate_key=key,
        normalized_text=norm,
        has_signal=d.has_signal,
    )


def category_name(slug: str | None, lexicon: Lexicon | None = None) -> str:
    return (lexicon or default_lexicon()).category_name(slug)
