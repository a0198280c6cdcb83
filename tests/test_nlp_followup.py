"""nlp.followup: what a reply under a ticket is, and whether a message is only a place."""

from __future__ import annotations

import pytest

import nlp
from nlp.followup import FollowupKind, classify_followup, is_place_fragment
from runtime.lexicon import lexicon_from_config
from tests.support.e2e import example_community

LEXICON = lexicon_from_config(example_community())
K = FollowupKind


def kind(text: str, *, photo: bool = False) -> FollowupKind:
    return classify_followup(nlp.parse(text, LEXICON), has_photo=photo)


@pytest.mark.parametrize("text", [
    "还没修好啊,今天又漏了", "没修好", "还是不亮", "又坏了", "又开始漏水了", "又開始漏水了",
    "还沒修好", "根本没修 还是一样漏", "修了跟没修一样", "不是说修好了吗 怎么又漏了",
    "那个还是没修好啊今天早上又开始漏了你们什么时候再来看看", "问题依旧", "电梯又停了",
    "嗯嗯那个就是说又堵了", "還是壞的", "又没水了!!!", "灯又不亮了[捂脸]", "白修了",
])
def test_not_fixed(text: str) -> None:
    assert kind(text) is K.NOT_FIXED


@pytest.mark.parametrize("text", [
    "什么时候来修?", "什麼時候來修", "啥时候能修好", "师傅几点到", "有人管吗", "请问处理了没有",
    "怎么还没人来", "还要等多久啊", "进度怎么样了", "有消息了吗", "一直没人来修", "谢谢 什么时候来?",
    "請問進度如何", "大概多久能来水", "催一下", "今天能来吗",
])
def test_progress_question(text: str) -> None:
    assert kind(text) is K.PROGRESS_QUESTION


@pytest.mark.parametrize("text", [
    "我家也是", "我们家也一样", "我们楼也漏", "+1", "同样的问题", "同樣的問題", "附议",
    "我这边也是这样", "我家门口也是 垃圾堆了好几天", "俺家楼下也没水", "我们单元楼道也是",
])
def test_me_too(text: str) -> None:
    assert kind(text) is K.ME_TOO


@pytest.mark.parametrize("text", [
    "补充一下是502室", "補充一下是502室", "是3单元的", "忘了说 是2单元", "我家是8-2-502",
    "我电话13812345678", "水都流到楼道里了", "具体位置在车棚旁边", "在12号楼",
    "嗯嗯那个就是说我家是3单元502",
])
def test_addition(text: str) -> None:
    assert kind(text) is K.ADDITION


def test_a_photo_is_an_addition() -> None:
    assert kind("", photo=True) is K.ADDITION


@pytest.mark.parametrize("text", [
    "谢谢", "谢谢网格员🙏", "辛苦了", "好的", "收到", "修好了谢谢", "已经好了", "麻烦你了",
    "謝謝", "感谢感谢!!",
])
def test_thanks(text: str) -> None:
    assert kind(text) is K.THANKS


@pytest.mark.parametrize("text", ["哈哈哈", "大家好", "今天天气不错", "[捂脸]", "嗯嗯", "早"])
def test_chatter(text: str) -> None:
    assert kind(text) is K.CHATTER


@pytest.mark.parametrize("text", [
    "8号楼", "3单元", "我住8栋", "8-2-502", "阳光花园", "在12号楼", "是3单元的", "3楼",
    "補充一下是502室", "8号楼3单元", "十一栋三单元",
])
def test_place_fragments(text: str) -> None:
    assert is_place_fragment(nlp.parse(text, LEXICON))


@pytest.mark.parametrize("text", [
    "8号楼的快递到了吗", "顶楼漏水了", "8号楼顶楼漏水了", "今天天气不错", "谢谢", "8号楼几点停水?",
    "3单元有人在团购吗", "",
])
def test_not_place_fragments(text: str) -> None:
    assert not is_place_fragment(nlp.parse(text, LEXICON))
