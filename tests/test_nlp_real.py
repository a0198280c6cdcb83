"""Real citizens' messages (TipDM board, ../shared/data/tipdm2020c): labelled by hand and
keyed by message id, the text joined at run time (see nlp/realdata.py and nlp/README.md,
"Ninth round"). These tests fail, with a message saying where the data was expected, when the
data is missing: CI lays out a copy of shared/ beside the clone."""

import io
import json
from pathlib import Path

import pytest

from nlp import run_eval_cli
from nlp.eval import evaluate, load_corpus
from nlp.realdata import DEFAULT_DATA_DIR, RealDataMissing, data_dir, join_texts

REAL = Path(__file__).parent / "data" / "real"
DEV = REAL / "tipdm_dev.jsonl"
BLIND = REAL / "tipdm_blind.jsonl"
BLIND2 = REAL / "tipdm_blind2.jsonl"  # drawn at random after the first blind part was spent
# drawn at random (bench/tipdm_split.py --draw 160 --seed 2027) after the second was spent
BLIND3 = REAL / "tipdm_blind3.jsonl"
# eleventh round, drawn at random (--draw 200 --seed 2028, then --draw 120 --seed 2029): a random
# development sample (the formal head's training data with blind2 and blind3) and a blind part
RANDOM_DEV = REAL / "tipdm_random_dev.jsonl"
BLIND4 = REAL / "tipdm_blind4.jsonl"
# twelfth round (--draw 150 --seed 2030 for blind5, then --seed 2031 for random_dev2), both
# labelled before the round's first code change: a blind part and a second random dev sample
BLIND5 = REAL / "tipdm_blind5.jsonl"
RANDOM_DEV2 = REAL / "tipdm_random_dev2.jsonl"
# thirteenth round (--draw 120 --seed 2032), labelled before the round's first code change
BLIND6 = REAL / "tipdm_blind6.jsonl"


def _raw(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def test_real_data_is_beside_the_repository() -> None:
    path = data_dir() / "fj3_messages_votes.csv"
    assert path.is_file(), (
        f"real-message data missing: {path}. Put a copy of shared/ beside the repository "
        f"({DEFAULT_DATA_DIR}) or set GRIDBOT_TIPDM."
    )


def test_labelled_sets_hold_ids_and_labels_but_no_text() -> None:
    dev, blind = _raw(DEV), _raw(BLIND)
    assert len(dev) + len(blind) >= 300
    assert 0.28 <= len(blind) / (len(dev) + len(blind)) <= 0.40  # a third kept blind
    blind2, blind3 = _raw(BLIND2), _raw(BLIND3)
    assert len(blind2) >= 100 and len(blind3) >= 150
    random_dev, blind4 = _raw(RANDOM_DEV), _raw(BLIND4)
    assert len(random_dev) >= 200 and len(blind4) >= 120
    blind5, random_dev2 = _raw(BLIND5), _raw(RANDOM_DEV2)
    assert len(blind5) >= 150 and len(random_dev2) >= 150
    blind6 = _raw(BLIND6)
    assert len(blind6) >= 120
    every = dev + blind + blind2 + blind3 + random_dev + blind4 + blind5 + random_dev2 + blind6
    ids = [r["msg_id"] for r in every]
    assert len(ids) == len(set(ids))
    for rec in every:
        assert "text" not in rec and "title" not in rec  # never the citizens' words
        assert rec["source"] == "fj3_messages_votes.csv"
        assert isinstance(rec["is_report"], bool)
        if rec["is_report"]:
            assert rec["category"]
    # spread over the families of issue 13, with real non-reports among them
    assert sum(not r["is_report"] for r in dev) >= 30
    assert len({r["category"] for r in dev if r["is_report"]}) >= 15


def test_join_fills_every_text() -> None:
    for path in (DEV, BLIND, BLIND2, BLIND3, RANDOM_DEV, BLIND4, BLIND5, RANDOM_DEV2):
        records = load_corpus(str(path))
        assert all(isinstance(r["text"], str) and r["text"] for r in records)


def test_missing_data_fails_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(RealDataMissing, match="real-message data not found"):
        join_texts(_raw(DEV)[:1], tmp_path)
    (tmp_path / "fj3_messages_votes.csv").write_text("msg_id,detail\n1,x\n", "utf-8")
    with pytest.raises(RealDataMissing, match="is not in"):
        join_texts(_raw(DEV)[:1], tmp_path)


@pytest.mark.parametrize(("path", "f1", "first", "lenient", "room"), [
    (DEV, 0.93, 0.72, 0.85, 0.97),
    (BLIND, 0.91, 0.72, 0.83, 0.97),  # scored blind once, then used for fixes (nlp/README.md)
    (BLIND2, 0.86, 0.69, 0.79, 0.97),  # scored blind once (ninth round), tuned on in the tenth
    # labelled for the eleventh round's fitting (before it: F1 0.922, first-choice 0.674,
    # lenient 0.792)
    (RANDOM_DEV, 0.93, 0.71, 0.82, 0.94),
    # twelfth round's random development sample (before the round: 0.864, 0.720, 0.800)
    (RANDOM_DEV2, 0.86, 0.70, 0.78, 0.94),
])
def test_real_tuned_set_floors(path: Path, f1: float, first: float, lenient: float,
                               room: float) -> None:
    """Floors a little below the measured figures of the sets the rules were fitted to.
    Before the ninth round, dev: F1 0.905, first-choice category 0.550, lenient 0.718,
    building 0.865."""
    m = evaluate(load_corpus(str(path)))
    assert m.report_f1 >= f1
    assert m.category_accuracy >= first
    assert m.category_lenient >= lenient
    assert m.field_accuracy("building") >= 0.94
    assert m.field_accuracy("room") >= room
    assert m.false_alarm_rate <= 0.01


def test_real_blind3_floors() -> None:
    """blind3, a random sample labelled before the tenth round's changes and scored twice (the
    code before them: F1 0.826, first-choice 0.634, lenient 0.768; the final code: 0.855, 0.652,
    0.777). Since the eleventh round it is training data of the formal head (0.880, 0.696,
    0.821). Floors a little below the current figures."""
    m = evaluate(load_corpus(str(BLIND3)))
    assert m.report_f1 >= 0.86
    assert m.category_accuracy >= 0.67
    assert m.category_lenient >= 0.80
    assert m.field_accuracy("building") >= 0.95
    assert m.field_accuracy("room") >= 0.95
    assert m.false_alarm_rate <= 0.01


def test_real_blind4_floors() -> None:
    """blind4, a random sample labelled before the eleventh round's changes and scored twice,
    its misses unread until the end (the code before: F1 0.893, first-choice 0.678, lenient
    0.770; the final code: 0.926, 0.747, 0.839; one false alarm of 87 reports both times).
    Spent since: the twelfth round fitted the report head to it (0.923, 0.747, 0.839, no
    false alarm)."""
    m = evaluate(load_corpus(str(BLIND4)))
    assert m.report_f1 >= 0.91
    assert m.category_accuracy >= 0.73
    assert m.category_lenient >= 0.82
    assert m.field_accuracy("building") >= 0.95
    assert m.field_accuracy("room") >= 0.97
    assert m.false_alarm_rate <= 0.012  # was 1 of 87 (children's nosebleeds), now none


def test_real_blind5_floors() -> None:
    """blind5, a random sample labelled before the twelfth round's changes and scored twice by
    bench/real_summary.py (summary figures only), its misses read only after the second (the
    code before: F1 0.876, first-choice 0.745, lenient 0.800; the final code: 0.892, 0.755,
    0.809; no false alarm of 110 reports either time). Floors a little below the final
    figures; the set is never fitted or tuned on."""
    m = evaluate(load_corpus(str(BLIND5)))
    assert m.report_f1 >= 0.88
    assert m.category_accuracy >= 0.74
    assert m.category_lenient >= 0.79
    assert m.field_accuracy("building") >= 0.95
    assert m.field_accuracy("room") >= 0.92
    assert m.false_alarm_rate <= 0.01


def test_real_blind6_floors() -> None:
    """blind6, a random sample labelled before the thirteenth round's changes and scored twice
    by bench/real_summary.py (summary figures only), its misses read only after the second (the
    code before: F1 0.857, first-choice 0.679, lenient 0.790, room 0.975; the final code: 0.855,
    0.691, 0.790, room 1.000; no false alarm of 81 reports either time). Floors a little below
    the final figures; the set is never fitted or tuned on."""
    m = evaluate(load_corpus(str(BLIND6)))
    assert m.report_f1 >= 0.84
    assert m.category_accuracy >= 0.67
    assert m.category_lenient >= 0.77
    assert m.field_accuracy("building") >= 0.94
    assert m.field_accuracy("room") >= 0.98
    assert m.false_alarm_rate <= 0.01


def test_eval_cli_prints_first_choice_and_lenient_category() -> None:
    out = io.StringIO()
    assert run_eval_cli(str(DEV), out, None) == 0
    text = out.getvalue()
    assert "first-choice" in text and "lenient" in text and "false alarms per report" in text
