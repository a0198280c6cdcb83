import pytest

from nlp import build_lexicon, parse


def loc(text: str, lexicon=None) -> dict:
    return parse(text, lexicon).location.to_dict()


@pytest.mark.parametrize(
    ("text", "building", "unit", "room"),
    [
        ("8号楼楼道灯坏了", "8", None, None),
        ("8栋门口积水", "8", None, None),
        ("8幢有人装修", "8", None, None),
        ("8#楼下垃圾没人收", "8", None, None),
        ("12座电梯困人了", "12", None, None),
        ("八号楼楼道灯坏了", "8", None, None),
        ("二十三栋六〇二漏水", "23", None, "602"),
        ("十一栋三单元六零一煤气味", "11", "3", "601"),
        ("阳光花园8栋3单元502室漏水", "8", "3", "502"),
        ("8-2-1201楼上漏水", "8", "2", "1201"),
        ("住8-502 楼上吵", "8", None, "502"),
        ("3号502门口堆了东西", "3", None, "502"),
        ("5楼2单元单元门坏了", "5", "2", None),
        ("A座1203楼上漏水", "A", None, "1203"),
    ],
)
def test_building_unit_room_forms(text: str, building, unit, room) -> None:
    got = loc(text)
    assert (got["building"], got["unit"], got["room"]) == (building, unit, room)


def test_street_named_building() -> None:
    got = loc("临江路4幢楼道灯坏了")
    assert got["street"] == "临江路" and got["building"] == "4"


@pytest.mark.parametrize(
    ("text", "floor"),
    [("我住18楼 水压太小", "18"), ("16楼以上没水", "16"), ("3楼住户天天吵", "3"),
     ("一楼下水道返水", "1")],
)
def test_floor_is_not_a_building(text: str, floor: str) -> None:
    got = loc(text)
    assert got["building"] is None
    assert got["floor"] == floor


def test_room_above_is_room() -> None:
    got = loc("502楼上天天跺脚")
    assert got["room"] == "502" and got["floor"] is None and got["building"] is None


def test_floor_after_building() -> None:
    got = loc("8栋18楼电梯坏了")
    assert got["building"] == "8" and got["floor"] == "18"


def test_top_floor_is_not_a_building() -> None:
    got = loc("顶楼漏雨")
    assert got["building"] is None


def test_compound_suffix_heuristics() -> None:
    assert loc("我住阳光花园8栋")["compound"] == "阳光花园"
    assert loc("翠湖家园5号楼漏水")["compound"] == "翠湖家园"
    assert loc("锦绣苑3栋楼道灯坏了")["compound"] == "锦绣苑"
    assert loc("电力局家属院3号楼")["compound"] == "电力局家属院"
    assert loc("我们小区门口乱停车")["compound"] is None
    assert loc("家里漏水了")["compound"] is None


def test_compound_from_lexicon() -> None:
    lx = build_lexicon(compounds=["金色阳光城"], places=["临江路"])
    assert loc("金色阳光城12栋漏水", lx)["compound"] == "金色阳光城"
    assert loc("金色阳光城小区12栋漏水", lx)["compound"] == "金色阳光城"


def test_dates_and_money_are_not_rooms() -> None:
    got = loc("2023年交了1200元物业费")
    assert got["room"] is None and got["building"] is None


def test_door_numbers_after_a_lane_name_and_a_tower_with_its_floor() -> None:
    """After blind17 (old lane houses): "同福里14号" is door 14 of the lane; "1座38层" is
    tower 1, floor 38. A bare date ("我家里3号停水") stays no address."""
    from nlp import parse

    loc = parse("同福里14号后门那块窨井盖又翘起来了").location
    assert (loc.compound, loc.building) == ("同福里", "14")
    loc = parse("天悦府1座38层电梯厅天花板往下滴水").location
    assert (loc.building, loc.floor) == ("1", "38")
    assert parse("我家里3号停水").location.building is None
