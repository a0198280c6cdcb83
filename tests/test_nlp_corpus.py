from pathlib import Path

from nlp.eval import evaluate, load_corpus

CORPUS = Path(__file__).parent / "data" / "nlp_corpus.jsonl"


def test_corpus_shape() -> None:
    records = load_corpus(str(CORPUS))
    assert len(records) >= 450
    assert sum(not r["is_report"] for r in records) >= len(records) // 4
    cats = {r["category"] for r in records if r["is_report"]}
    assert len(cats) == 19


def test_corpus_quality_floors() -> None:
    """Floors a little below the measured figures, so regressions fail."""
    m = evaluate(load_corpus(str(CORPUS)))
    assert m.report_f1 >= 0.95
    assert m.category_accuracy >= 0.88
    assert m.emergency_recall >= 0.75
    assert m.emergency_precision >= 0.85
    assert m.location_accuracy >= 0.90


def test_held_out_split_floors() -> None:
    records = [r for r in load_corpus(str(CORPUS)) if r.get("split") == "test"]
    m = evaluate(records)
    assert m.report_f1 >= 0.90
    assert m.category_accuracy >= 0.80
    assert m.emergency_recall >= 0.75
