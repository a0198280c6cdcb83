"""A linear character n-gram model that the rules consult: category, report and emergency.

Features are the characters and character pairs of the normalised text with its digits removed
(an address names no problem, and "101" once taught it that rooms mean lifts), spaces as "|",
and "^" and "$" at the ends. One weight matrix holds three heads:

- category: each slug's logit minus the best one (0 for the model's choice, negative for the
  rest; trained on reports only);
- report: the log-odds that the message is a report;
- emergency: the log-odds that it is an emergency.

Scoring is one dictionary lookup per feature and one sum over the distinct features' rows,
about 15 µs per message. The
weights are trained offline from the labelled sets in tests/data by `nlp.training`
(`gridbot train-nlp`) and shipped in `data/charmodel.npz`; without that file the parser runs
on its rules alone. How the rules combine these scores is in classify.decide, and the
leave-one-set-out figures behind the weights and the mixing factors are in nlp/README.md.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from importlib import resources
from itertools import repeat
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

    __slots__ = ("_bias", "_index", "_unknown", "_weights", "digest", "slugs")

    def __init__(self, vocab: list[str], weights: np.ndarray, slugs: tuple[str, ...],
                 digest: str = "") -> None:
        if weights.shape != (len(vocab) + 2, len(slugs) + 2):
            raise ValueError(f"weights shape {weights.shape} does not fit the vocabulary")
        self._index = {f: i for i, f in enumerate(vocab)}
        self._unknown = len(vocab)
        self._bias = len(vocab) + 1
        self._weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.slugs = slugs
        self.digest = digest

    @property
    def vocabulary(self) -> list[str]:
        return sorted(self._index, key=self._index.__getitem__)

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    def raw(self, text: str) -> list[float]:
        """Summed weights of the message's distinct features (category logits, report,
        emergency). Each feature counts once, as in training, so saying a thing twice does
        not make it twice as likely."""
        get, unknown = self._index.get, repeat(self._unknown)
        s = "^" + text.translate(_FOLD) + "$"
        rows = {*map(get, s, unknown), *map(get, map(str.__add__, s, s[1:]), unknown),
                self._bias}
        rows.discard(self._unknown)
        return self._weights.take(list(rows), axis=0).sum(axis=0).tolist()

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

    def save(self, path: Path) -> None:
        """Write atomically (a temp file renamed over `path`), so an interrupted training
        never leaves a half-written model behind."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:  # a file object: numpy adds no ".npz" to the name
            np.savez_compressed(
                fh,
                vocab=np.array("\n".join(self.vocabulary)),
                weights=self._weights.astype(np.float16),
                slugs=np.array("\n".join(self.slugs)),
                digest=np.array(self.digest),
            )
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path | str) -> CharModel:
        with np.load(path, allow_pickle=False) as data:
            vocab = str(data["vocab"]).split("\n")
            slugs = tuple(str(data["slugs"]).split("\n"))
            return cls(vocab, data["weights"].astype(np.float32), slugs, str(data["digest"]))


log = logging.getLogger(__name__)
_lock = threading.Lock()
_model: CharModel | None = None
_loaded = False


def default_model() -> CharModel | None:
    """The shipped model, loaded once; None (the rules alone) when the file is missing or
    damaged. Never raises: a bad model file must not silence the parser."""
    global _model, _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                try:
                    with resources.as_file(resources.files("nlp").joinpath(MODEL_FILE)) as p:
                        _model = CharModel.load(p)
                except Exception as error:  # missing, truncated, not a zip, wrong shape ...
                    log.warning("character model not loaded, using the rules alone: %r", error)
                    _model = None
                finally:
                    _loaded = True
    return _model
