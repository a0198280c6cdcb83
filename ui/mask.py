"""Masking of personal details in anything the bot posts to a group.

Phone numbers keep their first three and last four digits; room numbers are hidden
whether written as "601室", "6-601" or "8-2-1201". The worker sees the full text in a
private message; the group only needs enough to recognise the problem.
"""

from __future__ import annotations

import re

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)")
# Building-unit-room ("8-2-1201", "8#2-1201") and building-room ("8-601") address forms.
_DASHED_ADDRESS = re.compile(r"(?<![\d-])(\d{1,3})(?:[-#](\d{1,2}))?[-#](\d{3,4})(?![\d-])")
_ROOM = re.compile(r"(?<!\d)(\d{3,4})\s*(室|房|号房|户)")
# A bare 3-4 digit number right after a building or unit is a room: "3号楼502", "2单元 1201".
_ROOM_AFTER_PLACE = re.compile(r"(号楼|楼栋|栋|幢|座|单元|#)(\s*)(\d{3,4})(?!\d)")
_CHINESE_ROOM = re.compile(r"[零〇一二三四五六七八九十]{3,4}(室|房)")


def mask_phone(text: str) -> str:
    """Replace phone numbers with 138****5678 / 010-****5678."""
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-4:]}", text)


def mask_rooms(text: str) -> str:
    """Replace room numbers with ** while keeping the building and unit."""
    text = _DASHED_ADDRESS.sub(
        lambda m: f"{m.group(1)}-{m.group(2) + '-' if m.group(2) else ''}**", text
    )
    text = _ROOM.sub(lambda m: f"**{m.group(2)}", text)
    text = _ROOM_AFTER_PLACE.sub(lambda m: f"{m.group(1)}{m.group(2)}**", text)
    return _CHINESE_ROOM.sub(lambda m: f"**{m.group(1)}", text)


def mask_for_group(text: str) -> str:
    """Everything the group must not see: phone numbers first (they look like rooms)."""
    return mask_rooms(mask_phone(text))
