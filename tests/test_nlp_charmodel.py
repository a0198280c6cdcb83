"""The character n-gram model (nlp.charmodel) and its offline training (nlp.training)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp import Category, build_lexicon, charmodel, parse, training
from nlp.charmodel import CharModel, features

# A tiny labelled world: leaks and noise reports, and chat. Enough for the model to learn.
TOY = (
    [{"text": t, "is_report": True, "category": "water_leak", "urgency": "normal"}
     for t in ("天花板一直滴答", "墙上湿了一大片 滴答滴答", "卫生间顶上滴答不停", "厨房顶滴答")]
    + [{"text": t, "is_report": True, "category": "noise", "urgency": "normal"}
       for t in ("半夜咚咚咚吵死", "楼上咚咚咚跺脚", "晚上咚咚咚不停", "又在咚咚咚")]
    + [{"text": t, "is_report": True, "category": "fire_gas_safety", "urgency": "emergency"}
       for t in ("屋里全是烟 快来人", "楼道浓烟 快来人")]
    + [{"text": t, "is_report": False, "category": None, "urgency": None}
       for t in ("大家早上好", "早上好呀", "收到 谢谢", "好的 谢谢大家")]
)


@pytest.fixture(scope="module")
def toy_model() -> CharModel:
    return training.train(TOY, digest="toy")


def test_features_ignore_digits_and_mark_the_ends() -> None:
    assert features("8栋 漏水") == features("12栋 漏水")
    assert "^栋" in features("8栋 漏水") and "水$" in features("8栋 漏水")
    assert "|" in features("8栋 漏水")  # the space


def test_learns_categories_reports_and_emergencies(toy_model: CharModel) -> None:
    assert toy_model.score("阳台顶上滴答滴答").best_category == "water_leak"
    assert toy_model.score("隔壁咚咚咚").best_category == "noise"
    assert toy_model.score("早上好").report_logit < 0 < toy_model.score("咚咚咚").report_logit
    assert toy_model.score("厨房全是烟 快来人").emergency_logit > 0
    assert toy_model.score("咚咚咚").emergency_logit < 0
    margins = toy_model.score("滴答").category_margin
    assert max(margins.values()) == 0.0 and margins["water_leak"] == 0.0


def test_training_is_deterministic(toy_model: CharModel) -> None:
    again = training.train(TOY, digest="toy")
    assert again.vocabulary == toy_model.vocabulary
    assert np.array_equal(again.weights, toy_model.weights)


def test_save_and_load_round_trip(toy_model: CharModel, tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    toy_model.save(path)
    loaded = CharModel.load(path)
    assert loaded.digest == "toy" and loaded.slugs == toy_model.slugs
    a, b = loaded.score("半夜咚咚咚"), toy_model.score("半夜咚咚咚")
    assert a.best_category == b.best_category
    assert a.report_logit == pytest.approx(b.report_logit, abs=1e-2)  # stored as float16


def test_evidence_names_the_pairs_that_chose_the_category(toy_model: CharModel) -> None:
    assert "滴答" in toy_model.evidence("阳台顶上滴答滴答 3楼", "water_leak")
    assert toy_model.evidence("阳台顶上滴答", "no_such_slug") == []


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError):
        CharModel(["a"], np.zeros((2, 3)), ("x",))


def test_parser_runs_on_rules_alone_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charmodel, "_model", None)
    monkeypatch.setattr(charmodel, "_loaded", True)
    r = parse("8栋3单元楼道灯坏了")
    assert r.is_report and r.category == "facilities"
    assert not parse("大家早上好").is_report


def test_model_changes_what_the_rules_alone_get_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    """Problems named by their symptoms: the rules alone guess, the shipped model reads them."""
    cases = {"有人把一楼架空层用砖封起来了,装了门窗当自己的房间": "illegal_construction",
             "河边小树林里有一帮人天天围着推牌九,一把几百上千的": "public_order",
             "小区公厕一直没人打扫,地上全是尿,根本没法进去": "sanitation"}
    assert {t: parse(t).category for t in cases} == cases
    monkeypatch.setattr(charmodel, "_model", None)
    monkeypatch.setattr(charmodel, "_loaded", True)
    assert all(parse(t).category != slug for t, slug in cases.items())


def test_a_community_category_is_never_overruled_by_the_model() -> None:
    lexicon = build_lexicon(categories=[Category("garbage_sorting", "垃圾分类", ("垃圾分类",))])
    assert parse("垃圾分类做得太差了 桶都混着扔", lexicon).category == "garbage_sorting"


def test_model_emergencies_are_marked_and_keep_duplicate_keys_stable() -> None:
    from nlp.classify import MODEL_TRIGGER

    r = parse("三栋楼顶有人 坐在边上 腿都悬在外面 快来人啊")
    assert r.urgency == "emergency"
    assert MODEL_TRIGGER not in r.duplicate_key


def test_the_model_adds_no_emergency_where_the_rules_know_better() -> None:
    """Replies that help is under way, sighs, and what the rules weighed and demoted
    ("共享单车倒在地上": no person down) stay as the rules read them."""
    for text in ("已经有邻居去了,120也在路上了", "派出所的人到了", "救命 广场舞太吵了",
                 "共享单车倒在地上好久了", "明天上午燃气公司入户安检 请家中留人"):
        assert parse(text).urgency != "emergency", text
