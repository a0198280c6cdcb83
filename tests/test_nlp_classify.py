import pytest

from nlp import DEFAULT_CATEGORIES, Category, build_lexicon, category_name, parse


@pytest.mark.parametrize(
    "text",
    ["大家早上好", "收到", "好的 辛苦了", "谢谢王姐上次帮忙", "【通知】明天停水 请提前储水",
     "团购的荔枝到了 请到北门自提", "捡到一个钱包 失主请联系我", "请问社区几点上班",
     "给物业的张师傅点个赞", "", "[表情][表情]"],
)
def test_not_reports(text: str) -> None:
    r = parse(text)
    assert not r.is_report
    assert r.category is None and r.urgency is None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("房顶漏雨,请物业维修", "water_leak"),
        ("小区门口下水道堵了 一下雨就积水", "drainage"),
        ("楼上天天半夜跺脚 吵得睡不着", "noise"),
        ("垃圾桶满了好几天没人清运", "sanitation"),
        ("我的车位又被人占了", "parking"),
        ("楼道里有人给电瓶车充电", "ev_charging"),
        ("遛狗不拴绳 差点扑到孩子", "pets"),
        ("顶楼那户在楼顶加盖了一间房", "illegal_construction"),
        ("楼道里堆满了杂物", "public_space"),
        ("楼上装修把我家墙震裂了 不认账 请调解", "neighbor_dispute"),
        ("8号楼楼道灯坏了", "facilities"),
        ("4栋电梯又坏了", "elevator"),
        ("楼道的灭火器全是过期的", "fire_gas_safety"),
        ("我的电动车昨晚被偷了", "public_order"),
        ("独居老人没人照顾 饭都吃不上", "elderly_care"),
        ("我家停水了", "utilities"),
        ("物业费年年涨 服务态度太差", "property"),
        ("门口的树枝伸到窗户里了 能不能修剪", "greenery"),
    ],
)
def test_categories(text: str, category: str) -> None:
    r = parse(text)
    assert r.is_report
    assert r.category == category
    assert r.keywords


def test_category_is_the_problem_not_who_fixes_it() -> None:
    assert parse("房顶漏雨,请物业维修").category == "water_leak"


def test_notice_vs_own_outage() -> None:
    assert not parse("【通知】明天停水").is_report
    r = parse("我家停水了")
    assert r.is_report and r.urgency == "urgent"


@pytest.mark.parametrize(
    "text",
    ["厨房有很浓的煤气味", "6栋着火了 黑烟从窗户冒出来", "楼下的李大爷晕倒在单元门口了",
     "我被困在电梯里了", "楼下有人打架 流了好多血", "独居的张奶奶好几天没见她出门了",
     "樓下有股很重的瓦斯味", "敲门没人应 老人电话也打不通"],
)
def test_emergencies(text: str) -> None:
    r = parse(text)
    assert r.is_report and r.urgency == "emergency"


@pytest.mark.parametrize(
    "text",
    ["没有煤气味了 谢谢大家", "上次着火的事谢谢大家", "【消防演练】下周三进行消防演练",
     "我家老人昨天差点摔倒 扶手太滑了", "楼道里的电瓶车迟早会着火"],
)
def test_negated_or_hypothetical_not_emergency(text: str) -> None:
    r = parse(text)
    assert r.urgency != "emergency"


def test_word_boundary_avoids_false_hit() -> None:
    # "停电动车" is parking e-bikes, not a power cut
    r = parse("楼下停电动车的太多了 路都堵了")
    assert r.urgency != "urgent" or "停电" not in r.keywords
    assert "停电" not in r.keywords


def test_traditional_input() -> None:
    r = parse("電梯又壞了 已經第三次了")
    assert r.is_report and r.category == "elevator"


def test_kinds() -> None:
    assert parse("建议在幼儿园门口装个减速带").kind == "suggestion"
    assert parse("我妈在家摔倒了起不来").kind == "help"
    assert parse("楼道灯坏了").kind == "complaint"
    assert parse("请问社区几点上班").kind == "inquiry"
    assert parse("表扬一下保洁阿姨").kind == "praise"
    assert parse("大家早上好").kind == "chat"


def test_duplicate_key_stable_for_paraphrases() -> None:
    a = parse("阳光花园8栋3单元顶楼漏雨了")
    b = parse("阳光花园8栋3单元 楼顶渗水 麻烦看看")
    assert a.duplicate_key == b.duplicate_key
    assert a.duplicate_key.startswith("water_leak|阳光花园|8|3|")


def test_result_to_dict_is_json_able() -> None:
    import json

    d = parse("8栋漏水").to_dict()
    json.dumps(d)
    for key in ("is_report", "kind", "category", "urgency", "confidence", "location",
                "keywords", "duplicate_key", "borderline"):
        assert key in d


def test_taxonomy_and_names() -> None:
    assert next(iter(DEFAULT_CATEGORIES)) == "water_leak"
    assert list(DEFAULT_CATEGORIES)[-1] == "other"
    assert len(DEFAULT_CATEGORIES) == 19
    assert category_name("water_leak") == "漏水渗水"
    assert category_name(None) == "其他"


def test_lexicon_overrides_and_new_categories() -> None:
    lx = build_lexicon(
        categories=[Category("noise", "噪音", ("跳舞机",)), Category("covid", "防疫", ("隔离点",))]
    )
    assert category_name("noise", lx) == "噪音"
    assert parse("楼下跳舞机一直响", lx).category == "noise"
    r = parse("隔离点的帐篷倒了 挡住路了", lx)
    assert r.category == "covid"
    # defaults untouched
    assert category_name("noise") == "噪音扰民"


def test_borderline_band() -> None:
    r = parse("楼道有点那个")
    assert isinstance(r.borderline, bool)
    assert not parse("大家早上好").borderline
