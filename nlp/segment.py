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
import math
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, cast

import jieba

_MIN_DEFAULT_FREQ = 50
_KEYWORD_FREQ = 3000
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_added: set[str] = set()
# log(freq) - log(total) of every dictionary word (None for a prefix that is not a word),
# built on first use and reset by add_words.
_logp: dict[str, float | None] | None = None
_ABSENT: Any = object()

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
        global _logp
        for word in words:
            word = word.strip()
            if len(word) > 1 and word not in _added:
                tok.add_word(word, freq)
                _added.add(word)
                _logp = None  # the totals changed: rebuild the log-probabilities


def is_word(word: str) -> bool:
    """True when `word` is a dictionary word (so jieba decides its boundaries)."""
    return bool(tokenizer().FREQ.get(word))


def cut(text: str) -> list[str]:
    # HMM off: it only guesses unknown words and would occasionally glue a keyword to a
    # neighbour; dictionary words are what the boundary checks need.
    return list(tokenizer().cut(text, HMM=False))


# jieba's own block and character classes (jieba.re_han_default, jieba.re_eng).
_HAN_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_ENG_CHAR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def token_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every token of `cut(text)`, computed without building the tokens.

    Same dictionary, same maximum-probability route and the same tie-breaks as jieba's
    `cut(HMM=False)` (a test compares the two on every labelled message and on random text);
    it only skips jieba's generators and per-step tuples, which made segmentation the largest
    single cost of a parse.
    """
    logp = _logp
    if logp is None:
        logp = _log_probabilities()
    spans: list[tuple[int, int]] = []
    pos = 0
    for block in _HAN_BLOCK.split(text):
        if not block:
            continue
        n = len(block)
        if _HAN_BLOCK.match(block):
            _route_spans(block, pos, logp, spans)
        else:  # outside a block jieba yields every character alone, "\r\n" as one token
            i = 0
            while i < n:
                step = 2 if block.startswith("\r\n", i) else 1
                spans.append((pos + i, pos + i + step))
                i += step
        pos += n
    return spans


def _log_probabilities() -> dict[str, float | None]:
    global _logp
    tok = tokenizer()
    with _lock:
        if _logp is None:
            logtotal = math.log(tok.total)
            table: dict[str, float | None] = {
                w: (math.log(f) - logtotal if f else None) for w, f in tok.FREQ.items()}
            table[""] = -logtotal  # the score of a character that is no word (jieba: log 1)
            _logp = table
        return _logp


def _route_spans(block: str, offset: int, logp: dict[str, float | None],
                 spans: list[tuple[int, int]]) -> None:
    n = len(block)
    get = logp.get
    no_word = cast(float, logp[""])  # set by _log_probabilities, never None
    score = [0.0] * (n + 1)
    last = list(range(n + 1))  # last index of the best word starting at k
    for k in range(n - 1, -1, -1):
        best = -math.inf
        best_end = k
        i = k
        frag = block[k]
        while i < n:
            lp = get(frag, _ABSENT)
            if lp is _ABSENT:
                break
            if lp is not None:
                s = lp + score[i + 1]
                if s >= best:  # jieba's max over (score, end): a tie goes to the longer word
                    best, best_end = s, i
            i += 1
            frag = block[k:i + 1]
        if best == -math.inf:
            best = no_word + score[k + 1]
        score[k] = best
        last[k] = best_end
    x = 0
    buf_start = -1  # consecutive single Latin letters / digits are merged into one token
    while x < n:
        y = last[x] + 1
        if y - x == 1 and block[x] in _ENG_CHAR:
            if buf_start < 0:
                buf_start = x
        else:
            if buf_start >= 0:
                spans.append((offset + buf_start, offset + x))
                buf_start = -1
            spans.append((offset + x, offset + y))
        x = y
    if buf_start >= 0:
        spans.append((offset + buf_start, offset + n))
