"""Urgency: emergency, urgent or normal, with the trigger phrases that set it.

Every emergency layer (the enumerated triggers, the danger lexicon, the broadened stems, the
strong rescue cues) passes the same guards: :func:`emergency_guard` for the message and
:func:`live_at` for the trigger.
"""

from __future__ import annotations

import re
from functools import lru_cache

from nlp import patterns as P
from nlp.clauses import clause_before, crossed, is_elsewhere, is_negated, is_resolved, not_happening


def detect_urgency(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[str]]:
    """Return urgency and the trigger phrases that set it."""
    urgency, triggers, _, _ = assess_urgency(text, spans)
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
def is_exclamation(text: str) -> bool:
    """救命 as an exclamation about the weather, homework, work or food, no danger named."""
    return bool(P.STRONG_CUE.search(text) and P.STRONG_EXCLAIM.search(text)
                and not P.DANGER_NAMED.search(text))


def is_sigh(text: str) -> bool:
    """救命 / 快来人 about a nuisance or with a laugh ("救命 广场舞太吵了"), no danger named."""
    return bool(P.STRONG_CUE.search(text)
                and (P.GUARD_CHATTY.search(text) or P.STRONG_NUISANCE.search(text))
                and not P.DANGER_NAMED.search(text))


def is_help_under_way(text: str) -> bool:
    """A short reply that help is on its way ("120也在路上了", "派出所的人到了") and names no
    danger of its own: news about an incident already reported, not a new one."""
    return bool(len(text) <= 24 and P.RESPONSE_UNDER_WAY.search(text)
                and not P.DANGER_NAMED.search(text) and not P.STRONG_CUE.search(text))


def is_dog_chase(text: str) -> bool:
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
    if (not uncertain and is_negated(text, start, end)) or P.NEG_NONE_BEFORE.search(
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
    before = clause_before(text, start)
    if P.EMERG_HYPO.search(before) or P.PAST.search(before):
        return False
    if P.EMERG_HEDGE.search(text, max(0, start - 3), start):
        return False
    if P.BARE_FEAR.search(before) and not P.PERFECTIVE_AFTER.search(text[end: end + 5]):
        return False
    after = text[end: end + 6]
    return not (P.HYPO_AFTER.match(after) or P.EMERG_HYPO_AFTER.match(after)
                or after[:1] == "后")


def assess_urgency(
    text: str, spans: list[tuple[int, int]]
) -> tuple[str, list[str], str | None, str | None]:
    """Urgency, triggers, and the family (category) when a composed layer set the emergency.

    The fourth value is the message-level guard (or None), reused by the model booster.

    Every emergency layer (the enumerated triggers, the danger lexicon, the broadened stems,
    the strong rescue cues) passes the same guards: `emergency_guard` for the message and
    `live_at` for the trigger. A guarded enumerated trigger is demoted to same-day work.
    """
    m: re.Match[str] | None
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
                                                 or is_exclamation(text)):
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
            if crossed(m.start(), m.end(), spans):
                continue
            if not not_happening(text, m.start(), m.end()):
                found.append(m.group(0))
                break
    m = P.ELEVATOR_OUT.search(text)
    if m and P.ELDERLY_CONTEXT.search(text):
        found.append(m.group(0))
    fight = imminent_fight(text)
    if fight:
        found.append(fight.group(0))  # a fight about to break out: someone comes today
    if demoted and guard is None:
        guard = "demoted"  # the rules weighed an emergency word and chose same-day work
    if found:
        return "urgent", found, None, guard
    return "normal", [], None, guard


def imminent_fight(text: str) -> re.Match[str] | None:
    """A fight about to break out between people there now ("两个业主吵得要动手了"), not
    averted or over, not laughing, not hypothetical or past (live_at)."""
    m = P.IMMINENT_FIGHT.search(text)
    if (not m or not P.FIGHT_PEOPLE.search(text) or P.FIGHT_OVER.search(text)
            or P.LAUGH.search(text) or P.GUARD_CHATTY.search(text)
            or is_dog_chase(text) or not live_at(text, m.start(), m.end())):
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
            if slug == "public_order" and "追" in trig and is_dog_chase(text):
                continue  # a dog chasing people, nobody hurt: a pet problem
            if not live_at(text, m.start(), m.end()):
                continue
            return trig, slug
    return None


def broad_scan(text: str) -> tuple[str, str] | None:
    """Broadened short stems (fire/smoke, suicide, trapped, not seen for days), each paired
    with a place, a person or a live cue; same guards as every other layer."""
    m: re.Match[str] | None
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
            or P.STRONG_NUISANCE.search(text) or is_exclamation(text)):
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
