"""`gridbot eval-history`: what GridBot would learn from a community's labelled history.

A fresh model is trained on TRAIN through the production path (`nlp.textmodel.fit`, the
function that learns from imported history), with nothing shipped about those labels, and
scored on TEST: per-category precision and recall, then accuracy and macro-F1.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.normalize import normalize
from nlp.textmodel import TextModel, fit


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float
    macro_f1: float
    n: int
    per_label: dict[str, tuple[float, float, float, int]]  # label -> (precision, recall, f1, support)


def score(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    labels = sorted(set(gold) | set(predicted))
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    per: dict[str, tuple[float, float, float, int]] = {}
    for label in labels:
        prec = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        rec = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[label] = (prec, rec, f1, tp[label] + fn[label])
    in_gold = [per[label][2] for label in labels if per[label][3]]
    n = len(gold)
    return Scores(sum(tp.values()) / n if n else 0.0,
                  sum(in_gold) / len(in_gold) if in_gold else 0.0, n, per)


def predict_all(model: TextModel, texts: Sequence[str]) -> list[str]:
    return [model.predict(normalize(t)).label for t in texts]


def format_report(s: Scores, extra: Sequence[str] = ()) -> str:
    width = max([len(label) for label in s.per_label] + [4])
    lines = [f"{'分类':<{width}}  precision  recall     f1  n"]
    for label, (p, r, f, n) in sorted(s.per_label.items(), key=lambda kv: -kv[1][3]):
        lines.append(f"{label:<{width}}  {p:9.3f}  {r:6.3f}  {f:5.3f}  {n}")
    lines.extend(extra)
    lines.append(f"accuracy={s.accuracy:.3f} macro_f1={s.macro_f1:.3f} n={s.n}")
    return "\n".join(lines)


def evaluate(train: Sequence[tuple[str, str]], test: Sequence[tuple[str, str]]) -> str:
    """Train on (text, label) pairs, score the test pairs, return the printed report."""
    started = time.perf_counter()
    model = fit([t for t, _ in train], [label for _, label in train])
    trained = time.perf_counter() - started
    started = time.perf_counter()
    predicted = predict_all(model, [t for t, _ in test])
    per_msg = (time.perf_counter() - started) / max(1, len(test))
    unseen = sorted({label for _, label in test} - set(model.labels))
    extra = [f"训练 {len(train)} 条,{len(model.labels)} 个分类,用时 {trained:.1f} 秒;"
             f"每条预测 {per_msg * 1000:.2f} 毫秒"]
    if unseen:
        extra.append("测试集中有训练集没有的分类:" + "、".join(unseen))
    return format_report(score([label for _, label in test], predicted), extra)
