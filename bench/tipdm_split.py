"""Make the TipDM 2020 C train/test split in a temp dir and run `gridbot eval-history` on it.

Reads ../shared/data/tipdm2020c at run time (never copied into the project): the 7 first-level
labels of 附件2, title + text, rows with conflicting labels dropped, a seeded random 80/20
split. Prints the eval-history report; the last line is `accuracy=… macro_f1=… n=…`.

    .venv/bin/python bench/tipdm_split.py [--seed 0] [--data DIR] [--keep DIR]

`--draw N` instead prints N message ids of fj3_messages_votes.csv drawn at random (seeded) from
those no labelled real set (tests/data/real/*.jsonl) holds yet, 20–450 characters long, in file
order: how a new blind part is drawn (blind3: `--draw 160 --seed 2027`; the eleventh round's
random development sample tipdm_random_dev: `--draw 200 --seed 2028`, then, with that file in
place, tipdm_blind4: `--draw 120 --seed 2029`; the twelfth round's tipdm_blind5: `--draw 150
--seed 2030`, then, with it in place, tipdm_random_dev2: `--draw 150 --seed 2031`; the thirteenth
round's tipdm_blind6: `--draw 120 --seed 2032`). A blind part
is scored with bench/real_summary.py, which prints its figures and never its misses.
"""

from __future__ import annotations

import argparse
import csv
import json
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


def draw_unread(data: Path, n: int, seed: int) -> list[str]:
    """n ids of fj3 messages (20–450 characters) not in any labelled real set, in file order."""
    taken = {
        str(json.loads(line)["msg_id"])
        for path in sorted((ROOT / "tests" / "data" / "real").glob("*.jsonl"))
        for line in path.read_text("utf-8").splitlines() if line.strip()
    }
    csv.field_size_limit(1 << 24)
    with (data / "fj3_messages_votes.csv").open(encoding="utf-8", newline="") as fh:
        pool = [r["msg_id"] for r in csv.DictReader(fh)
                if r["msg_id"] not in taken and 20 <= len(r["detail"].strip()) <= 450]
    chosen = set(random.Random(seed).sample(pool, n))
    return [i for i in pool if i in chosen]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data")
    ap.add_argument("--keep", help="write the split files here instead of a temp dir")
    ap.add_argument("--draw", type=int, metavar="N",
                    help="print N unread message ids drawn at random (a new blind part)")
    args = ap.parse_args()
    if args.draw:
        print("\n".join(draw_unread(find_data(args.data), args.draw, args.seed)))
        return 0
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
