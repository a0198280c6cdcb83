"""nlp.segment.token_spans must give exactly jieba's cut(HMM=False) boundaries, only faster."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp import segment
from nlp.normalize import normalize

DATA = Path(__file__).parent / "data"


def jieba_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for token in segment.cut(text):
        spans.append((pos, pos + len(token)))
        pos += len(token)
    return spans


def test_same_boundaries_as_jieba_on_every_labelled_message() -> None:
    texts = [json.loads(line)["text"] for path in sorted(DATA.glob("nlp_*.jsonl"))
             for line in path.read_text("utf-8").splitlines() if line.strip()]
    assert len(texts) > 2000
    differ = [t for t in texts for variant in (t, normalize(t))
              if segment.token_spans(variant) != jieba_spans(variant)]
    assert differ == []


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="的了漏水电梯楼单元室号栋燃气味abcXYZ0189 \r\n\t.-_%#&+，。!🔥", max_size=40))
def test_same_boundaries_as_jieba_on_random_text(text: str) -> None:
    assert segment.token_spans(text) == jieba_spans(text)


def test_words_added_at_start_up_change_both_alike() -> None:
    text = "我住在翠湖湾家园八栋"
    segment.add_words(["翠湖湾家园"])
    assert segment.token_spans(text) == jieba_spans(text)
    assert (3, 8) in segment.token_spans(text)
