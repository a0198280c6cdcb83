"""``gridbot migrate-db``: move a community from its SQLite file to PostgreSQL.

The copy itself (all SQL) is :mod:`storage.transfer`; this module checks the arguments,
prints one line per table (rows in the SQLite file, rows on PostgreSQL, ``ok`` or
``MISMATCH``) and turns the outcome into an exit code: 0 when every count matches, 1 on
any mismatch. Refusals (the bot still running, a target that holds data) raise
:class:`MigrateRefused` with a Chinese sentence for the operator; nothing was written then.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from storage import is_postgres_url
from storage.transfer import TransferRefused, TransferReport, copy_sqlite_to_postgres
from tickets.clock import SystemClock


class MigrateRefused(Exception):
    """The migration did not start; the message says why (Chinese)."""


def check_arguments(source: str, target: str, schema: str | None) -> None:
    if not is_postgres_url(target):
        raise MigrateRefused("--to 需要 PostgreSQL 地址，例如 postgresql://user@host:5432/gridbot。")
    if is_postgres_url(source):
        raise MigrateRefused("--from 需要 SQLite 数据库文件（如 gridbot.db），不是 PostgreSQL 地址。")
    if not Path(source).is_file():
        raise MigrateRefused(f"找不到 SQLite 数据库文件：{source}")
    if schema is not None and not schema.replace("_", "").isalnum():
        raise MigrateRefused(f"模式名只能由字母、数字和下划线组成：{schema}")


async def migrate_db(source: str, target: str, *, schema: str | None = None,
                     timezone: str = "Asia/Shanghai", out: TextIO | None = None) -> int:
    """Copy ``source`` (SQLite) to ``target`` (PostgreSQL URL); print the counts; the exit
    code (0 all counts equal, 1 a mismatch). Raises :class:`MigrateRefused`."""
    out = out or sys.stdout
    check_arguments(source, target, schema)
    print("迁移前请先停止机器人和工作台（gridbot run / gridbot web）；迁移期间不要写入。", file=out)
    try:
        report = await copy_sqlite_to_postgres(
            source, target, clock=SystemClock(), timezone=timezone, schema=schema)
    except TransferRefused as refused:
        raise MigrateRefused(str(refused)) from refused
    for line in report_lines(report):
        print(line, file=out)
    return 0 if report.ok else 1


def report_lines(report: TransferReport) -> list[str]:
    """One line per table, then a summary line."""
    width = max((len(t.table) for t in report.tables), default=5)
    lines = [f"{t.table:<{width}}  {t.source:>9} → {t.target:<9}  {'ok' if t.ok else 'MISMATCH'}"
             for t in report.tables]
    where = f"{report.target}" + (f"（模式 {report.schema}）" if report.schema else "")
    bad = [t.table for t in report.tables if not t.ok]
    if bad:
        lines.append(f"行数不一致：{', '.join(bad)}。请检查后重新迁移到一个空的模式。")
    else:
        lines.append(f"迁移完成：{len(report.tables)} 张表的行数全部一致 → {where}。"
                     "用 --db 指向它启动机器人。")
    return lines
