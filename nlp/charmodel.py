"""A linear character n-gram model that the rules consult: category, report and emergency.

Features are the characters and character pairs of the normalised text with its digits removed
(an address names no problem, and "101" once taught it that rooms mean lifts), spaces as "|",
and "^" and "$" at the ends. One weight matrix holds three heads:

- category: each slug's logit minus the best one (0 for the model's choice, negative for the
  rest; trained on reports only);
- report: the log-odds that the message is a report;
- emergency: the log-odds that it is an emergency.

Scoring is one dictionary lookup per feature and one row sum, about 10 µs per message. The
weights are trained offline from the labelled sets in tests/data by `nlp.training`
(`gridbot train-nlp`) and shipped in `data/charmodel.npz`; without that file the parser runs
on its rules alone. How the rules combine these scores is in classify.decide, and the
leave-one-set-out figures behind the weights and the mixing factors are in nlp/README.md.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

MODEL_FILE = "data/charmodel.npz"
NGRAM_MAX = 2
_FOLD = str.maketrans({**dict.fromkeys("0123456789"), " ": "|"})


def features(text: str) -> list[str]:
    """Character 1..NGRAM_MAX-grams of normalised text, with boundary markers."""
    s = "^" + text.translate(_FOLD) + "$"
    return [*s, *map(str.__add__, s, s[1:])]


@dataclass(frozen=True, slots=True)
class ModelScores:
    category_margin: dict[str, float]  # slug -> its logit minus the best logit (<= 0)
    best_category: str
    report_logit: float
    emergency_logit: float


class CharModel:
    """Weights: one row per feature, then a zero row (unknown features) and a bias row.
    Columns: one per category slug, then the report and the emergency log-odds."""

    __slots__ = ("_char_rows", "_fused", "_index", "_pair_rows", "_weights", "digest", "slugs")

    def __init__(self, vocab: list[str], weights: np.ndarray, slugs: tuple[str, ...],
                 digest: str = "") -> None:
        if weights.shape != (len(vocab) + 2, len(slugs) + 2):
            raise ValueError(f"weights shape {weights.shape} does not fit the vocabulary")
        self._index = {f: i for i, f in enumerate(vocab)}
        self._weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.slugs = slugs
        self.digest = digest
        self._fuse()

    def _fuse(self) -> None:
        """Fold each character's weights into the pairs that end with it, so scoring looks up
        one row per pair instead of one per pair and one per character (the same sums: in
        "^…$" every character but "^" ends exactly one pair, and "^" is always there, so
        it joins the bias). A pair the model never saw falls back to its last character."""
        w, index = self._weights, self._index
        bias = w[len(index) + 1] + (w[index["^"]] if "^" in index else 0.0)
        chars = [f for f in index if len(f) == 1]
        pairs = [f for f in index if len(f) == 2]
        zero = np.zeros(w.shape[1], dtype=np.float32)
        rows = [zero, bias]  # 0: a pair and a character never seen; 1: bias
        self._char_rows: dict[str, int] = {}
        for c in chars:
            self._char_rows[c] = len(rows)
            rows.append(w[index[c]])
        self._pair_rows: dict[str, int] = {}
        for p in pairs:
            self._pair_rows[p] = len(rows)
            rows.append(w[index[p]] + (w[index[p[1]]] if p[1] in index else zero))
        self._fused = np.ascontiguousarray(np.vstack(rows), dtype=np.float32)

    @property
    def vocabulary(self) -> list[str]:
        return sorted(self._index, key=self._index.__getitem__)

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    def raw(self, text: str) -> list[float]:
        """Summed weights of the message's features (category logits, report, emergency)."""
        pair_row, char_row = self._pair_rows.get, self._char_rows.get
        s = "^" + text.translate(_FOLD) + "$"
        rows = [pair_row(p) or char_row(p[1], 0) for p in map(str.__add__, s, s[1:])]
        rows.append(1)
        return self._fused.take(rows, axis=0).sum(axis=0).tolist()

    def score(self, text: str) -> ModelScores:
        z = self.raw(text)
        k = len(self.slugs)
        logits = z[:k]
        top = max(logits)
        return ModelScores(
            category_margin={slug: v - top for slug, v in zip(self.slugs, logits, strict=True)},
            best_category=self.slugs[logits.index(top)],
            report_logit=z[k],
            emergency_logit=z[k + 1],
        )

    def evidence(self, text: str, slug: str, limit: int = 3) -> list[str]:
        """The character pairs of the message that pushed hardest towards `slug`."""
        if slug not in self.slugs:
            return []
        col = self.slugs.index(slug)
        get = self._index.get
        weighed = {}
        folded = text.translate(_FOLD)
        for pair in map(str.__add__, folded, folded[1:]):
            i = get(pair)
            if i is not None and "|" not in pair:
                weighed[pair] = float(self._weights[i, col])
        best = sorted(((w, p) for p, w in weighed.items() if w > 0.3), reverse=True)
        return [p for _, p in best[:limit]]

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            vocab=np.array("\n".join(self.vocabulary)),
            weights=self._weights.astype(np.float16),
            slugs=np.array("\n".join(self.slugs)),
            digest=np.array(self.digest),
        )

    @classmethod
    def load(cls, path: Path | str) -> CharModel:
        with np.load(path, allow_pickle=False) as data:
            vocab = str(data["vocab"]).split("\n")
            slugs = tuple(str(data["slugs"]).split("\n"))
            return cls(vocab, data["weights"].astype(np.float32), slugs, str(data["digest"]))


_lock = threading.Lock()
_model: CharModel | None = None
_loaded = False


def default_model() -> CharModel | None:
    """The shipped model, loaded once; None when the file is missing or unreadable."""
    global _model, _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                try:
                    with resources.as_file(resources.files("nlp").joinpath(MODEL_FILE)) as p:
                        _model = CharModel.load(p)
                except (OSError, ValueError, KeyError):
                    _model = None
                _loaded = True
    return _model
