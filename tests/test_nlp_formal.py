"""The formal head (nlp/formal.py): a report decision for petitions learned from the random
labelled samples of real messages, over feature names we define (nlp/README.md, "Eleventh
round"). The shipped weights hold numbers over those names only; they must be refitted when
a training set's labels change."""

import json
import re
from importlib import resources

from nlp import formal, parse, petition
from nlp.formal_training import TRAIN_SETS, digest


def _shipped() -> dict:
    return json.loads(resources.files("nlp").joinpath(formal.HEAD_FILE).read_text("utf-8"))


def _feature_names() -> set[str]:
    """Every name report_features can produce."""
    names = {"bias", "rule_report", "model_report", "complaint_strength", "asks_minus_strength",
             "consult_head", "suggest", "policy_wish", "thanks_head", "thanks_done",
             "first_person", "persistent", "now", "infra_wish", "transit", "legality_ask",
             "exclaim", "money_owed", "wrongdoing", "how_to", "transit_wish", "explicit",
             "explicit_head", "topics", "best_rule_score", "length",
             # twelfth round
             "policy_template", "home_scope", "opinion", "future_harm", "awaited", "city_wish",
             "suggest_weak"}
    names |= {f"complaint_{i}" for i in range(len(petition.COMPLAINT))}
    names |= {f"question_{i}" for i in range(len(petition.QUESTIONS))}
    return names


def test_shipped_weights_are_over_our_own_feature_names_only() -> None:
    data = _shipped()
    assert data["report"], "the report head is shipped"
    assert set(data["report"]) <= _feature_names()
    assert all(re.fullmatch(r"[a-z_0-9]+", k) for k in data["report"])  # no vocabulary
    assert data["category"] == {} and data["category_bias"] == {}  # no category head


def test_shipped_weights_were_fitted_to_the_current_random_samples() -> None:
    """Fails when a training set's labels changed and the head was not refitted:
    run `.venv/bin/python -m nlp.formal_training --write`."""
    assert all("random" in name or name in ("tipdm_blind2.jsonl", "tipdm_blind3.jsonl",
                                            "tipdm_blind4.jsonl")
               for name in TRAIN_SETS)
    assert "tipdm_blind5.jsonl" not in TRAIN_SETS  # the blind part is never fitted
    assert _shipped()["digest"] == digest()


def test_the_head_loads_and_reads_json_round_trip() -> None:
    head = formal.default_head()
    assert head is not None and head.report_weights
    again = formal.FormalHead.from_json(head.to_json())
    assert again.report_weights == {k: round(v, 5) for k, v in head.report_weights.items()}


def test_a_formal_complaint_is_a_report_and_a_formal_consultation_is_not() -> None:
    complaint = ("尊敬的领导：我是幸福里小区的业主，小区北门外的烧烤店每天营业到凌晨两点，油烟直接排进"
                 "我们楼道，多次向物业和街道反映至今没有解决，严重影响居民休息，恳请有关部门督促整改。")
    consult = ("尊敬的领导：您好！请问本市购买首套住房使用公积金贷款需要满足哪些条件？需不需要本市户口？"
               "社保缴纳满一年是否可以？具体应该到哪个部门办理，需要准备哪些材料？谢谢！")
    assert petition.is_petition(complaint) and petition.is_petition(consult)
    assert parse(complaint).is_report
    assert not parse(consult).is_report


def test_a_short_group_chat_message_never_reaches_the_head() -> None:
    """The head reads petitions only (nlp.petition.is_petition): the 13,500 group-chat
    messages keep the rules' decision (their parses are identical with and without it)."""
    assert not petition.is_petition("3栋楼道灯坏了好几天了，晚上黑乎乎的，麻烦物业来修一下")
