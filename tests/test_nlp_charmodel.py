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


def test_model_emergencies_add_nothing_to_keywords_or_duplicate_keys() -> None:
    """A person in a manhole and a rusty air-conditioner bracket must not share evidence."""
    a = parse("北门那个没盖的井里掉进去一个人,在下面喊,我们够不着")
    b = parse("楼上那户的空调外机架子锈断了 吊在半空")
    assert a.urgency == "emergency"
    assert not set(a.keywords) & set(b.keywords)
    for r in (a, b):
        assert all(k in r.normalized_text for k in r.keywords), r.keywords


def test_saying_it_twice_does_not_make_it_twice_as_likely() -> None:
    model = charmodel.default_model()
    assert model is not None
    for text in ("电梯有点响", "楼下有人吵架", "楼道灯坏了", "有个老人摔倒了"):
        once = model.score(text)
        thrice = model.score("".join([text] * 3))
        # only the pairs across the joins are new; the repeats themselves count once
        assert abs(thrice.emergency_logit - once.emergency_logit) < 2.0, text
        assert abs(thrice.report_logit - once.report_logit) < 2.0, text
    for text in ("楼下有人吵架", "楼道灯坏了"):
        assert parse("".join([text] * 3)).urgency != "emergency", text


def test_a_first_report_that_already_called_for_help_stays_an_emergency() -> None:
    for text in ("北门那个没盖的井里掉进去一个人,在下面喊,我们够不着,已经打了119",
                 "对门的小伙子倒在楼道里抽,嘴里吐白沫,120还在路上 谁懂急救快来"):
        assert parse(text).urgency == "emergency", text


def test_a_damaged_model_file_leaves_the_rules_working(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import resources

    bad = tmp_path / "charmodel.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.setattr(resources, "as_file", lambda _ref: _Ctx(bad))
    monkeypatch.setattr(charmodel, "_model", None)
    monkeypatch.setattr(charmodel, "_loaded", False)
    assert charmodel.default_model() is None
    r = parse("8栋3单元楼道着火了 快来人")
    assert r.is_report and r.urgency == "emergency"


class _Ctx:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        return None


def test_training_maps_a_community_category_to_other_and_writes_exactly_out(
        tmp_path: Path) -> None:
    rows = [*TOY, {"text": "垃圾分类没做好", "is_report": True, "category": "garbage_sorting",
                   "urgency": "normal"}]
    model = training.train(rows)
    out = tmp_path / "m.bin"
    model.save(out)
    assert out.exists() and not (tmp_path / "m.bin.npz").exists()
    assert CharModel.load(out).slugs == model.slugs


def test_the_model_adds_no_emergency_where_the_rules_know_better() -> None:
    """Replies that help is under way, sighs, and what the rules weighed and demoted
    ("共享单车倒在地上": no person down) stay as the rules read them."""
    for text in ("已经有邻居去了,120也在路上了", "派出所的人到了", "救命 广场舞太吵了",
                 "共享单车倒在地上好久了", "明天上午燃气公司入户安检 请家中留人"):
        assert parse(text).urgency != "emergency", text


def test_the_model_vetoes_rule_emergencies_it_is_sure_are_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Rule words out of context ("眼睛都睁不开" from pollen, "救命" about a bill): the model's
    emergency log-odds below the veto turn them into same-day work."""
    from nlp import classify

    texts = ("杨絮柳絮满天飞,过敏的人眼睛都睁不开,能不能给树打抑制剂",
             "地库入口坡道太滑了,今天下雨好几辆电动车在上面摔了")
    assert all(parse(t).urgency != "emergency" for t in texts)
    monkeypatch.setattr(classify, "EMERGENCY_MODEL_VETO", float("-inf"))
    assert all(parse(t).urgency == "emergency" for t in texts)
