"""Per-community knowledge: compound and place names, category renames and extra keywords."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nlp import segment
from nlp.taxonomy import OTHER, TAXONOMY
from nlp.types import Category

# Weight of keywords that a community adds in its config: a deliberate local word is strong.
CONFIG_KEYWORD_WEIGHT = 3.0
# Common compound-name endings; "阳光花园" may also be written "阳光小区" or just "阳光".
_NAME_SUFFIXES = (
    "花园", "小区", "名苑", "家园", "世家", "港湾", "公寓", "家属院", "新村", "苑", "园",
)


@dataclass(slots=True)
class Lexicon:
    categories: dict[str, Category]
    weights: dict[str, dict[str, float]]
    priority: tuple[str, ...]
    compounds: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    # alias -> canonical compound name, longest aliases first when matching
    compound_aliases: dict[str, str] = field(default_factory=dict)
    # keyword -> [(slug, weight)], plus first char -> sorted distinct keyword lengths
    keyword_index: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    first_char_lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    alias_order: tuple[str, ...] = ()
    # The community's learned category model (nlp.textmodel.CommunityModel), swapped in place
    # when a new version is promoted; None: the rules and the shipped model alone.
    community_model: Any = None

    def __post_init__(self) -> None:
        index: dict[str, list[tuple[str, float]]] = {}
        for slug, kws in self.weights.items():
            for word, weight in kws.items():
                if word:
                    index.setdefault(word, []).append((slug, weight))
        self.keyword_index = index
        lengths: dict[str, set[int]] = {}
        for word in index:
            lengths.setdefault(word[0], set()).add(len(word))
        self.first_char_lengths = {
            ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()
        }
        self.alias_order = tuple(sorted(self.compound_aliases, key=len, reverse=True))

    def category_name(self, slug: str | None) -> str:
        if slug is None or slug == OTHER or slug not in self.categories:
            return self.categories.get(OTHER, Category(OTHER, "其他")).name
        return self.categories[slug].name


def _aliases(names: Iterable[str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name in names:
        aliases[name] = name
        for suffix in _NAME_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                core = name[: -len(suffix)]
                aliases.setdefault(core + "小区", name)
                # The bare core ("阳光") is only an alias when it is distinctive (3+ chars);
                # two-character cores are too often ordinary words.
                if len(core) >= 3:
                    aliases.setdefault(core, name)
                break
    return aliases


def build_lexicon(
    compounds: Iterable[str] = (),
    places: Iterable[str] = (),
    categories: Iterable[Category] = (),
) -> Lexicon:
    """Merge community config into the default taxonomy.

    A category with an existing slug replaces its name and ADDS its keywords; a new slug is
    appended just before "other". Compound and place names are added to jieba once.
    """
    compounds_t = tuple(dict.fromkeys(c.strip() for c in compounds if c and c.strip()))
    places_t = tuple(dict.fromkeys(p.strip() for p in places if p and p.strip()))
    cats = dict(TAXONOMY.categories)
    weights = {slug: dict(kws) for slug, kws in TAXONOMY.weights.items()}
    priority = list(TAXONOMY.priority)
    for cat in categories:
        extra = {k: CONFIG_KEYWORD_WEIGHT for k in cat.keywords if k}
        if cat.slug in cats:
            old = cats[cat.slug]
            merged = tuple(dict.fromkeys(old.keywords + tuple(extra)))
            cats[cat.slug] = Category(cat.slug, cat.name or old.name, merged)
            for word, weight in extra.items():
                weights[cat.slug][word] = max(weights[cat.slug].get(word, 0.0), weight)
        else:
            cats.pop(OTHER, None)
            cats[cat.slug] = Category(cat.slug, cat.name or cat.slug, tuple(extra))
            cats[OTHER] = TAXONOMY.categories[OTHER]
            weights[cat.slug] = extra
            # New local categories are specific by nature, so they win ties.
            priority.insert(0, cat.slug)
    if compounds_t or places_t:
        segment.add_words(compounds_t + places_t)
    return Lexicon(
        categories=cats,
        weights=weights,
        priority=tuple(priority),
        compounds=compounds_t,
        places=places_t,
        compound_aliases=_aliases(compounds_t),
    )


_DEFAULT: Lexicon | None = None


def default_lexicon() -> Lexicon:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = build_lexicon()
    return _DEFAULT
