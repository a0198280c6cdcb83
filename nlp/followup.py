"""Reading a message in the context of a conversation (pure, fast, no I/O).

Two questions the handlers ask about a message that is not read alone:

- :func:`classify_followup`: a message that replies to a ticket's card, to a reported
  message or to a 附议 confirmation — is it an addition (room, unit, more detail), a "not
  fixed / broken again", a question about progress, a "me too", thanks, or chatter?
- :func:`is_place_fragment`: is the message only a place ("8号楼", "3单元", "我住12栋"),
  the first or last part of a report split over several quick messages?

Both work on the parser's normalised text (Simplified characters, numerals converted,
emoji and voice-typing fillers dropped), so Traditional characters and run-ons from
voice typing read like everything else. What a kind *means* for a ticket (reopen it,
answer with its state, …) is decided by the ticket rules, not here.
"""

from __future__ import annotations

import re
from enum import StrEnum

from nlp.types import ParseResult


class FollowupKind(StrEnum):
    ADDITION = "addition"  # more about the same problem: a place, a detail, a photo
    NOT_FIXED = "not_fixed"  # "还没修好", "又漏了": the problem is (back) there
    PROGRESS_QUESTION = "progress_question"  # "什么时候来修?"
    ME_TOO = "me_too"  # "我家也是": another household has the same problem
    THANKS = "thanks"  # "谢谢", "辛苦了", "修好了"
    CHATTER = "chatter"  # anything else


# "Still/again broken": a negated repair, or the problem coming back.
_NOT_FIXED = re.compile(
    r"(?:还|仍|依然|依旧|仍然|根本|压根|并|都)?(?:没|没有|未|没能)(?:修好|修|弄好|搞好|解决|处理好|处理|好|人修)"
    r"|(?:又|再次|还是|还在|仍在|照样|继续|又开始|又在|又有|又一次)"
    r"(?:坏|漏|滴|渗|堵|停|不亮|不行|不好|不通|不能用|没水|没电|没气|吵|响|臭|冒|掉|卡|断|黑|出现|开始|来了|犯)"
    r"|问题(?:依旧|还在|没变|照旧|又来了)|修了(?:跟没修一样|也没用|没用|等于没修)"
    r"|(?:跟|和)(?:以前|之前|原来)一样|一点(?:都|也)没(?:变|好)|白修了|治标不治本"
    r"|不是说(?:修好|好)了|说是修好了|怎么又"
)
# A question about progress: when, how long, any news.
_PROGRESS = re.compile(
    r"什么时候|啥时候|几时|哪天|多久|多长时间|几点|进展|进度|有人(?:管|来|处理|跟进)(?:吗|没|了吗)"
    r"|(?:怎么|咋|为啥|为什么)还?(?:没|不)(?:人|来|修|处理|动静|弄|管|回复)"
    r"|还要等|等到(?:什么|啥)|(?:处理|修|弄|安排|派人|来)了(?:吗|没|没有)|到哪(?:一步|了)"
    r"|有(?:消息|回复|结果|下文)(?:吗|没|了吗)|怎么样了|情况如何|啥情况|什么情况"
    r"|今天(?:能|会)来|能不能快点|催一下|催催|(?:一直|还是|都|咋|怎么)没人(?:来|管|修|处理|理)"
)
# "Me too": the writer has the same problem.
_ME_TOO = re.compile(
    r"(?:我|俺|咱)(?:家|们家|们楼|们单元|们那|这边|们这)?[^,.!?;\s]{0,4}?也(?:是|一样|有|漏|停|坏|这样|遇到|没)"
    r"|同样(?:的问题|情况|的情况)|(?:我|我们)(?:这|那)?也同样|\+1|附议|加一|一样的问题|同感"
)
_THANKS = re.compile(
    r"谢谢|多谢|感谢|辛苦|麻烦(?:你|您)?了|好的|收到|明白|知道了|好嘞|ok|OK|赞|给力"
    r"|(?:已经|终于)?(?:修好|弄好|搞好|解决|好)了|没问题了|可以了|正常了|能用了"
)
# Markers of an addition to what was said before.
_ADDITION = re.compile(
    r"补充|另外|还有|忘了说|忘说了|再说一下|具体|位置|地址|就在|是在|在\S{0,6}(?:楼|单元|室|门口|旁边)"
    r"|我家是|我住|门牌|联系电话|电话是|手机|\d{7,}"
)
# Residue left by a place-only message once the place and fillers are gone.
_PLACE_PARTS = re.compile(
    r"\d+(?:-\d+){0,3}\s*(?:号楼|号院|号|栋|幢|座|单元|门洞|室|楼|层|户|#)?"
    r"|[东西南北]?(?:门|区)|顶楼|底楼|一楼|地下室"
)
_FILLERS = re.compile(
    r"我家|我们家|我们|我住|住在|住|就是|是在|是|在|的|那个|这个|补充一下|补充|一下|位置|地址|哈|啊|呀|呢|吧"
    r"|了|哦|噢|嗯|喔|对|楼|号|单元|室|层|栋|幢|[\s,.!?;:~、。,!?()\[\]]"
)


def _text(parsed: ParseResult) -> str:
    return parsed.normalized_text


def has_place(parsed: ParseResult) -> bool:
    loc = parsed.location
    return bool(loc.compound or loc.street or loc.building or loc.unit or loc.room or loc.floor)


def classify_followup(parsed: ParseResult, *, has_photo: bool = False) -> FollowupKind:
    """What a reply under a ticket is. Checked in this order, because a message often
    carries several signals ("谢谢,什么时候来修?" asks; "还没修好,什么时候来?" reports the
    problem back): not fixed, progress question, me too, addition, thanks, chatter."""
    text = _text(parsed)
    if _NOT_FIXED.search(text):
        return FollowupKind.NOT_FIXED
    if _PROGRESS.search(text):
        return FollowupKind.PROGRESS_QUESTION
    if _ME_TOO.search(text):
        return FollowupKind.ME_TOO
    if has_photo or has_place(parsed) or _ADDITION.search(text):
        return FollowupKind.ADDITION
    if _THANKS.search(text):
        return FollowupKind.THANKS
    if parsed.is_report and not parsed.borderline and len(text) >= 4:
        return FollowupKind.ADDITION  # a further description of the problem
    return FollowupKind.CHATTER


def is_place_fragment(parsed: ParseResult) -> bool:
    """True for a message that is a place and nothing more: part of a split report."""
    if parsed.is_report or not has_place(parsed):
        return False
    text = _text(parsed)
    if len(text) > 24 or "?" in text:
        return False
    loc = parsed.location
    for name in (loc.compound, loc.street):
        if name:
            text = text.replace(name, "")
    residue = _FILLERS.sub("", _PLACE_PARTS.sub("", text))
    return len(residue) <= 1
