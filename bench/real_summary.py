"""Summary figures of a labelled real set, never its misses (how a blind part is scored without
being read): report F1 (P / R), first-choice and lenient category, false alarms per report (n of
N), building / unit / room per field and exact.

    .venv/bin/python bench/real_summary.py tests/data/real/tipdm_blind5.jsonl [...]
"""

from __future__ import annotations

import sys

from nlp.eval import evaluate, load_corpus


def summary(path: str) -> str:
    records = load_corpus(path)
    m = evaluate(records)
    return (
        f"{path}: n={len(records)} reports={m.cat_total} "
        f"report_f1={m.report_f1:.3f} (P {m.report_precision:.3f} / R {m.report_recall:.3f}) "
        f"category first={m.category_accuracy:.3f} lenient={m.category_lenient:.3f} "
        f"false_alarms={m.emerg_fp}/{m.cat_total} ({m.false_alarm_rate:.3f}) "
        f"b/u/r={m.field_accuracy('building'):.3f}/{m.field_accuracy('unit'):.3f}/"
        f"{m.field_accuracy('room'):.3f} exact={m.location_accuracy:.3f} ({m.loc_total})"
    )


def main(argv: list[str]) -> int:
    for path in argv or ["tests/data/real/tipdm_blind5.jsonl"]:
        print(summary(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
