"""`gridbot import-history`: a community's labelled history becomes its examples.

Each row's label is mapped to one of the community's categories (the map file first, then an
exact slug or Chinese name of a known category); a label with no mapping becomes a new
category of the community with `--new-categories`, otherwise its rows are skipped and listed.
Rows are stored by content hash, so importing the same file again adds nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from learning.history import content_hash, open_history
from learning.tables import TableError

BATCH = 2_000
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


def known_categories(config: Any | None, stored: Mapping[str, str] = {}) -> dict[str, str]:
    """slug -> Chinese name: the default taxonomy, the config's [[categories]], then the
    categories earlier imports created (stored in the database)."""
    from nlp.taxonomy import DEFAULT_CATEGORIES

    out = {slug: cat.name for slug, cat in DEFAULT_CATEGORIES.items()}
    for cat in getattr(config, "categories", ()) or ():
        out[cat.slug] = cat.name or out.get(cat.slug, cat.slug)
    for slug, name in stored.items():
        out.setdefault(slug, name)
    return out


def new_slug(label: str) -> str:
    """A stable slug for a category created from a file's label (labels are Chinese)."""
    return "c_" + hashlib.sha1(label.encode()).hexdigest()[:10]


@dataclass(slots=True)
class LabelMap:
    to_slug: dict[str, str] = field(default_factory=dict)
    create: dict[str, str] = field(default_factory=dict)  # new slug -> name from the map file


def read_map(path: str | None, known: Mapping[str, str]) -> LabelMap:
    """The map file: `[map]` with `"file label" = "slug or 中文名"`, or
    `"file label" = { slug = "new_slug", name = "中文名" }` to create a category."""
    result = LabelMap()
    if not path:
        return result
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise TableError(f"找不到映射文件 {p}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TableError(f"映射文件 {p.name} 不是有效的 UTF-8 TOML:{exc}") from exc
    table = raw.get("map", raw)
    if not isinstance(table, dict):
        raise TableError(f"映射文件 {p.name} 需要一个 [map] 表")
    by_name = {name: slug for slug, name in known.items()}
    problems: list[str] = []
    for label, target in table.items():
        label = " ".join(str(label).split())
        if isinstance(target, dict):
            slug, name = str(target.get("slug", "")), str(target.get("name", "")).strip()
            if not _SLUG.match(slug) or not name:
                problems.append(f"「{label}」: 新分类需要 slug (小写英文字母、数字、下划线) 和 name")
                continue
            result.create[slug] = known.get(slug, name)
            result.to_slug[label] = slug
        elif isinstance(target, str) and target in known:
            result.to_slug[label] = target
        elif isinstance(target, str) and target in by_name:
            result.to_slug[label] = by_name[target]
        else:
            problems.append(f"「{label}」→「{target}」: 社区没有这个分类")
    if problems:
        raise TableError(f"映射文件 {p.name} 有 {len(problems)} 个问题:" + ";".join(problems[:10]))
    return result


@dataclass(slots=True)
class ImportReport:
    read: int = 0
    added: int = 0
    already: int = 0
    created: dict[str, str] = field(default_factory=dict)  # slug -> name
    unmapped: Counter[str] = field(default_factory=Counter)  # label -> rows skipped
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [*self.notes,
               f"读取 {self.read} 行:新增样本 {self.added} 条,已导入过 {self.already} 条。"]
        if self.created:
            out.append("新建社区分类:" + "、".join(f"{n}({s})" for s, n in self.created.items()))
        skipped = self.skipped + Counter({"分类没有映射": sum(self.unmapped.values())})
        skipped = +skipped
        if skipped:
            out.append("跳过 " + str(sum(skipped.values())) + " 行:" + ";".join(
                f"{reason} {n} 行" for reason, n in skipped.most_common()))
        if self.unmapped:
            shown = "、".join(f"「{label}」{n} 行" for label, n in self.unmapped.most_common(20))
            out.append(f"没有映射的分类:{shown}。可写进 --map 映射文件,或加 --new-categories 新建。")
        return out


async def import_history(db: Any, path: str, *, text: str, category: str, title: str | None,
                         label_map: LabelMap, known: Mapping[str, str],
                         new_categories: bool) -> ImportReport:
    """Read the file in a worker thread batch by batch and store the rows; one transaction
    per batch (a re-run after a crash adds only what is missing)."""
    hist = await asyncio.to_thread(open_history, path, text=text, category=category,
                                   title=title)
    report = ImportReport(notes=list(hist.table.notes))
    known = dict(known)
    by_name = {name: slug for slug, name in known.items()}
    rows_iter = hist.rows()
    origin = Path(path).name[:100]
    from storage.learning_repo import NewExample

    while True:
        batch = await asyncio.to_thread(lambda: list(itertools.islice(rows_iter, BATCH)))
        if not batch:
            break
        examples: list[NewExample] = []
        created: dict[str, str] = {}
        for row in batch:
            report.read += 1
            slug = label_map.to_slug.get(row.label) or (
                row.label if row.label in known else by_name.get(row.label))
            if slug is None and new_categories:
                slug = new_slug(row.label)
                created[slug] = row.label
                known[slug] = row.label
                by_name[row.label] = slug
            if slug is None:
                report.unmapped[row.label] += 1
                continue
            if slug in label_map.create and slug not in report.created:
                created[slug] = label_map.create[slug]
            examples.append(NewExample(content_hash(row.text, slug), row.text, slug,
                                       f"{origin}:{row.row}"))
        async with db.transaction() as uow:
            for slug, name in created.items():
                if slug not in report.created and await uow.learning.add_category(
                        slug, name, f"import:{origin}"):
                    report.created[slug] = name
            added = await uow.learning.add_imported(examples)
        report.added += added
        report.already += len(examples) - added
    report.skipped = hist.all_skipped()
    report.notes = list(hist.table.notes)
    return report


def import_history_cli(args: Any, out: TextIO) -> int:
    from storage import NotAGridbotDatabase, SchemaTooNew, open_database
    from tickets.clock import SystemClock

    config = None
    if args.config:
        from community import check_config

        config, problems = check_config(args.config)
        if problems or config is None:
            raise TableError(f"配置文件 {args.config} 有 {len(problems)} 个问题,请先运行 gridbot check")

    async def run() -> ImportReport:
        try:
            db = await open_database(args.db, clock=SystemClock())
        except (NotAGridbotDatabase, SchemaTooNew) as exc:
            raise TableError(str(exc)) from exc
        try:
            async with db.read() as uow:
                stored = {c.slug: c.name for c in await uow.learning.categories()}
            known = known_categories(config, stored)
            label_map = read_map(args.map, known)
            return await import_history(
                db, args.file, text=args.text, category=args.category, title=args.title,
                label_map=label_map, known=known, new_categories=args.new_categories)
        finally:
            await db.close()

    report = asyncio.run(run())
    for line in report.lines():
        print(line, file=out)
    if report.added:
        print(f"下一步:gridbot train-nlp --db {args.db} 训练并(通过把关后)启用社区模型。", file=out)
    return 0
