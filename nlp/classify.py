"""Report detection, message kind, category and urgency from normalised text."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from nlp import charmodel, petition, segment
from nlp import patterns as P
from nlp.lexicon import Lexicon
from nlp.taxonomy import OTHER, TAXONOMY

# How the rules consult nlp.charmodel (leave-one-set-out figures in nlp/README.md):
# the category head's margins (each logit minus the best, <= 0) are added to the keyword scores
# with this factor; the report head's log-odds are added to the report score with this factor;
# the emergency head may add an emergency (never remove one) at or above this log-odds.
CATEGORY_MODEL_WEIGHT = 2.0
REPORT_MODEL_WEIGHT = 1.0
EMERGENCY_MODEL_LOGIT = -2.0
EMERGENCY_FAMILY_WEIGHT = 1.0
EMERGENCY_MODEL_OVERRIDE = 8.0
EMERGENCY_MODEL_VETO = -7.0
# The model learned from group chat; on a long petition its margins count for less than the
# petition rules (nlp/petition.py), which were fitted to real citizens' text.
PETITION_MODEL_WEIGHT = 0.5
PETITION_REPORT_LOGIT_CAP = 3.0


@dataclass(frozen=True, slots=True)
class Hit:
    word: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Decision:
    is_report: bool
    kind: str
    category: str | None
    urgency: str | None
    confidence: float
    keywords: tuple[str, ...]
    has_signal: bool


def find_keywords(text: str, lexicon: Lexicon, spans: list[tuple[int, int]]) -> list[Hit]:
    """All keyword occurrences that respect jieba word boundaries.

    Substring lookup is indexed by first character (fast, no giant regex). A hit that is a
    dictionary word is dropped when jieba segmented across it ("停|电动车" is not 停电);
    whole-word keywords (single characters like 偷) must be a token on their own.
    """
    index = lexicon.keyword_index
    lengths = lexicon.first_char_lengths
    starts = {a for a, _ in spans}
    ends = {b for _, b in spans}
    token_at = {a: b for a, b in spans}
    hits: list[Hit] = []
    n = len(text)
    for i, ch in enumerate(text):
        ls = lengths.get(ch)
        if not ls:
            continue
        for length in ls:
            j = i + length
            if j > n:
                continue
            word = text[i:j]
            if word not in index:
                continue
            # "120" inside "1201" is a room number, not the ambulance.
            if word.isdigit() and (
                (i > 0 and text[i - 1].isdigit()) or (j < n and text[j].isdigit())
            ):
                continue
            if (
                word in TAXONOMY.whole_words
                and token_at.get(i) != j
                and not (word in TAXONOMY.suffix_ok and j in ends)
            ):
                continue
            # Only reject when a token *crosses* the hit; a longer token containing the
            # whole hit ("漏水点") is fine.
            if (
                length > 1
                and (i not in starts or j not in ends)
                and segment.is_word(word)
                and _crossed(i, j, spans)
            ):
                continue
            hits.append(Hit(word, i, j))
    return _drop_contained(hits)


def _drop_contained(hits: list[Hit]) -> list[Hit]:
    """Longest match wins: "臭" inside "臭味" or "燃气" inside "燃气费" is not a second hit."""
    if len(hits) < 2:
        return hits
    kept = []
    for h in hits:
        if not any(
            o is not h
            and o.start <= h.start
            and h.end <= o.end
            and (o.end - o.start) > (h.end - h.start)
            for o in hits
        ):
            kept.append(h)
    return kept


def _crossed(i: int, j: int, spans: list[tuple[int, int]]) -> bool:
    for a, b in spans:
        if a >= j:
            break
        if (a < i < b and b < j) or (i < a < j and b > j):
            return True
    return False


def _negated(text: str, start: int, end: int, thing: bool = False) -> bool:
    """Negated before or after. For a thing (a manhole cover, a handrail) "没了" after it
    means it is missing, which is the problem, not its absence."""
    before = text[max(0, start - 6): start]
    if P.NEG_BEFORE.search(before):
        return True
    m = P.NEG_AFTER.match(text[end: end + 8])
    if m and thing and _MISSING.match(m.group(0)):
        return False
    return bool(m)


_MISSING = re.compile(r"^(?:已经|已|都)?没有?了")


@lru_cache(maxsize=8)  # asked several times per message by different layers
def is_elsewhere(text: str) -> bool:
    """News, a forward or an article about somewhere else, not told as the writer's own case."""
    return bool(P.NEWS.search(text)) and not (
        P.LOCAL_NOW.search(text) or P.FIRST_PERSON.search(text))


@lru_cache(maxsize=8)  # asked several times per message by different layers
def is_resolved(text: str) -> bool:
    """The message says the matter is over (and does not say it came back)."""
    return bool(P.RESOLVED.search(text) or P.RESOLVED_MORE.search(text)) and not (
        P.RELAPSE.search(text))


def _clause_before(text: str, start: int, width: int = 10) -> str:
    """The text before `start` back to the previous clause break (at most `width` chars)."""
    chunk = text[max(0, start - width): start]
    for sep in ("。", "!", "?", ",", ";", " "):
        k = chunk.rfind(sep)
        if k >= 0:
            chunk = chunk[k + 1:]
    return chunk


def _not_happening(text: str, start: int, end: int) -> bool:
    """Negated, hypothetical ("万一着火"), averted ("差点摔倒") or past ("上次着火")."""
    if _negated(text, start, end):
        return True
    if start > 0 and text[start - 1] == "防":  # 防溺水, 防跌倒: prevention, not an event
        return True
    before = _clause_before(text, start)
    if P.HYPOTHETICAL.search(before) or P.PAST.search(before):
        return True
    return bool(P.HYPO_AFTER.match(text[end: end + 6]))


def score_categories(hits: list[Hit], lexicon: Lexicon, text: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for hit in hits:
        entries = lexicon.keyword_index[hit.word]
        thing = any(slug == "facilities" for slug, _ in entries)
        negated = _negated(text, hit.start, hit.end, thing)
        for slug, weight in entries:
            # Event words (着火, 冒烟: weight >= 5) that did not happen ("万一着火", "上次
            #着火") should not decide the category; ordinary nouns keep their weight.
            if negated or (weight >= 5 and _not_happening(text, hit.start, hit.end)):
                weight *= 0.2
            elif weight >= 5 and (text[max(0, hit.start - 2): hit.start] in ("点不", "打不")
                                  or (P.SMOKE_TRIGGER.search(hit.word)
                                      and P.SMOKE_GUARD.search(text))):
                weight *= 0.2  # "点不着火" (a supply fault), "烧树叶 一股烧焦味" (burning rubbish)
            scores[slug] = scores.get(slug, 0.0) + weight
    return scores


def best_category(scores: dict[str, float], lexicon: Lexicon) -> tuple[str, float]:
    if not scores:
        return OTHER, 0.0
    rank = {slug: i for i, slug in enumerate(lexicon.priority)}
    slug = max(scores, key=lambda s: (scores[s], -rank.get(s, len(rank))))
    return slug, scores[slug]


def detect_urgency(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[str]]:
    """Return urgency and the trigger phrases that set it."""
    urgency, triggers, _, _ = _detect_urgency(text, spans)
    return urgency, triggers


def emergency_guard(text: str) -> str | None:
    """Message-level reasons that no emergency is live here and now (one pipeline for every
    emergency layer): news elsewhere, media / fiction, drills / notices / inspections, advice /
    prevention, resolved or good news. A live-now cue ("快来人", "救命") outweighs the media,
    drill and advice words, not a resolution."""
    if is_elsewhere(text):
        return "elsewhere"
    if is_resolved(text) or P.GUARD_GOOD_NEWS.search(text):
        return "resolved"
    if P.GUARD_FIGURATIVE.search(text) and not P.STRONG_CUE.search(text):
        return "figurative"
    live = bool(P.LIVE_NOW.search(text)) and not P.GUARD_CHATTY.search(text)
    if live:
        return None
    if P.GUARD_FIGURATIVE.search(text):
        return "figurative"
    if P.GUARD_MEDIA.search(text) or P.DANGER_GUARD.search(text):
        return "media"
    if P.GUARD_DRILL.search(text):
        return "drill"
    if P.SUGGEST_START.search(text) or P.GUARD_ADVICE.search(text):
        return "advice"
    return None


@lru_cache(maxsize=8)  # asked several times per message by different layers
def _exclamation(text: str) -> bool:
    """救命 as an exclamation about the weather, homework, work or food, no danger named."""
    return bool(P.STRONG_CUE.search(text) and P.STRONG_EXCLAIM.search(text)
                and not P.DANGER_NAMED.search(text))


def _sigh(text: str) -> bool:
    """救命 / 快来人 about a nuisance or with a laugh ("救命 广场舞太吵了"), no danger named."""
    return bool(P.STRONG_CUE.search(text)
                and (P.GUARD_CHATTY.search(text) or P.STRONG_NUISANCE.search(text))
                and not P.DANGER_NAMED.search(text))


def _help_under_way(text: str) -> bool:
    """A short reply that help is on its way ("120也在路上了", "派出所的人到了") and names no
    danger of its own: news about an incident already reported, not a new one."""
    return bool(len(text) <= 24 and P.RESPONSE_UNDER_WAY.search(text)
                and not P.DANGER_NAMED.search(text) and not P.STRONG_CUE.search(text))


def _dog_chase(text: str) -> bool:
    """A dog chasing or barking at people with nobody hurt: a pet problem, not violence."""
    return bool(P.DOG.search(text) and "追" in text and not P.CHASE_HURT.search(text))


def _lift_smell(trig: str, text: str) -> bool:
    """A burning smell (no smoke, fire or strength) in a lift: a lift fault, urgent."""
    return bool(P.SMOKE_TRIGGER.search(trig) and P.LIFT_WORDS.search(text)
                and not P.FIRE_SIGN.search(text.replace(trig, "")))


def live_at(text: str, start: int, end: int) -> bool:
    """Per-trigger guard shared by every emergency layer: negated or none happened (没有着火,
    没人被困), prevention (防…), hypothetical (万一, 如果, 就怕, 会不会), hedged future (会,
    容易), past in the same clause, or "after" (摔倒后…). Uncertainty is live: 怕是, 恐怕,
    好像, 是不是, 感觉, 可能是, 会不会是 all still count as an emergency."""
    uncertain = text[max(0, start - 3): start] == "是不是"  # "maybe", not "it is not"
    if (not uncertain and _negated(text, start, end)) or P.NEG_NONE_BEFORE.search(
            text, max(0, start - 3), start) or P.NEG_INSIDE.search(text, start, end):
        return False
    if start > 0 and text[start - 1] == "防":
        return False
    if P.PREVENT_INSIDE.search(text, start, end):
        return False
    trig = text[start:end]
    if trig.endswith(("有人", "丢了")) and P.OBJECT_AFTER.match(text, end):
        return False
    if trig[:1] == "倒" and P.POURED.search(text[max(0, start - 8): start]):
        return False
    before = _clause_before(text, start)
    if P.EMERG_HYPO.search(before) or P.PAST.search(before):
        return False
    if P.EMERG_HEDGE.search(text, max(0, start - 3), start):
        return False
    if P.BARE_FEAR.search(before) and not P.PERFECTIVE_AFTER.search(text[end: end + 5]):
        return False
    after = text[end: end + 6]
    return not (P.HYPO_AFTER.match(after) or P.EMERG_HYPO_AFTER.match(after)
                or after[:1] == "后")


def _detect_urgency(
    text: str, spans: list[tuple[int, int]]
) -> tuple[str, list[str], str | None, str | None]:
    """Urgency, triggers, and the family (category) when a composed layer set the emergency.

    The fourth value is the message-level guard (or None), reused by the model booster.

    Every emergency layer (the enumerated triggers, the danger lexicon, the broadened stems,
    the strong rescue cues) passes the same guards: `emergency_guard` for the message and
    `live_at` for the trigger. A guarded enumerated trigger is demoted to same-day work.
    """
    resolved = is_resolved(text)
    guard = emergency_guard(text)
    found: list[str] = []
    demoted = False
    if guard == "elsewhere":
        return "normal", [], None, guard
    for rx in P.EMERGENCY:
        # search() first: most messages match no pattern, and a miss is cheaper to find
        # with search than with a finditer scanner (the same holds for the loops below).
        for m in rx.finditer(text) if rx.search(text) else ():
            trig = m.group(0)
            if P.PERSON_DOWN.search(trig) and not P.PERSON_NEAR.search(
                    text[max(0, m.start() - 8): m.start()]):
                demoted = True  # "共享单车倒在地上": no person down
                continue
            if "没气" in trig and P.GAS_CUT_CONTEXT.search(text):
                demoted = True
                continue  # a gas cut (urgent), not a person who stopped breathing
            if P.SMOKE_TRIGGER.search(trig) and P.SMOKE_GUARD.search(text):
                demoted = True
                continue  # barbecue smoke, cigarette smell: a nuisance, not a fire
            if P.STRONG_CUE.fullmatch(trig) and (P.GUARD_CHATTY.search(text)
                                                 or P.STRONG_NUISANCE.search(text)
                                                 or _exclamation(text)):
                continue  # "救命 广场舞太吵了": figurative
            if guard in ("figurative", "resolved"):
                continue  # "热得要着火了", "摔了一跤 医生说没事": not even same-day work
            if (guard or not live_at(text, m.start(), m.end()) or _lift_smell(trig, text)
                    or P.DANGER_HABITUAL.search(text)
                    or (P.BLOOD_TRIGGER.search(trig) and P.BITE_CONTEXT.search(text)
                        and not P.VIOLENCE.search(text)
                        and not P.HEAVY_BLEEDING.search(text))
                    or (P.TRAPPED_HOME.search(text, m.start(), m.end() + 4)
                        and P.OUTAGE_CONTEXT.search(text))):
                found.append(trig)  # demoted: still same-day work
                demoted = True
                continue
            return "emergency", [trig], None, guard
    if not guard:
        for rx, contexts in P.EMERGENCY_WITH_CONTEXT:
            m = rx.search(text)
            if (m and all(c.search(text) for c in contexts)
                    and live_at(text, m.start(), m.end())):
                return "emergency", [m.group(0)], None, guard
        for scan in (danger_scan, broad_scan, strong_scan):
            hit = scan(text)
            if hit:
                return "emergency", [hit[0]], hit[1], guard
    found = found[:1] if found and not resolved else []
    for rx in P.URGENT:
        for m in rx.finditer(text) if rx.search(text) else ():
            # jieba guards the edges: "停电动车" is parking an e-bike, not a power cut.
            if _crossed(m.start(), m.end(), spans):
                continue
            if not _not_happening(text, m.start(), m.end()):
                found.append(m.group(0))
                break
    m = P.ELEVATOR_OUT.search(text)
    if m and P.ELDERLY_CONTEXT.search(text):
        found.append(m.group(0))
    fight = _imminent_fight(text)
    if fight:
        found.append(fight.group(0))  # a fight about to break out: someone comes today
    if demoted and guard is None:
        guard = "demoted"  # the rules weighed an emergency word and chose same-day work
    if found:
        return "urgent", found, None, guard
    return "normal", [], None, guard


def _imminent_fight(text: str) -> re.Match[str] | None:
    """A fight about to break out between people there now ("两个业主吵得要动手了"), not
    averted or over, not laughing, not hypothetical or past (live_at)."""
    m = P.IMMINENT_FIGHT.search(text)
    if (not m or not P.FIGHT_PEOPLE.search(text) or P.FIGHT_OVER.search(text)
            or P.LAUGH.search(text) or P.GUARD_CHATTY.search(text)
            or _dog_chase(text) or not live_at(text, m.start(), m.end())):
        return None
    return m


def danger_scan(text: str) -> tuple[str, str] | None:
    """The danger lexicon: (trigger, category) of the first live danger stem, or None.

    Stems are short and composable by family (gas word + smell/leak, a person + down/fit/
    not breathing, a vulnerable person + missing/not seen, ...). The caller has applied
    `emergency_guard`; each stem must pass `live_at`, and habitual wording ("好几个", "老是")
    is a standing problem, not one now.
    """
    if P.DANGER_HABITUAL.search(text):
        return None
    if P.TRAPPED_HOME.search(text) and P.OUTAGE_CONTEXT.search(text):
        return None  # stuck at home in an outage: urgent
    smoke_guard = bool(P.SMOKE_GUARD.search(text))
    bite = bool(P.BITE_CONTEXT.search(text)) and not P.HEAVY_BLEEDING.search(text)
    for slug, rx, needs_person in P.DANGER:
        for m in rx.finditer(text) if rx.search(text) else ():
            trig = m.group(0)
            if (slug == "elderly_care" and P.DANGER_NEEDS_VULNERABLE.search(trig)
                    and not P.DANGER_VULNERABLE.search(text)):
                continue
            if needs_person:
                who = P.DANGER_WHO.search(text, max(0, m.start() - 12), m.end())
                if not who or "把" in text[who.end(): m.start()]:
                    continue  # "把垃圾倒在…": pouring, not a person down
            if "没气" in trig and P.GAS_CUT_CONTEXT.search(text):
                continue  # a gas cut, not a person who stopped breathing
            if P.EMERG_HYPO.search(trig):
                continue
            if smoke_guard and P.SMOKE_TRIGGER.search(trig):
                continue  # barbecue, chimney, cigarettes
            if bite and P.BLOOD_TRIGGER.search(trig):
                continue  # a dog bite that bleeds a little: urgent
            if _lift_smell(trig, text):
                continue
            if slug == "public_order" and "追" in trig and _dog_chase(text):
                continue  # a dog chasing people, nobody hurt: a pet problem
            if not live_at(text, m.start(), m.end()):
                continue
            return trig, slug
    return None


def broad_scan(text: str) -> tuple[str, str] | None:
    """Broadened short stems (fire/smoke, suicide, trapped, not seen for days), each paired
    with a place, a person or a live cue; same guards as every other layer."""
    smoke_guard = bool(P.SMOKE_GUARD.search(text))
    for slug, rx, family in P.BROAD:
        for m in rx.finditer(text) if rx.search(text) else ():
            trig = m.group(0)
            if family == "smoke" and (smoke_guard or _lift_smell(trig, text)):
                continue
            if family == "suicide" and (P.DANGER_HABITUAL.search(text)
                                        or re.search(r"每天|每次|按时|提醒", text)):
                continue
            if family in ("smoke", "trapped") and P.DANGER_HABITUAL.search(text):
                continue
            if family == "suicide" and P.GUARD_CHATTY.search(text):
                continue
            if family == "trapped":
                in_car = bool(P.BROAD_CHILD_IN_CAR.search(text))
                if (P.BROAD_TRAPPED_GUARD.search(text) or not P.BROAD_PERSON.search(text)
                        or not (in_car or P.BROAD_TRAPPED_LIVE.search(text))):
                    continue
                if P.TRAPPED_HOME.search(text) and P.OUTAGE_CONTEXT.search(text):
                    continue
                if (trig.startswith("下不") and P.ELEVATOR_OUT.search(text)
                        and not P.FIRE_SIGN.search(text)):
                    continue  # the lift is out and an elder cannot get down: urgent
            if family == "notseen" and not P.BROAD_ELDER.search(text):
                continue
            if family == "inside" and not P.BROAD_INSIDE_LIVE.search(text):
                continue
            if family == "down" and not P.BROAD_DOWN_PERSON.search(text):
                continue
            if not live_at(text, m.start(), m.end()):
                continue
            if family == "inside":
                slug = ("elevator" if "电梯" in text else "fire_gas_safety"
                        if _GAS_OR_FIRE.search(text) else "facilities" if "塌" in text else slug)
            if family == "trapped":
                slug = ("fire_gas_safety" if _GAS_OR_FIRE.search(text) or "烟" in text
                        else "elevator" if "电梯" in text else slug)
            return trig, slug
    m = P.ENGLISH.search(text)
    if m and live_at(text, m.start(), m.end()):
        low = m.group(0).lower()
        slug = ("fire_gas_safety" if ("gas" in low or "fire" in low)
                else "elderly_care" if "fall" in low or "fell" in low else "other")
        return m.group(0), slug
    return None


def strong_scan(text: str) -> tuple[str, str] | None:
    """A call for rescue (救命, 快来人, 打119 …) is an emergency on its own unless guarded
    or chatty ("救命 太吵了", "快报警吧 哈哈")."""
    if (P.GUARD_CHATTY.search(text) or P.DANGER_HABITUAL.search(text)
            or P.STRONG_NUISANCE.search(text) or _exclamation(text)):
        return None
    m = P.STRONG_CUE.search(text)
    if not m or not live_at(text, m.start(), m.end()):
        return None
    if "119" in m.group(0):
        return m.group(0), "fire_gas_safety"
    return m.group(0), "other"


_FIRE_FAMILY = P.EMERGENCY_FAMILY[0][0]
_TRAPPED = re.compile(r"电梯|困|关在|卡在|出不来")
_JUMP = re.compile(r"跳|想不开|楼顶|天台|窗台|轻生|自杀|割腕|寻死|不想活|活着没|同归于尽")
_ABUSE = re.compile(r"家暴|打老婆|打媳妇|打女人|打孩子|打人")
_RESCUE = re.compile(r"救命|报警|110")
_LOCKED_IN = re.compile(r"锁在")
_GAS_OR_FIRE = re.compile(r"煤气|燃气|天然气|液化气|火")
_INJURY = re.compile(r"血|伤|破|打|刀|砍|捅|棍|砖")


def emergency_category(trigger: str, text: str) -> tuple[str, float]:
    """The category an emergency trigger points to, and how strongly (a score bonus)."""
    if _JUMP.search(trigger):
        return "public_order", 4.0
    if _LOCKED_IN.search(trigger) and _GAS_OR_FIRE.search(text):
        return "fire_gas_safety", 4.0
    if _FIRE_FAMILY.search(trigger):
        # An e-bike that starts smoking is still filed under e-bike charging.
        return "fire_gas_safety", (0.0 if P.EV_WORDS.search(text) else 5.0)
    if _TRAPPED.search(trigger) and "电梯" in text:
        return "elevator", 4.0
    if P.VIOLENCE.search(text) and _INJURY.search(trigger):
        return "public_order", 4.0
    if _ABUSE.search(text) and _RESCUE.search(trigger):
        return "public_order", 4.0  # "楼上家暴 女的在喊救命"
    if P.ELDER.search(text) or P.NOT_SEEN.search(trigger):
        return "elderly_care", 3.0
    # A person in danger with no other evidence is help for a person (not "other"), unless
    # gas, fire or poisoning is named ("有人煤气中毒了", "我家着了").
    if _GAS_OR_FIRE.search(text) or re.search(r"中毒|着了", text):
        return "fire_gas_safety", 1.0
    return "elderly_care", 1.0


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _framed(text: str) -> bool:
    """A media / drill / figurative guard word in the first few characters."""
    for rx in (P.GUARD_MEDIA, P.DANGER_GUARD, P.GUARD_DRILL, P.GUARD_FIGURATIVE):
        m = rx.search(text, 0, 12)
        if m and m.start() <= 8:
            return True
    return False


def decide(text: str, lexicon: Lexicon) -> Decision:
    spans = segment.token_spans(text) if text else []
    hits = petition.outside_names(find_keywords(text, lexicon, spans), text)
    formal = petition.is_petition(text)
    # A long petition repeats its words (物业 five times); each keyword counts once there.
    scores = score_categories(_first_of_each(hits) if formal else hits, lexicon, text)
    if petition.gas_supply_only(text):
        # 开通天然气, 供气, 燃气费: the supply, not a gas danger.
        scores.pop("fire_gas_safety", None)
        if "utilities" in lexicon.weights:
            scores["utilities"] = scores.get("utilities", 0.0) + 4.0
    if petition.parking_sale(text) and "parking" in scores:
        # 捆绑销售车位, 车位发票: a sales dispute, not a parking problem
        scores["other"] = scores.get("other", 0.0) + scores.pop("parking")
    urgency, triggers, danger_family, guard = _detect_urgency(text, spans)
    if urgency == "emergency" and triggers:
        fam, bonus = emergency_category(triggers[0], text)
        if danger_family:
            # From the danger lexicon: its family names the category (an e-bike on fire is
            # still filed under e-bike charging, as for the enumerated triggers).
            fam, bonus = danger_family, 4.0
            if fam == "public_order" and P.DOG.search(text):
                fam = "pets"  # a dog chasing or biting people
            if fam == "fire_gas_safety" and P.EV_WORDS.search(text):
                bonus = 0.0
        if fam in lexicon.weights:
            scores[fam] = scores.get(fam, 0.0) + bonus * EMERGENCY_FAMILY_WEIGHT
    for rx, cue_slug, bonus, context in P.CATEGORY_CUES:
        if cue_slug in lexicon.weights and rx.search(text) and (
                context is None or context.search(text)):
            scores[cue_slug] = scores.get(cue_slug, 0.0) + bonus
    _, cat_score = best_category(scores, lexicon)  # the rules' own evidence, for the report score
    if formal:
        # (after cat_score: a petition's topics and explicit problems choose among categories;
        # whether it reports anything is weighed by petition.petition_report_shift)
        scores = {slug: v for slug, v in petition.adjust_petition_scores(text, scores).items()
                  if slug in lexicon.weights}
    model = charmodel.default_model() if text else None
    learned = model.score(petition.mask_names(text)) if model is not None else None
    combined = _with_model(scores, learned, lexicon,
                           PETITION_MODEL_WEIGHT if formal else CATEGORY_MODEL_WEIGHT)
    if (formal or petition.parking_sale(text)) and "parking" not in scores and len(combined) > 1:
        combined.pop("parking", None)  # the model's pick from road words alone
    slug, _ = best_category(combined, lexicon)
    if (learned is not None and urgency == "emergency"
            and learned.emergency_logit < EMERGENCY_MODEL_VETO):
        urgency = "urgent"

    problem = 0.0
    for rx, weight in P.PROBLEM:
        if rx.search(text):
            problem += weight
    problem = min(problem, 3.5)

    resolved = is_resolved(text)
    thanks = bool(P.THANKS.search(text))
    praise = bool(P.PRAISE.search(text) or P.PRAISE_MORE.search(text))
    suggestion = bool(P.SUGGEST_START.search(text))
    notice = bool(P.NOTICE.search(text) or P.NOTICE_MORE.search(text)) and not suggestion
    if notice and P.INCIDENT.search(text) and not P.FORMAL_NOTICE.search(text):
        notice = False  # "有骗子上门 我妈差点上当 大家注意": a report with a warning
    news = is_elsewhere(text)
    group_buy = bool(P.GROUP_BUY.search(text))
    advert = bool(P.AD.search(text)) or len(P.AD_WEAK.findall(text)) >= 2
    lost = bool(P.LOST_FOUND.search(text))
    inquiry = bool(P.INQUIRY.search(text) or P.INQUIRY_MORE.search(text))
    hard = bool(P.HARD_PROBLEM.search(text))
    question = bool(P.QUESTION_END.search(text)) or "?" in text
    greeting = bool(P.GREETING.search(text))
    ack = bool(P.ACK.match(text))
    chat = bool(P.CHAT.search(text))
    if formal:
        # A petition asks, thanks and quotes notices (整改通知书) while it complains; whether it
        # reports anything is weighed by petition.petition_report_shift instead.
        inquiry = question = thanks = notice = False

    # Recall booster: the model may add an emergency the rules missed, never remove one, and
    # only when no guard fires and the message is not one of the non-report kinds.
    if (learned is not None and urgency != "emergency"
            and learned.emergency_logit >= EMERGENCY_MODEL_LOGIT
            and not (resolved or praise or notice or news or group_buy or advert or lost
                     or inquiry or greeting or ack or chat or suggestion)
            and (guard is None or (guard == "demoted"
                                   and learned.emergency_logit >= EMERGENCY_MODEL_OVERRIDE))
            and not P.DANGER_HABITUAL.search(text)
            and not _exclamation(text) and not _sigh(text)
            and not _help_under_way(text)
            and not _dog_chase(text)
            and not petition.standing_complaint(text)):
        urgency = "emergency"

    evidence = (min(cat_score * petition.KEYWORD_FACTOR, petition.KEYWORD_SCORE_CAP) if formal
                else min(cat_score, 6.0))
    score = -1.3 + evidence * 0.7 + problem
    if learned is not None:
        report_logit = learned.report_logit
        if resolved and P.FOLLOW_UP.search(text):
            report_logit = min(report_logit, 0.0)  # character pairs cannot read "已修好,不用麻烦了"
        if formal:
            # summed over hundreds of character pairs, a long text's log-odds say little
            report_logit = max(min(report_logit, PETITION_REPORT_LOGIT_CAP),
                               -PETITION_REPORT_LOGIT_CAP)
        score += REPORT_MODEL_WEIGHT * report_logit
    if urgency == "emergency":
        score += 4.0
    elif urgency == "urgent":
        score += 1.2
    if greeting or ack:
        score -= 4.0
    elif P.ACK_PREFIX.match(text) and cat_score < 3:
        score -= 3.0
    # Residents rarely write a long message about nothing: with the non-report patterns
    # handled explicitly above, length itself is weak evidence of a report.
    if len(text) > 12:
        score += min((len(text) - 12) * 0.04, 0.6)
    if notice:
        # A notice announces an outage or a drill; it is not one being reported.
        score -= 6.0 if urgency != "emergency" else 3.0
        if urgency == "urgent":
            score -= 1.2
    # After blind10: a message whose danger words are about a film, a video, a drill or a
    # figure of speech ("电视剧里演的那个煤气爆炸", "辣得嘴都着火了") reports nothing by them.
    # Only when the message opens that way (the frame of the whole message), so "消防栓没水
    # 上次演练就发现了" stays a report.
    if (guard in ("media", "figurative", "drill") and urgency != "emergency" and not hard
            and problem < 1.5 and _framed(text)):
        score -= 2.5
    # After blind12: a figure of speech, an exclamation or laughter with no hard problem and no
    # strong category evidence ("这天热得要着火了", "作业看不懂 救命啊", "我家狗追着尾巴转 哈哈").
    if urgency == "normal" and not hard and problem < 1.5 and guard == "figurative":
        score -= 2.0
    if urgency == "normal" and not hard and _exclamation(text):
        score -= 3.0  # 救命 here is a sigh about the weather or work, not a request
    # Laughter frames chat unless a real problem is named ("楼上漏水 哈哈 天天滴", "哈哈 物业又不管了").
    if (urgency == "normal" and problem < 1.5 and cat_score < 3 and P.LAUGH.search(text)
            and not P.HARD_PROBLEM.search(re.sub("我们家|我家|俺家", "", text))):
        score -= 2.0
    if group_buy:
        score -= 3.0
    if advert:
        score -= 4.0
    if news and not notice:
        score -= 4.0
    if lost:
        score -= 4.0
    if resolved:
        score -= 3.5
        # "...现在已经来电了": a message that ends on the resolution reports nothing new.
        if any(m.end() >= len(text) - 2 for rx in (P.RESOLVED, P.RESOLVED_MORE)
               for m in rx.finditer(text)):
            score -= 1.5
        # "上次反映的…已经修好了": a follow-up that closes an earlier report.
        if P.FOLLOW_UP.search(text):
            score -= 2.0
    if praise:
        score -= 2.5
        if P.PRAISE_START.search(text) or P.PRAISE_START_MORE.search(text):
            score -= 1.5
        if P.PRAISE_END.search(text):
            score -= 1.5
    # "...麻烦帮忙联系一下,谢谢!" closes a long report politely; it is not a thank-you note.
    if thanks and not (len(text) > 30 and cat_score >= 2 and not resolved):
        score -= 1.0 if cat_score >= 2 else 2.0
    if inquiry:
        score -= 2.5
        # (a long formal petition that opens with 请问 still argues a case)
        if (P.INQUIRY_START.search(text) and not hard and urgency != "emergency"
                and len(text) <= 60):
            score -= 2.0
    if (P.INQUIRY_GENERAL.search(text) and not hard and urgency != "emergency"
            and len(text) <= 60):
        score -= 2.0
    if question and cat_score < 2 and problem < 1.5:
        score -= 0.8
    if chat:
        score -= 1.2
        if P.CHAT_START.search(text):
            score -= 1.5
    if len(text) <= 3 and cat_score < 2:
        score -= 1.5
    if formal and urgency != "emergency":
        score += petition.petition_report_shift(text)
    if not text:
        score = -8.0

    p = _sigmoid(score)
    is_report = p >= 0.5
    confidence = p if is_report else 1.0 - p
    has_signal = cat_score > 0 or problem > 0 or urgency != "normal"

    # Keywords are words a worker can check in the message (and that duplicate matching
    # compares), so neither the model's character pairs nor a marker for its emergency go in.
    keywords = _evidence(hits, slug, scores, lexicon, triggers)
    if is_report:
        kind = _report_kind(text, slug, urgency)
        category = slug if (cat_score > 0 or learned is not None) else OTHER
        return Decision(True, kind, category, urgency, confidence, keywords, has_signal)
    if praise or (thanks and (resolved or not inquiry)):
        kind = "praise" if (praise or resolved) else "chat"
    elif inquiry or (question and not notice):
        kind = "inquiry"
    else:
        kind = "chat"
    return Decision(False, kind, None, None, confidence, keywords, has_signal)


def _first_of_each(hits: list[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for h in hits:
        if h.word not in seen:
            seen.add(h.word)
            out.append(h)
    return out


def _with_model(scores: dict[str, float], learned: charmodel.ModelScores | None,
                lexicon: Lexicon, weight: float = CATEGORY_MODEL_WEIGHT) -> dict[str, float]:
    """Keyword scores plus the model's margins (0 for its own choice, negative for the rest).
    A community's own categories (unknown to the model) keep their keyword score alone."""
    if learned is None:
        return scores
    # Only the model's own choice (margin 0) and the slugs with keyword evidence can win: any
    # other slug scores below the model's choice.
    margin = learned.category_margin
    combined = {slug: score + weight * margin.get(slug, 0.0)
                for slug, score in scores.items()}
    top = learned.best_category
    if top in lexicon.weights and top not in combined:
        combined[top] = 0.0
    return combined


def _report_kind(text: str, slug: str, urgency: str) -> str:
    if slug == "elderly_care" or (urgency == "emergency" and P.HELP.search(text)):
        return "help"
    if P.SUGGESTION.search(text) and urgency == "normal":
        return "suggestion"
    if P.HELP.search(text) and slug in {"elderly_care", OTHER}:
        return "help"
    return "complaint"


def _evidence(
    hits: list[Hit],
    slug: str,
    scores: dict[str, float],
    lexicon: Lexicon,
    triggers: list[str],
) -> tuple[str, ...]:
    """Keywords for the chosen category (strongest first), then urgency triggers."""
    words: dict[str, float] = {}
    for hit in hits:
        for s, weight in lexicon.keyword_index[hit.word]:
            if s == slug:
                words[hit.word] = max(words.get(hit.word, 0.0), weight)
    ordered = sorted(words, key=lambda w: (-words[w], -len(w)))
    # Drop a keyword that is contained in a longer one already listed ("漏" in "漏水").
    kept: list[str] = []
    for w in ordered:
        if not any(w in k for k in kept):
            kept.append(w)
    for t in triggers:
        if t not in kept:
            kept.append(t)
    return tuple(kept[:8])
