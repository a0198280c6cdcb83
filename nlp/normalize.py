"""Text normalisation for analysis (the caller keeps the original for the ticket)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nlp.numerals import convert_address_numerals

# Work is capped: a 4,096-character paste is analysed on its head only, which keeps the
# parser within its latency budget; residents put the point of a message first.
MAX_ANALYSED_CHARS = 1200

# WeChat/Telegram style placeholders and sticker names: "[图片]", "[语音]", "[捂脸]".
_RE_PLACEHOLDER = re.compile(r"\[[^\[\]\d]{1,6}\]")
_RE_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"
    "\U00002600-\U000027bf"
    "\U00002b00-\U00002bff"
    "\U0000fe00-\U0000fe0f"
    "\U0000200b-\U0000200f"
    "\U00002060-\U0000206f"
    "\U000e0000-\U000e007f"
    "]+"
)
# Emoji that carry a danger meaning are read as words before the rest are dropped.
_EMOJI_WORDS = {"\U0001f525": "火", "\U0001f198": "救命", "\U0001f692": "消防车",
                "\U0001f691": "救护车", "\U0001f6a8": "报警"}
_RE_EMOJI_WORDS = re.compile("|".join(_EMOJI_WORDS))
# Mentions: ASCII usernames, Chinese names ending in a role word, or anything up to a space
# (WeChat puts a U+2005 space after a mention; NFKC turns it into an ordinary space).
_RE_MENTION = re.compile(
    r"@(?:[A-Za-z0-9_]{2,32}"
    r"|[^\s@]{0,8}?(?:网格员|网格长|书记|主任|物业|管家|社区|老师|师傅|大姐|姐|哥|叔|阿姨|同志|经理)"
    r"|[^\s@]{1,12}(?=\s))"
)
_RE_REPEAT_PUNCT = re.compile(r"([!?.,;:~。、…])[!?.,;:~。、…]+")
_RE_SPACES = re.compile(r"\s+")
# Fillers of voice typing; they carry no meaning for classification.
_RE_FILLER = re.compile(r"(?:嗯+|呃+|额额+|那个那个|就是说|然后呢|这个这个|哎呀+|唉+)")
_RE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Homophone typos of pinyin input and voice typing, fixed only in contexts where the intended
# word is unambiguous ("燃起味" is a gas smell; "燃起希望" is left alone).
_HOMOPHONES = (
    ("电悌", "电梯"), ("电涕", "电梯"), ("电剃", "电梯"), ("电体", "电梯"),
    ("燃起味", "燃气味"), ("燃汽", "燃气"), ("煤汽", "煤气"),
    ("天燃气", "天然气"), ("电平车", "电瓶车"), ("电频车", "电瓶车"),
    ("电屏车", "电瓶车"), ("漏谁", "漏水"), ("停谁", "停水"), ("物叶", "物业"),
    ("下水到", "下水道"), ("消防通到", "消防通道"), ("摔到了", "摔倒了"), ("摔到在", "摔倒在"),
    ("晕到", "晕倒"), ("昏到", "昏倒"), ("跌到了", "跌倒了"), ("着活", "着火"), ("冒眼", "冒烟"),
    # OpenCC keeps 著 (显著), so Traditional 著火/燒著 survive the conversion.
    ("著火", "着火"), ("烧著", "烧着"), ("著起来", "着起来"), ("著了火", "着了火"),
)
_HOMOPHONE_MAP = dict(_HOMOPHONES)
# "楼到" is 楼道 only when it is not "1楼到5楼".
_HOMOPHONE_MAP["楼到"] = "楼道"
_RE_HOMOPHONE = re.compile(
    "|".join(re.escape(a) for a, _ in _HOMOPHONES)
    + r"|(?<![\d一二三四五六七八九十几顶层])楼到(?=[灯里口内的堆有上]|$)"
)


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    try:
        return _converter().convert(text)
    except Exception:  # converter failures must never break parsing
        return text


def sanitize(text: object) -> str:
    """Coerce anything to a valid str without lone surrogates."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return text.encode("utf-8", "replace").decode("utf-8", "replace")


def normalize(text: str) -> str:
    """Return the analysis form of a message: simplified, half-width, cleaned, Arabic numerals."""
    text = sanitize(text)[:MAX_ANALYSED_CHARS]
    text = _RE_CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = _RE_PLACEHOLDER.sub(" ", text)
    text = _RE_EMOJI_WORDS.sub(lambda m: _EMOJI_WORDS[m.group(0)], text)
    text = _RE_EMOJI.sub(" ", text)
    text = _RE_MENTION.sub(" ", text)
    text = _RE_FILLER.sub("", text)
    text = _RE_REPEAT_PUNCT.sub(r"\1", text)
    text = _RE_SPACES.sub(" ", text).strip()
    text = _RE_HOMOPHONE.sub(lambda m: _HOMOPHONE_MAP[m.group(0)], text)
    return convert_address_numerals(text)
