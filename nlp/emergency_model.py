"""A character-bigram naive Bayes "emergency or not" model, used only as a recall booster.

Trained at import on `data/emergency_train.txt` (label<TAB>normalised text, generated from the
labelled sets in tests/data by `rebuild_training_file`). The rules decide; this model can only
*add* an emergency, when its log-odds are high, no emergency guard fires and the message is
not a question, notice, lost-and-found, group-buy, praise or chat (see classify.decide).
Leave-one-set-out figures that justify keeping it are in nlp/README.md.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from itertools import repeat
from operator import add
from pathlib import Path

TRAIN_FILE = Path(__file__).parent / "data" / "emergency_train.txt"
# Log-odds threshold (prior included). Chosen by leave-one-set-out: 8-12 kept held-out
# precision >= 0.85 on every set; 10 is the middle.
THRESHOLD = 10.0


def features(text: str) -> list[str]:
    t = text.replace(" ", "|")
    return [t[i: i + 2] for i in range(len(t) - 1)] + list(t)


class EmergencyNB:
    __slots__ = ("prior", "unknown", "weights")

    def __init__(self, rows: Iterable[tuple[str, bool]]) -> None:
        counts = {True: Counter(), False: Counter()}
        n = Counter()
        for text, label in rows:
            n[label] += 1
            counts[label].update(features(text))
        vocab = set(counts[True]) | set(counts[False])
        v = len(vocab) or 1
        tot_t = sum(counts[True].values()) + v
        tot_f = sum(counts[False].values()) + v
        self.prior = math.log((n[True] or 1) / (n[False] or 1))
        self.unknown = math.log(1 / tot_t) - math.log(1 / tot_f)
        self.weights = {
            f: math.log((counts[True][f] + 1) / tot_t) - math.log((counts[False][f] + 1) / tot_f)
            for f in vocab
        }

    def log_odds(self, text: str) -> float:
        get, unk = self.weights.get, repeat(self.unknown)
        t = text.replace(" ", "|")
        return (self.prior + sum(map(get, t, unk))
                + sum(map(get, map(add, t, t[1:]), unk)))


def load_rows(path: Path = TRAIN_FILE) -> list[tuple[str, bool]]:
    rows = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                label, tab, text = line.rstrip("\n").partition("\t")
                if tab and label in ("0", "1"):
                    rows.append((text, label == "1"))
    except OSError:
        return []
    return rows


_MODEL: EmergencyNB | None = None


def model() -> EmergencyNB | None:
    global _MODEL
    if _MODEL is None:
        rows = load_rows()
        if rows:
            _MODEL = EmergencyNB(rows)
    return _MODEL


def set_model(m: EmergencyNB | None) -> None:
    """For leave-one-set-out evaluation: replace the model (None = reload from file)."""
    global _MODEL
    _MODEL = m


def score(text: str) -> float:
    m = model()
    return m.log_odds(text) if m is not None else float("-inf")


def rebuild_training_file(paths: Iterable[str], out: Path = TRAIN_FILE) -> int:
    """Write label<TAB>normalised text for every record of the labelled JSON Lines sets."""
    from nlp.normalize import normalize

    lines = []
    for p in sorted(paths):
        with open(p, encoding="utf-8") as fh:
            for raw in fh:
                if raw.strip():
                    rec = json.loads(raw)
                    text = normalize(rec["text"]).replace("\t", " ").replace("\n", " ")
                    lines.append(f"{int(rec.get('urgency') == 'emergency')}\t{text}")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)
