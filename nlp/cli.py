"""Command-line entry points (wired into `gridbot parse` / `gridbot eval-nlp` by bot.py)."""

from __future__ import annotations

import json
from typing import TextIO

from nlp.lexicon import Lexicon
from nlp.parser import parse


def _text_of(line: str) -> str:
    """The `text` field of a JSON line; a bad line is parsed as its raw content or as ""."""
    try:
        obj = json.loads(line)
    except ValueError:
        return line
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else ""
    return ""


def run_parse_cli(stdin: TextIO, stdout: TextIO, lexicon: Lexicon | None) -> int:
    """JSON Lines in ({"text": ...}), one JSON object per input line out, in order."""
    for raw in stdin:
        line = raw.rstrip("\r\n")
        result = parse(_text_of(line), lexicon)
        stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    stdout.flush()
    return 0


def run_eval_cli(path: str, stdout: TextIO, lexicon: Lexicon | None) -> int:
    from nlp.eval import run_eval_cli as _run

    return _run(path, stdout, lexicon)
