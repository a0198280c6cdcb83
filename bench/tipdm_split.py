"""Make the TipDM 2020 C train/test split in a temp dir and run `gridbot eval-history` on it.

Reads ../shared/data/tipdm2020c at run time (never copied into the project): the 7 first-level
labels of 附件2, title + text, rows with conflicting labels dropped, a seeded random 80/20
split. Prints the eval-history report; the last line is `accuracy=… macro_f1=… n=…`.

    .venv/bin/python bench/tipdm_split.py [--seed 0] [--data DIR] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parents[1] / "shared" / "data" / "tipdm2020c"
SOURCE = "fj2_labeled_details_union.csv"


def find_data(given: str | None) -> Path:
    candidates = [Path(given)] if given else [DEFAULT_DATA, Path("/work/shared/data/tipdm2020c")]
    for c in candidates:
        if (c / SOURCE).is_file():
            return c
    sys.exit(f"TipDM data not found (looked in {', '.join(map(str, candidates))})")


def split(data: Path, out: Path, seed: int) -> tuple[Path, Path, int, int]:
    with (data / SOURCE).open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["label_conflict"] != "True"]
    random.Random(seed).shuffle(rows)
    cut = int(len(rows) * 0.8)
    paths = []
    for name, part in (("train", rows[:cut]), ("test", rows[cut:])):
        path = out / f"tipdm_{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["title", "text", "label"])
            for r in part:
                w.writerow([r["title"], r["text"], r["label"]])
        paths.append(path)
    return paths[0], paths[1], cut, len(rows) - cut


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data")
    ap.add_argument("--keep", help="write the split files here instead of a temp dir")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    import bot

    data = find_data(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        train, test, n_train, n_test = split(data, out, args.seed)
        print(f"TipDM 2020 C, seed {args.seed}: train {n_train}, test {n_test}")
        started = time.perf_counter()
        code = bot.main(["eval-history", str(train), str(test), "--text", "text",
                         "--title", "title", "--category", "label"])
        print(f"wall time {time.perf_counter() - started:.1f} s")
        return code


if __name__ == "__main__":
    sys.exit(main())
