"""Chinese numerals in addresses -> Arabic digits.

Only numerals that sit next to an address marker (栋, 单元, 室, 楼 ...) or long digit-by-digit
runs ("六零一") are converted, so ordinary words such as 一直, 一下 or 三天 stay untouched.
"""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0, "〇": 0, "○": 0, "洞": 0,
    "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}

_NUM = "零〇○一幺二两三四五六七八九十百千"
# Markers that make a preceding numeral an address part.
_AFTER = r"(?:号楼|号院|号|栋|幢|座|单元|室|楼|层|户|#)"
_RE_BEFORE_MARKER = re.compile(rf"第?([{_NUM}]+)(?={_AFTER})")
# Digit-by-digit runs of three or more ("六零一", "一二零三") are room numbers in practice;
# 两 never appears in such runs, so "三三两两" is safe.
_RE_SPELLED = re.compile("[零〇○一幺二三四五六七八九]{3,4}")
# "一栋楼都停电了" means "a whole building", not building 1.
_WHOLE = re.compile(r"[一两整](?=(?:栋|幢|座|层)楼)")


def cn_to_arabic(token: str) -> str | None:
    """Convert one Chinese numeral to an Arabic digit string, or None if malformed."""
    if not token:
        return None
    if any(ch in _UNITS for ch in token):
        total = 0
        current = 0
        for ch in token:
            if ch in _DIGITS:
                current = _DIGITS[ch]
            elif ch in _UNITS:
                total += (current or 1) * _UNITS[ch]
                current = 0
            else:
                return None
        return str(total + current)
    out = []
    for ch in token:
        if ch not in _DIGITS:
            return None
        out.append(str(_DIGITS[ch]))
    return "".join(out)


def _is_approximation(token: str) -> bool:
    # "七八层", "三四栋": two adjacent digits mean "about 7 or 8", never a building number.
    return (
        len(token) == 2
        and not any(ch in _UNITS for ch in token)
        and token[0] in _DIGITS
        and token[1] in _DIGITS
    )


def _replace_marker(match: re.Match[str]) -> str:
    token = match.group(1)
    start = match.start(1)
    text = match.string
    if _WHOLE.match(text, start) and len(token) == 1:
        return match.group(0)
    if _is_approximation(token):
        return match.group(0)
    value = cn_to_arabic(token)
    return match.group(0) if value is None else value


def convert_address_numerals(text: str) -> str:
    """Rewrite address numerals in `text`; everything else is left as is."""
    if not any(ch in _DIGITS or ch in _UNITS for ch in text):
        return text
    text = _RE_BEFORE_MARKER.sub(_replace_marker, text)
    return _RE_SPELLED.sub(lambda m: cn_to_arabic(m.group(0)) or m.group(0), text)
