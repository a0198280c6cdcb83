"""Command-line entry points of the learning features (called from bot.py)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import TextIO

from learning.history import HistoryRow, open_history
from learning.tables import TableError


def _skips(counts: Counter[str]) -> str:
    return ";".join(f"{reason} {n} 行" for reason, n in counts.most_common()) or "无"


def load_rows(path: str, *, text: str, category: str, title: str | None,
              what: str) -> list[HistoryRow]:
    hist = open_history(path, text=text, category=category, title=title)
    rows = list(hist.rows())
    for note in hist.table.notes:
        print(f"{what} {Path(path).name}: {note}", file=sys.stderr)
    print(f"{what} {Path(path).name}: 读取 {len(rows)} 行,跳过:{_skips(hist.all_skipped())}",
          file=sys.stderr)
    if not rows:
        raise TableError(f"{what}文件 {Path(path).name} 没有可用的行")
    return rows


def eval_history(train_path: str, test_path: str, *, text: str, category: str,
                 title: str | None) -> str:
    from learning.evaluate import evaluate

    train = load_rows(train_path, text=text, category=category, title=title, what="训练")
    test = load_rows(test_path, text=text, category=category, title=title, what="测试")
    return evaluate([(r.text, r.label) for r in train], [(r.text, r.label) for r in test])


def run_command(args: object, out: TextIO) -> int:
    """Dispatch `gridbot eval-history` / `gridbot import-history`; raises TableError for
    expected failures (bot.py prints it as one sentence)."""
    command = getattr(args, "command", "")
    if command == "eval-history":
        report = eval_history(args.train, args.test, text=args.text,  # type: ignore[attr-defined]
                              category=args.category, title=args.title)  # type: ignore[attr-defined]
        print(report, file=out)
        return 0
    if command == "import-history":
        from learning.importer import import_history_cli

        return import_history_cli(args, out)
    raise TableError(f"未知命令 {command}")
