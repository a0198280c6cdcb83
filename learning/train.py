"""Training a community model and the guard that decides whether it may replace the active one.

Recipe (`train_candidate`): the shipped labelled sets (tests/data/nlp_*.jsonl, the golden
sets left out) as background plus the community's examples, each community example counted
`COMMUNITY_WEIGHT` times; a second model on the background alone is the `base` the community
model is compared with (see nlp.textmodel.CommunityModel).

Guard (`judge`): the recipe is trained on the community's older examples and compared with
the active model on (a) the frozen golden set shipped in nlp/data/golden.jsonl and (b) the
newest `HOLDOUT_SHARE` of the community's examples (a time split). Category accuracy may not
drop by more than `MAX_ACCURACY_DROP` on either, and emergency recall may not drop at all.
Only then is the recipe trained on all examples promoted.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import nlp
from nlp.textmodel import CommunityModel, TextModel, fit

COMMUNITY_WEIGHT = 5
HOLDOUT_SHARE = 0.2
MAX_ACCURACY_DROP = 0.01
GOLDEN_SETS = ("nlp_blind17", "nlp_blind18", "nlp_blind19", "nlp_blind20")
DATA_DIR = Path(__file__).resolve().parents[1] / "tests" / "data"


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    category: str


def golden_set() -> list[dict[str, Any]]:
    text = resources.files("nlp").joinpath("data/golden.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def background_examples(data_dir: Path | None = None) -> list[Labelled]:
    """The shipped labelled reports (without the golden sets); empty when the sets are not
    installed (then the community model learns from the community's examples alone)."""
    d = data_dir or DATA_DIR
    out: list[Labelled] = []
    for path in sorted(d.glob("nlp_*.jsonl")) if d.is_dir() else []:
        if path.stem in GOLDEN_SETS:
            continue
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec.get("is_report") and rec.get("category"):
                    out.append(Labelled(str(rec["text"]), str(rec["category"])))
    return out


@functools.lru_cache(maxsize=2)
def _base_model(key: tuple[Labelled, ...]) -> TextModel:
    return fit([e.text for e in key], [e.category for e in key])


def train_candidate(examples: Sequence[Labelled], background: Sequence[Labelled]
                    ) -> CommunityModel:
    if not examples:
        raise ValueError("no community examples to learn from")
    texts = [e.text for e in background]
    labels = [e.category for e in background]
    for _ in range(COMMUNITY_WEIGHT if background else 1):
        texts += [e.text for e in examples]
        labels += [e.category for e in examples]
    model = fit(texts, labels)
    base = _base_model(tuple(background)) if background else None
    return CommunityModel(model, base, model.digest)


# --- measuring ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Metrics:
    golden_accuracy: float
    golden_emergency_recall: float
    holdout_accuracy: float | None
    holdout_n: int

    def as_dict(self) -> dict[str, Any]:
        return {"golden_accuracy": round(self.golden_accuracy, 4),
                "golden_emergency_recall": round(self.golden_emergency_recall, 4),
                "holdout_accuracy": (None if self.holdout_accuracy is None
                                     else round(self.holdout_accuracy, 4)),
                "holdout_n": self.holdout_n}


def category_of(text: str, lexicon: nlp.Lexicon) -> str | None:
    """The category the bot would file a known report under (the community model also
    speaks for a text the rules would not have taken as a report)."""
    p = nlp.parse(text, lexicon)
    if p.is_report or lexicon.community_model is None:
        return p.category
    with_model = lexicon.community_model.category(p.normalized_text, lexicon.categories)
    return with_model or p.category


def measure(model: CommunityModel | None, lexicon: nlp.Lexicon,
            holdout: Sequence[Labelled], golden: Sequence[dict[str, Any]]) -> Metrics:
    saved = lexicon.community_model
    lexicon.community_model = model
    try:
        right = total = em_hit = em_total = 0
        for rec in golden:
            p = nlp.parse(str(rec["text"]), lexicon)
            if rec.get("is_report") and rec.get("category"):
                total += 1
                right += p.category == rec["category"]
            if rec.get("urgency") == "emergency":
                em_total += 1
                em_hit += p.urgency == "emergency"
        hold_right = sum(category_of(e.text, lexicon) == e.category for e in holdout)
    finally:
        lexicon.community_model = saved
    return Metrics(right / total if total else 0.0, em_hit / em_total if em_total else 1.0,
                   hold_right / len(holdout) if holdout else None, len(holdout))


@dataclass(slots=True)
class Verdict:
    promote: bool
    reasons: list[str] = field(default_factory=list)
    candidate: Metrics | None = None
    active: Metrics | None = None


def compare(candidate: Metrics, active: Metrics) -> Verdict:
    reasons: list[str] = []
    if candidate.golden_accuracy < active.golden_accuracy - MAX_ACCURACY_DROP:
        reasons.append(f"标准测试集分类准确率 {candidate.golden_accuracy:.3f} 低于现用模型 "
                       f"{active.golden_accuracy:.3f} 超过 {MAX_ACCURACY_DROP}")
    if candidate.golden_emergency_recall < active.golden_emergency_recall:
        reasons.append(f"标准测试集紧急情况召回率 {candidate.golden_emergency_recall:.3f} 低于现用模型 "
                       f"{active.golden_emergency_recall:.3f}")
    if (candidate.holdout_accuracy is not None and active.holdout_accuracy is not None
            and candidate.holdout_accuracy < active.holdout_accuracy - MAX_ACCURACY_DROP):
        reasons.append(f"社区最近 {candidate.holdout_n} 条样本上的分类准确率 "
                       f"{candidate.holdout_accuracy:.3f} 低于现用模型 {active.holdout_accuracy:.3f}")
    return Verdict(not reasons, reasons, candidate, active)


def time_split(examples: Sequence[Labelled]) -> tuple[list[Labelled], list[Labelled]]:
    """Older examples to train on, the newest HOLDOUT_SHARE to test on (oldest first in)."""
    n_hold = int(len(examples) * HOLDOUT_SHARE)
    if n_hold == 0 or len(examples) - n_hold == 0:
        return list(examples), []
    return list(examples[:-n_hold]), list(examples[-n_hold:])


@dataclass(slots=True)
class Outcome:
    verdict: Verdict
    model: CommunityModel | None  # the model to promote (trained on all examples)
    examples: int
    background: int


def judge_and_train(examples: Sequence[Labelled], lexicon: nlp.Lexicon,
                    active: CommunityModel | None, *,
                    background: Sequence[Labelled] | None = None,
                    candidate_for_test: CommunityModel | None = None) -> Outcome:
    """The whole retraining step (CPU-bound: run it in a worker process). Examples are in
    time order. `candidate_for_test` replaces the recipe's evaluation model (tests of the
    guard with a deliberately degraded candidate)."""
    bg = background_examples() if background is None else list(background)
    older, holdout = time_split(examples)
    golden = golden_set()
    evaluated = candidate_for_test or train_candidate(older or examples, bg)
    verdict = compare(measure(evaluated, lexicon, holdout, golden),
                      measure(active, lexicon, holdout, golden))
    final = None
    if verdict.promote:
        final = candidate_for_test or (train_candidate(examples, bg) if holdout else evaluated)
    return Outcome(verdict, final, len(examples), len(bg))
