"""Labelled sets of real citizens' messages whose text stays outside the repository.

The TipDM board messages (see ../shared/data/tipdm2020c/SOURCE.md) may not be copied into the
project. A labelled set (tests/data/real/*.jsonl) therefore holds, per line, the source file
and the message id plus our labels; `join_texts` fills in the text at run time from the data
directory, which sits beside the clone: `<repo root>/../shared/data/tipdm2020c`.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "tipdm2020c"


class RealDataMissing(RuntimeError):
    """The source data a labelled real set points at is not on this machine."""


def data_dir() -> Path:
    """Where the real messages are read from (GRIDBOT_TIPDM overrides the default)."""
    return Path(os.environ.get("GRIDBOT_TIPDM", str(DEFAULT_DATA_DIR)))


@cache
def _texts(path: Path) -> dict[str, str]:
    csv.field_size_limit(1 << 24)
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["msg_id"]: row["detail"] for row in csv.DictReader(fh)}


def is_keyed(record: dict[str, Any]) -> bool:
    """A record that names its message instead of carrying the text."""
    return "text" not in record and "msg_id" in record and "source" in record


def join_texts(records: Iterable[dict[str, Any]], directory: Path | None = None,
               ) -> list[dict[str, Any]]:
    """Records with `text` filled from the source file; raises RealDataMissing with a clear
    message when the data directory, the file or a message id is missing."""
    root = directory or data_dir()
    out = []
    for rec in records:
        if not is_keyed(rec):
            out.append(rec)
            continue
        path = root / str(rec["source"])
        if not path.is_file():
            raise RealDataMissing(
                f"real-message data not found: {path} (expected a copy of shared/ beside the "
                f"repository, i.e. {DEFAULT_DATA_DIR}, or GRIDBOT_TIPDM pointing at it)"
            )
        text = _texts(path).get(str(rec["msg_id"]))
        if text is None:
            raise RealDataMissing(f"message {rec['msg_id']} is not in {path}")
        out.append({**rec, "text": text})
    return out
