"""A small learned head for long formal messages (petitions, nlp.petition.is_petition).

The rules of nlp/petition.py read a petition through lists of cues; this head weighs those
readings — and the rest of what classify.decide already computed — with a logistic regression
fitted to hand-labelled real citizens' messages (nlp/README.md, "Tenth round"). Every feature
is one WE define and name here: the petition cue families, the question families, category
keyword scores and the position of their first hit, the petition rules' scores, the character
model's margins and report log-odds. The shipped weights (data/formal_head.json) therefore
hold numbers over these names only, no vocabulary and no text learned from the data.

Two heads:
- report: binary logistic regression over :func:`report_features` — shipped since the
  eleventh round, fitted to the random labelled samples only (it beat the rules in both
  cross-validations there; nlp/README.md, "Eleventh round");
- category: a conditional logit over the candidate categories of one message, with weights
  shared by all categories (:func:`category_features`) plus one bias per category — fitted
  and cross-validated by nlp.formal_training but not shipped (no held-out gain over the
  rules' category), so the shipped file holds no category weights and parse() never asks.

Scoring is a few dictionary sums (about 20 µs); without the weights file the rules decide
alone. `nlp.formal_training` fits the weights (`python -m nlp.formal_training --write`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

from nlp import petition
from nlp.taxonomy import OTHER

HEAD_FILE = "data/formal_head.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FormalInputs:
    """What classify.decide computed for a petition, before the head decides."""

    text: str
    raw_scores: dict[str, float]  # keyword + cue scores, before the petition adjustment
    scores: dict[str, float]  # after nlp.petition.adjust_petition_scores
    combined: dict[str, float]  # scores + the model's margins (the rules' category choice)
    first_hit: dict[str, int]  # slug -> position of its first keyword hit
    hit_count: dict[str, int]  # slug -> distinct keywords hit
    margins: dict[str, float]  # the character model's category margins (empty: no model)
    model_best: str | None
    model_report: float  # the character model's report log-odds (0.0 without a model)
    rule_report: float  # classify.report_score: the rules' report log-odds
    urgency: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# Cue families of our own, beside nlp.petition's (each a feature of the report head).
FIRST_PERSON = _rx(r"我家|我们|本人|我是|我在|我于|我的|业主")
PERSISTENT = _rx(r"至今|一直|多次|长期|常年|每天|每晚|天天|反复|屡次|几年|多年")
NOW = _rx(r"现在|目前|最近|近期|近日|这几天|今天|昨天|昨晚")
# wishes for something new from the city: a line, a stop, a light, a park, a policy
INFRA_WISH = _rx(
    r"(?:希望|建议|恳请|请求|呼吁|能否|能不能|可否|是否可以|是否能)[^。!?]{0,24}"
    r"(?:增加|增设|增开|开通|延长|延伸|调整|改道|新建|修建|建设|设置|安装|规划|开放|出台|取消|放宽)"
)
TRANSIT = _rx(r"公交|地铁|线路|站台|站牌|首班|末班|班次|收班|发车|城铁|高铁|轻轨")
LEGALITY_ASK = _rx(r"是否合法|合法吗|合理吗|是否合理|可以吗|能不能|可不可以|是否可以|是否能够|能否")
EXCLAIM = _rx(r"[!！]")
MONEY_OWED = _rx(r"拖欠|欠薪|退款|退还|押金|血汗钱|赔偿|补偿款|退房|退铺")
WRONGDOING = _rx(r"骗|违法|违规|乱收费|强制|强迫|威胁|恐吓|霸占|侵占|不作为|腐败|谋私|涉黄|赌")
HOW_TO = _rx(r"怎么办理|如何办理|需要什么|什么条件|什么标准|什么材料|哪个部门|怎么办|该如何")
# (twelfth round) an opinion piece's register, and harm that has not happened yet
OPINION = _rx(r"笔者|我认为|个人认为|我觉得|本人认为|看法|拙见|个人意见|一点建议|几点建议|提几点")
FUTURE_HARM = _rx(r"将会|以后|日后|一旦|万一|建成后|将来|长此以往")
SCALE = 5.0


def report_features(inp: FormalInputs) -> dict[str, float]:
    """The report head's features of one petition (names are the weights' keys)."""
    text = inp.text
    head = text[:30]
    f: dict[str, float] = {"bias": 1.0}
    f["rule_report"] = max(min(inp.rule_report, 10.0), -10.0) / SCALE
    f["model_report"] = max(min(inp.model_report, 6.0), -6.0) / 3.0
    strength = 0
    for i, rx in enumerate(petition.COMPLAINT):
        if rx.search(text):
            f[f"complaint_{i}"] = 1.0
            strength += 1
    f["complaint_strength"] = min(strength, 6) / 3.0
    asks = 0
    for i, rx in enumerate(petition.QUESTIONS):
        if rx.search(text):
            f[f"question_{i}"] = 1.0
            asks += 1
    f["asks_minus_strength"] = max(min(asks - strength, 4), -4) / 2.0
    for name, rx, where in (
        ("consult_head", petition.CONSULT_OPEN, head),
        ("suggest", petition.SUGGEST, text),
        ("policy_wish", petition.POLICY_WISH, text),
        ("thanks_head", petition.THANKS, head),
        ("thanks_done", petition.THANKS_DONE, text),
        ("first_person", FIRST_PERSON, text),
        ("persistent", PERSISTENT, text),
        ("now", NOW, text),
        ("infra_wish", INFRA_WISH, text),
        ("transit", TRANSIT, text),
        ("legality_ask", LEGALITY_ASK, text),
        ("exclaim", EXCLAIM, text),
        ("money_owed", MONEY_OWED, text),
        ("wrongdoing", WRONGDOING, text),
        ("how_to", HOW_TO, text),
        ("policy_template", petition.POLICY_TEMPLATE, text),
        ("home_scope", petition.HOME_SCOPE, text),
        ("opinion", OPINION, text),
        ("future_harm", FUTURE_HARM, text),
    ):
        if rx.search(where):
            f[name] = 1.0
    if "infra_wish" in f and "transit" in f:
        f["transit_wish"] = 1.0
    if petition.awaited_opening(text):
        f["awaited"] = 1.0
    if "home_scope" not in f and petition.transit_wish(text):
        f["city_wish"] = 1.0
    if strength <= 1 and petition.SUGGEST.search(text):
        f["suggest_weak"] = 1.0
    explicit = [m.start() for _, rx, _ in petition.EXPLICIT if (m := rx.search(text))]
    if explicit:
        f["explicit"] = 1.0
        if min(explicit) < petition.HEAD:
            f["explicit_head"] = 1.0
    topics = sum(w for rx, w in petition.OTHER_TOPICS if rx.search(text))
    f["topics"] = min(topics, petition.OTHER_TOPIC_CAP) / petition.OTHER_TOPIC_CAP
    f["best_rule_score"] = min(max(inp.scores.values(), default=0.0), 10.0) / SCALE
    f["length"] = min(len(text), 450) / 450.0
    return f


def category_features(inp: FormalInputs, slug: str) -> dict[str, float]:
    """The category head's features of one candidate category (shared weights)."""
    text = inp.text
    n = max(len(text), 1)
    f: dict[str, float] = {}
    f["petition_score"] = min(inp.scores.get(slug, 0.0), 12.0) / SCALE
    f["keyword_score"] = min(inp.raw_scores.get(slug, 0.0), 12.0) / SCALE
    f["rule_choice"] = 1.0 if slug == _best(inp.combined) else 0.0
    if inp.margins:
        f["model_margin"] = max(inp.margins.get(slug, -10.0), -10.0) / SCALE
        f["model_best"] = 1.0 if slug == inp.model_best else 0.0
    first = inp.first_hit.get(slug)
    if first is not None:
        f["first_hit_early"] = 1.0 - first / n
        if first < petition.HEAD:
            f["first_hit_head"] = 1.0
    f["hit_count"] = min(inp.hit_count.get(slug, 0), 5) / 5.0
    for name, rx, _ in petition.EXPLICIT:
        if name == slug and (m := rx.search(text)):
            f["explicit"] = 1.0
            if m.start() < petition.HEAD:
                f["explicit_head"] = 1.0
            break
    if slug == OTHER:
        topics = sum(w for rx, w in petition.OTHER_TOPICS if rx.search(text))
        f["other_topics"] = min(topics, petition.OTHER_TOPIC_CAP) / petition.OTHER_TOPIC_CAP
    return f


def _best(scores: dict[str, float]) -> str | None:
    return max(scores, key=scores.__getitem__) if scores else None


def candidates(inp: FormalInputs, allowed: set[str] | frozenset[str] | Any) -> list[str]:
    """The categories the head chooses among: any with evidence, the model's pick, other."""
    out = {s for s, v in inp.scores.items() if v > 0}
    out |= {s for s, v in inp.raw_scores.items() if v > 0}
    out |= set(inp.combined)
    if inp.model_best:
        out.add(inp.model_best)
    out.add(OTHER)
    return sorted(s for s in out if s in allowed)


def _dot(w: dict[str, float], f: dict[str, float]) -> float:
    return sum(w.get(k, 0.0) * v for k, v in f.items())


class FormalHead:
    """Weights over the feature names above (see data/formal_head.json)."""

    __slots__ = ("category_bias", "category_weights", "digest", "report_weights")

    def __init__(self, report_weights: dict[str, float], category_weights: dict[str, float],
                 category_bias: dict[str, float], digest: str = "") -> None:
        self.report_weights = report_weights
        self.category_weights = category_weights
        self.category_bias = category_bias
        self.digest = digest

    def report_logit(self, inp: FormalInputs) -> float:
        return _dot(self.report_weights, report_features(inp))

    def category_logits(self, inp: FormalInputs, allowed: Any) -> dict[str, float]:
        return {s: _dot(self.category_weights, category_features(inp, s))
                + self.category_bias.get(s, 0.0) for s in candidates(inp, allowed)}

    def category(self, inp: FormalInputs, allowed: Any) -> str:
        logits = self.category_logits(inp, allowed)
        return max(sorted(logits), key=logits.__getitem__) if logits else OTHER

    def to_json(self) -> dict[str, Any]:
        return {
            "about": "nlp/formal.py: the report head, a logistic regression over our own feature "
                     "names, fitted by nlp/formal_training.py to hand-labelled random samples of "
                     "real messages (ids in tests/data/real); no text or vocabulary from the data.",
            "digest": self.digest,
            "report": {k: round(v, 5) for k, v in sorted(self.report_weights.items())},
            "category": {k: round(v, 5) for k, v in sorted(self.category_weights.items())},
            "category_bias": {k: round(v, 5) for k, v in sorted(self.category_bias.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormalHead:
        def floats(d: Any) -> dict[str, float]:
            return {str(k): float(v) for k, v in dict(d).items() if math.isfinite(float(v))}

        return cls(floats(data["report"]), floats(data["category"]),
                   floats(data["category_bias"]), str(data.get("digest", "")))


_lock = threading.Lock()
_head: FormalHead | None = None
_loaded = False


def default_head() -> FormalHead | None:
    """The shipped head, loaded once; None (the petition rules alone) when the file is
    missing or damaged. Never raises."""
    global _head, _loaded
    if not _loaded:
        with _lock:
            if not _loaded:
                try:
                    raw = resources.files("nlp").joinpath(HEAD_FILE).read_text("utf-8")
                    _head = FormalHead.from_json(json.loads(raw))
                except Exception as error:  # missing, not JSON, wrong keys ...
                    log.warning("formal head not loaded, using the petition rules: %r", error)
                    _head = None
                finally:
                    _loaded = True
    return _head
