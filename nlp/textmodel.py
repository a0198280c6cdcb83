"""A community's own category model, learned from its labelled examples alone.

The shipped character model (`charmodel.py`) knows the default taxonomy. A community also has
labels of its own (垃圾分类督导, 群租房, a 12345 export's 城乡建设 …) and its own way of naming
things; this model learns them from the examples the community gives it (imported history,
workers' corrections, accepted tickets). It decides the category only: report or not and
urgency stay with the rules and the shipped model, which run first (`parser.parse`).

Features: character 1..3-grams of the normalised text (digits folded to "0", spaces to "|",
"^"/"$" at the ends), TF-IDF weighted (sublinear tf, smoothed idf), each vector L2-normalised.
Classifier: a multiclass linear model trained by the averaged passive-aggressive algorithm
(Crammer-Singer hinge loss, PA-I step) with a fixed seed, so the same examples always give the
same weights. Scoring a message is one dictionary lookup per feature and one small matrix
product (tens of microseconds for a group message).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass

import numpy as np

NGRAM_MAX = 3
MIN_DF = 2  # a feature must occur in at least two examples (one when there are few)
EPOCHS = 10
AGGRESSIVENESS = 1.0  # PA-I's C
SEED = 0
_FOLD = str.maketrans({**dict.fromkeys("0123456789", "0"), " ": "|"})


def _tf(count: int) -> float:
    """Sublinear term frequency: a word said three times is not three times the evidence."""
    return 1.0 + math.log(count)


def ngrams(text: str) -> list[str]:
    """Character 1..NGRAM_MAX-grams of normalised text, with boundary markers."""
    s = "^" + text.translate(_FOLD) + "$"
    out = list(s)
    for n in range(2, NGRAM_MAX + 1):
        out.extend(s[i:i + n] for i in range(len(s) - n + 1))
    return out


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    margin: float  # best score minus the runner-up (0 with a single label)


class TextModel:
    """Vocabulary with idf weights, and one weight column per label (plus a bias row)."""

    __slots__ = ("_idf", "_index", "_weights", "labels")

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, weights: np.ndarray,
                 labels: Sequence[str]) -> None:
        if idf.shape != (len(vocab),) or weights.shape != (len(vocab) + 1, len(labels)):
            raise ValueError("model arrays do not fit the vocabulary")
        self._index = {f: i for i, f in enumerate(vocab)}
        self._idf = np.asarray(idf, dtype=np.float32)
        self._weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.labels = tuple(labels)

    # --- scoring -------------------------------------------------------------------------
    def _vector(self, text: str | Counter[str]) -> tuple[np.ndarray, np.ndarray]:
        counts = text if isinstance(text, Counter) else Counter(ngrams(text))
        get = self._index.get
        ids, tf = [], []
        for feature, n in counts.items():
            i = get(feature)
            if i is not None:
                ids.append(i)
                tf.append(_tf(n))
        idx = np.asarray(ids, dtype=np.intp)
        values = np.asarray(tf, dtype=np.float32) * self._idf[idx] if ids else np.zeros(0)
        norm = float(np.linalg.norm(values))
        return idx, (values / norm if norm else values)

    def scores(self, text: str | Counter[str]) -> np.ndarray:
        """Scores per label of a normalised text (or of its n-gram counts)."""
        idx, values = self._vector(text)
        z = values @ self._weights[idx] if len(idx) else np.zeros(len(self.labels))
        return np.asarray(z + self._weights[-1], dtype=np.float64)

    def predict(self, text: str | Counter[str]) -> Prediction:
        z = self.scores(text)
        order = np.argsort(-z)
        best = int(order[0])
        margin = float(z[best] - z[order[1]]) if len(z) > 1 else 0.0
        return Prediction(self.labels[best], margin)

    # --- storage -------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        vocab = sorted(self._index, key=self._index.__getitem__)
        np.savez_compressed(buf, vocab=np.array("\n".join(vocab)), idf=self._idf,
                            weights=self._weights.astype(np.float16),
                            labels=np.array("\n".join(self.labels)))
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TextModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            vocab_s = str(z["vocab"])
            vocab = vocab_s.split("\n") if vocab_s else []
            return cls(vocab, z["idf"], z["weights"].astype(np.float32),
                       str(z["labels"]).split("\n"))

    @property
    def digest(self) -> str:
        """Content hash of the weights: the model's version."""
        h = hashlib.sha256()
        h.update("\n".join(self.labels).encode())
        h.update(self._idf.tobytes())
        h.update(self._weights.astype(np.float16).tobytes())
        return h.hexdigest()[:16]


def train_text_model(texts: Sequence[str], labels: Sequence[str], *,
                     epochs: int = EPOCHS, seed: int = SEED) -> TextModel:
    """Fit on normalised texts and their labels. Deterministic for the same input order."""
    if len(texts) != len(labels) or not texts:
        raise ValueError("need at least one example, with one label per text")
    classes = sorted(set(labels))
    counts = [Counter(ngrams(t)) for t in texts]
    df: Counter[str] = Counter()
    for feats in counts:
        df.update(feats.keys())
    min_df = MIN_DF if len(texts) >= 50 else 1
    vocab = sorted(f for f, d in df.items() if d >= min_df)
    index = {f: i for i, f in enumerate(vocab)}
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in vocab], dtype=np.float64)
    bias = len(vocab)
    vectors: list[tuple[np.ndarray, np.ndarray]] = []
    for feats in counts:
        pairs = [(index[f], _tf(k)) for f, k in feats.items() if f in index]
        idx = np.array([i for i, _ in pairs] + [bias], dtype=np.intp)
        vals = np.array([v * idf[i] for i, v in pairs] + [0.0])
        norm = float(np.linalg.norm(vals))
        if norm:
            vals /= norm
        vals[-1] = 1.0  # the bias feature
        vectors.append((idx, vals))
    y = np.array([classes.index(label) for label in labels])
    k = len(classes)
    w = np.zeros((len(vocab) + 1, k))
    if k > 1:
        # Averaged PA-I: `acc` holds the sum of step * update, so the average of all iterates
        # is w - acc / step at the end (the usual trick, no per-step copy of w).
        acc = np.zeros_like(w)
        step = 1.0
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            for i in rng.permutation(n):
                idx, vals = vectors[i]
                z = vals @ w[idx]
                yi = int(y[i])
                own = float(z[yi])
                z[yi] = -np.inf
                r = int(np.argmax(z))
                loss = 1.0 - (own - float(z[r]))
                if loss > 0.0:
                    tau = min(AGGRESSIVENESS, loss / (2.0 * float(vals @ vals)))
                    w[idx, yi] += tau * vals
                    w[idx, r] -= tau * vals
                    acc[idx, yi] += step * tau * vals
                    acc[idx, r] -= step * tau * vals
                step += 1.0
        w -= acc / step
    return TextModel(vocab, idf, w, classes)


def fit(raw_texts: Sequence[str], labels: Sequence[str]) -> TextModel:
    """The production path: normalise each raw text as the parser does, then train. Imported
    history, eval-history and retraining all learn through this one function."""
    from nlp.normalize import normalize

    return train_text_model([normalize(t) for t in raw_texts], labels)


# A community model overrides the rules' category only when it is this sure (PA margin).
MIN_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class CommunityModel:
    """The active community model: `model` learned from the shipped background sets plus the
    community's examples, `base` from the background alone (None when the model was trained on
    the community's examples only). The community's examples are what make `model` differ from
    `base`, so a category is overridden only where they changed the decision: messages unlike
    anything the community taught keep the rules' category exactly."""

    model: TextModel
    base: TextModel | None
    version: str

    def category(self, normalized: str, known: Container[str]) -> str | None:
        """The community's category for a report, or None to keep the rules' one."""
        counts = Counter(ngrams(normalized))
        pred = self.model.predict(counts)
        if pred.label not in known or pred.margin < MIN_MARGIN:
            return None
        if self.base is not None and self.base.predict(counts).label == pred.label:
            return None
        return pred.label

    @classmethod
    def from_blobs(cls, model: bytes, base: bytes | None, version: str) -> CommunityModel:
        return cls(TextModel.from_bytes(model),
                   TextModel.from_bytes(base) if base is not None else None, version)
