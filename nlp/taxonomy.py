"""Default category taxonomy, loaded from nlp/data/categories.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from nlp.types import Category

# Public order of the taxonomy (the order of the issue); scoring ties use the data file order.
SLUG_ORDER = (
    "water_leak", "drainage", "noise", "sanitation", "parking", "ev_charging", "pets",
    "illegal_construction", "public_space", "neighbor_dispute", "facilities", "elevator",
    "fire_gas_safety", "public_order", "elderly_care", "utilities", "property", "greenery",
    "other",
)
OTHER = "other"


@dataclass(frozen=True, slots=True)
class TaxonomyData:
    categories: dict[str, Category]
    weights: dict[str, dict[str, float]]   # slug -> keyword -> weight
    priority: tuple[str, ...]               # tie-break order, most specific first
    whole_words: frozenset[str]             # must be a whole jieba token to count
    suffix_ok: frozenset[str]               # ...or end a token ("香樟树" still names a tree)
    canon: dict[str, str]                   # keyword -> canonical keyword (duplicate keys)


def _load() -> TaxonomyData:
    raw: dict[str, Any] = json.loads(
        resources.files("nlp").joinpath("data/categories.json").read_text("utf-8")
    )
    weights: dict[str, dict[str, float]] = {}
    cats: dict[str, Category] = {}
    for entry in raw["categories"]:
        kws = {str(k): float(v) for k, v in entry["keywords"].items()}
        weights[entry["slug"]] = kws
        cats[entry["slug"]] = Category(entry["slug"], entry["name"], tuple(kws))
    ordered = {slug: cats[slug] for slug in SLUG_ORDER}
    return TaxonomyData(
        categories=ordered,
        weights=weights,
        priority=tuple(e["slug"] for e in raw["categories"]),
        whole_words=frozenset(raw["whole"]),
        suffix_ok=frozenset(raw.get("suffix_ok", ())),
        canon=dict(raw["canon"]),
    )


TAXONOMY = _load()
DEFAULT_CATEGORIES: dict[str, Category] = TAXONOMY.categories
