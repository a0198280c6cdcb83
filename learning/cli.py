"""Command-line entry points of the learning features (called from bot.py)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

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
    if command == "model":
        return model_command(args, out)
    if command == "train-nlp":
        config = None
        if getattr(args, "config", None):
            from community import check_config

            config, problems = check_config(args.config)  # type: ignore[attr-defined]
            if problems or config is None:
                raise TableError(f"配置文件有 {len(problems)} 个问题,请先运行 gridbot check")
        return train_db(args.db, config, out)  # type: ignore[attr-defined]
    raise TableError(f"未知命令 {command}")


def _open_db(path: str) -> Any:
    """An existing GridBot database (these commands never create one)."""
    from storage import NotAGridbotDatabase, SchemaTooNew, is_postgres_url, open_database
    from tickets.clock import SystemClock

    if not is_postgres_url(path) and not Path(path).is_file():
        raise TableError(f"找不到数据库 {path}(用 --db 指定机器人的数据库)")

    async def opener() -> Any:
        try:
            return await open_database(path, clock=SystemClock())
        except (NotAGridbotDatabase, SchemaTooNew) as exc:
            raise TableError(str(exc)) from exc
    return opener()


def train_db(db_path: str, config: Any, out: TextIO) -> int:
    """`gridbot train-nlp --db D`: a candidate from the shipped sets plus the community's
    examples, promoted only if the guard agrees."""
    from learning.ops import retrain

    async def run() -> list[str]:
        db = await _open_db(db_path)
        try:
            result = await retrain(db, config, in_process=False)
        finally:
            await db.close()
        return result.lines()
    for line in asyncio.run(run()):
        print(line, file=out)
    return 0


def model_command(args: Any, out: TextIO) -> int:
    """`gridbot model list` / `gridbot model rollback [VERSION]`."""
    from learning.ops import rollback

    async def run() -> list[str]:
        db = await _open_db(args.db)
        try:
            if args.action == "rollback":
                try:
                    now = await rollback(db, args.version)
                except LookupError as exc:
                    raise TableError(f"没有模型版本 {args.version}(gridbot model list 查看)") from exc
                return [f"现用模型: {now}" + ("(只用规则和内置模型)" if now == "none" else "")]
            async with db.read() as uow:
                models = await uow.learning.models()
            if not models:
                return ["还没有社区模型(gridbot train-nlp --db 训练)"]
            lines = []
            for m in models:
                mark = "*" if m.active else " "
                lines.append(f"{mark} {m.version}  {m.created_at:%Y-%m-%d %H:%M}  "
                             f"样本 {m.examples}  内置 {m.background}  "
                             f"{json.dumps(m.metrics.get('candidate', {}), ensure_ascii=False)}")
            return lines
        finally:
            await db.close()
    for line in asyncio.run(run()):
        print(line, file=out)
    return 0
