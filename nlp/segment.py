"""jieba segmentation with the shipped domain dictionary.

A dedicated `jieba.Tokenizer` is used so that other code using the global jieba keeps its own
state. jieba's full default dictionary (349k words) costs ~0.5 s to load even from its cache;
the words rarer than `_MIN_DEFAULT_FREQ` never decide a boundary around our keywords, so a
trimmed copy (~52k words) plus the domain dictionary is written once into a temp dir and
loaded from there (jieba then caches it too). If anything fails (read-only temp dir, missing
files), we fall back to the domain dictionary alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import jieba

_MIN_DEFAULT_FREQ = 50
_KEYWORD_FREQ = 3000
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_added: set[str] = set()

jieba.setLogLevel(logging.WARNING)


def _domain_lines() -> list[str]:
    # Only real words go into the dictionary. Keyword *phrases* of the taxonomy ("水管漏",
    # "灯不亮") are deliberately left out: as dictionary entries they would steal characters
    # from the real words next to them ("水管漏|水").
    text = resources.files("nlp").joinpath("data/domain_dict.txt").read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _build_dictionary(cache_dir: Path) -> Path:
    domain = _domain_lines()
    default_dict = Path(jieba.__file__).with_name("dict.txt")
    digest = hashlib.sha1(
        "\n".join(domain).encode() + str(default_dict.stat().st_mtime_ns).encode()
    ).hexdigest()[:12]
    target = cache_dir / f"gridbot_jieba_{digest}.txt"
    if target.exists():
        return target
    domain_words = {ln.split()[0] for ln in domain}
    out = list(domain)
    with default_dict.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if (
                len(parts) >= 2
                and int(parts[1]) >= _MIN_DEFAULT_FREQ
                and parts[0] not in domain_words
            ):
                out.append(line.rstrip("\n"))
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
    os.replace(tmp, target)  # atomic, so concurrent processes never read half a file
    return target


def _create() -> jieba.Tokenizer:
    cache_dir = Path(tempfile.gettempdir()) / "gridbot-jieba"
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tok = jieba.Tokenizer(dictionary=str(_build_dictionary(cache_dir)))
        tok.tmp_dir = str(cache_dir)
        tok.initialize()
    except (OSError, ValueError):
        tok = jieba.Tokenizer(dictionary=str(Path(jieba.__file__).with_name("dict.txt")))
        tok.initialize()
    return tok


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _create()
    return _tokenizer


def add_words(words: Iterable[str], freq: int = _KEYWORD_FREQ) -> None:
    """Add community words (compound, place names) once; repeated calls are no-ops."""
    tok = tokenizer()
    with _lock:
        for word in words:
            word = word.strip()
            if len(word) > 1 and word not in _added:
                tok.add_word(word, freq)
                _added.add(word)


def is_word(word: str) -> bool:
    """True when `word` is a dictionary word (so jieba decides its boundaries)."""
    return bool(tokenizer().FREQ.get(word))


def cut(text: str) -> list[str]:
    # HMM off: it only guesses unknown words and would occasionally glue a keyword to a
    # neighbour; dictionary words are what the boundary checks need.
    return list(tokenizer().cut(text, HMM=False))


def token_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    for tok in cut(text):
        spans.append((pos, pos + len(tok)))
        pos += len(tok)
    return spans
