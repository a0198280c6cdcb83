"""Warnings about example content left in a deployer's config.

``gridbot init`` ships the example ``[[broadcasts]]`` commented out; a deployer who
uncomments them without rewriting the text would post a free haircut or dumplings to real
groups. :func:`example_broadcast_warnings` spots such broadcasts for ``gridbot check``.
"""

from __future__ import annotations

import re
from functools import cache

from community.model import CommunityConfig

_TEXT_LINE = re.compile(r'^#?\s*text\s*=\s*"(?P<text>[^"]+)"\s*$')


@cache
def example_broadcast_texts() -> frozenset[str]:
    """The ``text`` of every broadcast in the shipped example (commented out or not)."""
    from community import example_config_text

    texts: set[str] = set()
    in_broadcast = False
    for line in example_config_text().splitlines():
        bare = line.lstrip("#").strip()
        if bare.startswith("["):
            in_broadcast = bare == "[[broadcasts]]"
            continue
        match = _TEXT_LINE.match(line.strip())
        if in_broadcast and match:
            texts.add(match["text"].strip())
    return frozenset(texts)


def example_broadcast_warnings(config: CommunityConfig) -> list[str]:
    """One Chinese sentence per broadcast that still carries an example's text."""
    examples = example_broadcast_texts()
    return [
        f"定时通知 broadcasts[{index}] ({broadcast.when}) 仍是示例文字"
        f"“{broadcast.text[:20]}…”,会真的发到群里;请改写或删除。"
        for index, broadcast in enumerate(config.broadcasts)
        if broadcast.text.strip() in examples
    ]
