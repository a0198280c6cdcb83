"""Masking of personal data for retention (pure string functions)."""

from __future__ import annotations

import re

# Mainland mobiles (1[3-9]x, 11 digits) and landlines (0xx-xxxxxxx), optionally spaced.
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d(?:[\s-]?\d){8}|0\d{2,3}[\s-]?\d{7,8})(?!\d)")
MASK = "＊"


def mask_phones(text: str) -> str:
    """Replace phone numbers with a mask, keeping the rest of the text."""
    return _PHONE.sub("[电话已隐去]", text)


def mask_text(text: str, keep: int = 0) -> str:
    """A purged report text: phones always go; unless ``keep`` > 0 the text becomes a
    fixed marker (its first ``keep`` characters otherwise, so digests still read)."""
    if keep <= 0:
        return "[已按保留期限清除]"
    cleaned = mask_phones(text)
    return cleaned[:keep] + ("…" if len(cleaned) > keep else "")


def mask_name(name: str) -> str:
    """"张三丰" → "张＊＊"; empty stays empty."""
    return name[:1] + MASK * (len(name) - 1) if name else name
