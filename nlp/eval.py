"""Evaluation of the parser against a labelled JSON Lines corpus."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from nlp.lexicon import Lexicon
from nlp.parser import parse
from nlp.realdata import join_texts
from nlp.taxonomy import SLUG_ORDER

LOCATION_FIELDS = ("building", "unit", "room")


def load_corpus(path: str) -> list[dict[str, Any]]:
    """Labelled records; a record keyed by source and msg_id (a real set) gets its text from
    the data beside the repository (nlp.realdata), or RealDataMissing is raised."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    return join_texts(records)


def gold_categories(rec: dict[str, Any]) -> list[str]:
    """The first-choice category, then any others the labeller also accepts."""
    first = rec.get("category") or "other"
    return [first, *(c for c in rec.get("category_also") or () if c != first)]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


@dataclass
class Metrics:
    n: int = 0
    report_tp: int = 0
    report_fp: int = 0
    report_fn: int = 0
    cat_correct: int = 0
    cat_lenient: int = 0
    cat_total: int = 0
    emerg_tp: int = 0
    emerg_fp: int = 0
    emerg_fn: int = 0
    urgency_correct: int = 0
    loc_exact: int = 0
    loc_total: int = 0
    field_correct: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def report_precision(self) -> float:
        return _ratio(self.report_tp, self.report_tp + self.report_fp)

    @property
    def report_recall(self) -> float:
        return _ratio(self.report_tp, self.report_tp + self.report_fn)

    @property
    def report_f1(self) -> float:
        p, r = self.report_precision, self.report_recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def category_accuracy(self) -> float:
        return _ratio(self.cat_correct, self.cat_total)

    @property
    def category_lenient(self) -> float:
        """Category accuracy when any category the labeller also accepts counts."""
        return _ratio(self.cat_lenient, self.cat_total)

    @property
    def false_alarm_rate(self) -> float:
        """Emergencies raised where none was, per gold report."""
        return self.emerg_fp / self.cat_total if self.cat_total else 0.0

    @property
    def emergency_recall(self) -> float:
        return _ratio(self.emerg_tp, self.emerg_tp + self.emerg_fn)

    @property
    def emergency_precision(self) -> float:
        return _ratio(self.emerg_tp, self.emerg_tp + self.emerg_fp)

    @property
    def location_accuracy(self) -> float:
        return _ratio(self.loc_exact, self.loc_total)

    def field_accuracy(self, name: str) -> float:
        return _ratio(self.field_correct[name], self.n)

    def summary(self) -> dict[str, float]:
        return {
            "n": self.n,
            "report_precision": self.report_precision,
            "report_recall": self.report_recall,
            "report_f1": self.report_f1,
            "category_accuracy": self.category_accuracy,
            "category_lenient": self.category_lenient,
            "false_alarm_rate": self.false_alarm_rate,
            "emergency_recall": self.emergency_recall,
            "emergency_precision": self.emergency_precision,
            "location_exact": self.location_accuracy,
            **{f"{f}_accuracy": self.field_accuracy(f) for f in LOCATION_FIELDS},
        }


def evaluate(records: Iterable[dict[str, Any]], lexicon: Lexicon | None = None) -> Metrics:
    """Score parse() on labelled records.

    Category accuracy counts every gold report (a missed report is a wrong category).
    Location exact match is over records whose gold building/unit/room is not all null.
    """
    m = Metrics()
    for rec in records:
        m.n += 1
        res = parse(rec.get("text", ""), lexicon)
        tag = f"[{rec['msg_id']}] " if "msg_id" in rec else ""
        gold_report = bool(rec.get("is_report"))
        if res.is_report and gold_report:
            m.report_tp += 1
        elif res.is_report:
            m.report_fp += 1
            m.errors.append(f"FP report: {tag}{rec['text']}")
        elif gold_report:
            m.report_fn += 1
            m.errors.append(f"FN report [{rec.get('category')}]: {tag}{rec['text']}")
        if gold_report:
            m.cat_total += 1
            golds = gold_categories(rec)
            gold_cat = golds[0]
            pred_cat = res.category or "-"
            m.confusion[(gold_cat, pred_cat)] += 1
            if res.is_report and pred_cat in golds:
                m.cat_lenient += 1
            if pred_cat == gold_cat:
                m.cat_correct += 1
            elif res.is_report:
                m.errors.append(f"category {gold_cat}->{pred_cat}: {tag}{rec['text']}")
        gold_urg = rec.get("urgency") if gold_report else None
        pred_urg = res.urgency if res.is_report else None
        if gold_urg == pred_urg:
            m.urgency_correct += 1
        if gold_urg == "emergency" and pred_urg == "emergency":
            m.emerg_tp += 1
        elif pred_urg == "emergency":
            m.emerg_fp += 1
            m.errors.append(f"FP emergency: {tag}{rec['text']}")
        elif gold_urg == "emergency":
            m.emerg_fn += 1
            m.errors.append(f"MISSED emergency: {tag}{rec['text']}")
        gold_loc = rec.get("location") or {}
        pred_loc = res.location.to_dict()
        for f in LOCATION_FIELDS:
            if (gold_loc.get(f) or None) == pred_loc.get(f):
                m.field_correct[f] += 1
        if any(gold_loc.get(f) for f in LOCATION_FIELDS):
            m.loc_total += 1
            if all((gold_loc.get(f) or None) == pred_loc.get(f) for f in LOCATION_FIELDS):
                m.loc_exact += 1
            else:
                got = {f: pred_loc.get(f) for f in LOCATION_FIELDS}
                want = {f: gold_loc.get(f) for f in LOCATION_FIELDS}
                m.errors.append(f"location {want}->{got}: {tag}{rec['text']}")
    return m


def _print_metrics(title: str, m: Metrics, out: TextIO) -> None:
    out.write(f"== {title} ({m.n} messages) ==\n")
    out.write(
        f"report detection: precision {m.report_precision:.3f}  recall {m.report_recall:.3f}"
        f"  F1 {m.report_f1:.3f}\n"
    )
    out.write(
        f"category accuracy (gold reports): first-choice {m.category_accuracy:.3f}"
        f"  lenient {m.category_lenient:.3f} ({m.cat_total})\n"
    )
    out.write(
        f"emergency: recall {m.emergency_recall:.3f}  precision {m.emergency_precision:.3f}"
        f"  (tp {m.emerg_tp}, fp {m.emerg_fp}, fn {m.emerg_fn});"
        f"  false alarms per report {m.false_alarm_rate:.3f}\n"
    )
    out.write(
        f"location exact building/unit/room: {m.location_accuracy:.3f} ({m.loc_total});  "
        + "  ".join(f"{f} {m.field_accuracy(f):.3f}" for f in LOCATION_FIELDS)
        + "\n"
    )


def _print_categories(m: Metrics, out: TextIO) -> None:
    out.write("per-category precision / recall (gold reports):\n")
    slugs = [s for s in SLUG_ORDER if any(s in k for k in m.confusion)]
    for slug in slugs:
        tp = m.confusion[(slug, slug)]
        gold = sum(v for (g, _), v in m.confusion.items() if g == slug)
        pred = sum(v for (_, p), v in m.confusion.items() if p == slug)
        out.write(
            f"  {slug:<22} P {_ratio(tp, pred):.2f}  R {_ratio(tp, gold):.2f}  (n={gold})\n"
        )
    preds = slugs + (["-"] if any(p == "-" for _, p in m.confusion) else [])
    abbrev = {s: s[:5] for s in preds}
    out.write("confusion (rows gold, columns predicted; '-' = not detected as report):\n")
    out.write(" " * 22 + " ".join(f"{abbrev[p]:>5}" for p in preds) + "\n")
    for g in slugs:
        row = " ".join(f"{m.confusion[(g, p)] or '.':>5}" for p in preds)
        out.write(f"  {g:<20}{row}\n")


def run_eval_cli(path: str, stdout: TextIO, lexicon: Lexicon | None) -> int:
    """`gridbot eval-nlp FILE`: print the evaluation report; returns 0."""
    records = load_corpus(path)
    overall = evaluate(records, lexicon)
    _print_metrics("all", overall, stdout)
    splits = sorted({r["split"] for r in records if r.get("split")})
    for split in splits:
        _print_metrics(
            f"split {split}", evaluate([r for r in records if r.get("split") == split], lexicon),
            stdout,
        )
    _print_categories(overall, stdout)
    if overall.errors:
        stdout.write(f"errors ({len(overall.errors)}):\n")
        for err in overall.errors:
            stdout.write(f"  {err}\n")
    return 0
