"""Rows of a history table as labelled examples (title + text, label), with skip reasons."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from learning.tables import Table, column_index, read_table

MAX_LABEL = 40  # characters of a label; longer ones are not category names


@dataclass(frozen=True, slots=True)
class HistoryRow:
    text: str  # title and text joined, as the model reads it
    label: str
    row: int  # 1-based row number in the file, header included


@dataclass(slots=True)
class HistoryFile:
    table: Table
    text_col: int
    label_col: int
    title_col: int | None
    skipped: Counter[str] = field(default_factory=Counter)

    def rows(self) -> Iterator[HistoryRow]:
        for n, cells in enumerate(self.table.rows, start=2):
            text = _cell(cells, self.text_col)
            title = _cell(cells, self.title_col) if self.title_col is not None else ""
            label = " ".join(_cell(cells, self.label_col).split())
            body = " ".join(part for part in (title, text) if part)
            if not body:
                self.skipped["文本为空"] += 1
            elif not label:
                self.skipped["分类为空"] += 1
            elif len(label) > MAX_LABEL:
                self.skipped[f"分类名超过 {MAX_LABEL} 个字"] += 1
            else:
                yield HistoryRow(body, label, n)

    def all_skipped(self) -> Counter[str]:
        return self.skipped + self.table.skipped


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def open_history(path: str | Path, *, text: str, category: str,
                 title: str | None = None) -> HistoryFile:
    table = read_table(path)
    return HistoryFile(
        table,
        column_index(table.header, text, "文本"),
        column_index(table.header, category, "分类"),
        column_index(table.header, title, "标题") if title else None,
    )


def content_hash(text: str, label: str) -> str:
    """Identity of an example: the same text with the same label is stored once."""
    return hashlib.sha256(f"{label}\x1f{' '.join(text.split())}".encode()).hexdigest()[:32]
