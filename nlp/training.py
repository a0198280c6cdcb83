"""Offline training of nlp.charmodel from the labelled sets (`gridbot train-nlp`).

Multinomial logistic regression by plain stochastic gradient descent with a fixed seed, so
the same sets always give the same weights: the category head on the reports, the report and
the emergency heads on every message. The result records a digest of the training files; a
test fails when a labelled set changes and the model was not retrained.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from nlp.charmodel import CharModel, features
from nlp.normalize import normalize
from nlp.taxonomy import SLUG_ORDER

EPOCHS = 15
LEARNING_RATE = 0.1  # divided by (1 + epoch)
L2 = 1e-4
SEED = 0


def labelled_paths(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("nlp_*.jsonl"))


def data_digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def load_records(paths: Iterable[Path]) -> list[dict]:
    records = []
    for p in paths:
        for line in p.read_text("utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def _softmax_sgd(rows: Sequence[np.ndarray], labels: Sequence[int], n_rows: int,
                 n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Weights (n_rows x n_classes) of a softmax regression; each example lists its rows."""
    w = np.zeros((n_rows, n_classes))
    y = np.asarray(labels)
    for epoch in range(EPOCHS):
        step = LEARNING_RATE / (1 + epoch)
        for i in rng.permutation(len(rows)):
            idx = rows[i]
            z = w[idx].sum(axis=0)
            p = np.exp(z - z.max())
            p /= p.sum()
            p[y[i]] -= 1.0
            w[idx] -= step * (p[None, :] + L2 * w[idx])
    return w


def _slug_index(slugs: tuple[str, ...], slug: object) -> int:
    """A community's own category is "other" to the default model (its keywords decide it)."""
    return slugs.index(slug) if slug in slugs else slugs.index("other")


def train(records: Sequence[dict], digest: str = "") -> CharModel:
    slugs = tuple(SLUG_ORDER)
    feats = [features(normalize(str(r.get("text", "")))) for r in records]
    vocab = sorted({f for fs in feats for f in fs})
    index = {f: i for i, f in enumerate(vocab)}
    bias = len(vocab) + 1
    rows = [np.array(sorted({index[f] for f in fs} | {bias}), dtype=np.intp) for fs in feats]
    n_rows = len(vocab) + 2
    weights = np.zeros((n_rows, len(slugs) + 2))

    reports = [i for i, r in enumerate(records) if r.get("is_report")]
    cat = _softmax_sgd([rows[i] for i in reports],
                       [_slug_index(slugs, records[i].get("category")) for i in reports],
                       n_rows, len(slugs), np.random.default_rng(SEED))
    weights[:, : len(slugs)] = cat
    for col, label in ((len(slugs), lambda r: bool(r.get("is_report"))),
                       (len(slugs) + 1, lambda r: r.get("urgency") == "emergency")):
        w = _softmax_sgd(rows, [int(label(r)) for r in records], n_rows, 2,
                         np.random.default_rng(SEED))
        weights[:, col] = w[:, 1] - w[:, 0]  # two-class softmax as one log-odds column
    weights[len(vocab)] = 0.0  # unknown features weigh nothing
    return CharModel(vocab, weights, slugs, digest)


def train_files(paths: Sequence[Path], out: Path) -> CharModel:
    model = train(load_records(paths), data_digest(paths))
    model.save(out)
    return model
