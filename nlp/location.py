"""Address extraction: compound, street, building, unit, room, floor.

Runs on normalised text (Arabic digits, half-width). Rules, in the order they are applied:
dash forms ("8-2-1201", "8-502"), explicit building markers ("8号楼/8栋/8幢/8座/8#"),
street-named buildings ("临江路4幢"), units ("3单元"), rooms ("502室", a 3-4 digit number right
after a building/unit, or next to 楼上/楼下/家/住户), and floors ("18楼", "3层", "顶楼").
A 1-2 digit number before 楼 is a floor, except in the northern "5楼2单元" form and when it
contradicts the room that follows ("5楼302": the room is on floor 3, so 5 is the building).
"""

from __future__ import annotations

import re

from nlp.lexicon import Lexicon
from nlp.types import ParsedLocation

_B = r"([A-Za-z]?\d{1,3}|[A-Za-z])"
_SEP = r"[\s,、的]{0,2}"
_RE_DASH3 = re.compile(r"(?<![\d\-./:])(\d{1,3})-(\d{1,2})-(\d{3,4})(?![\d\-./:])")
_RE_DASH2 = re.compile(
    r"(?<![\d\-./:])(\d{1,3})-(\d{3,4})(?![\d\-./:年月])(?!\s*(?:[张元块个人米次天户平斤件台份分]|以上|以下|左右|千伏|[kK][vV]))"
)
_RE_BUILDING = re.compile(
    rf"(?<![\d\-])第?{_B}\s*(?:号楼|号栋|号幢|栋|幢|座|#)(?!\s*(?:层|栋楼))"
)
# "8号" alone is a date as often as a building; only take it when a unit or room follows.
_RE_HAO = re.compile(
    r"(?<![\d月\-])(\d{1,3})\s*号(?=\s*(?:\d{1,2}\s*单元|\d{1,2}\s*门\d|\d{3,4}(?!\d)|院\d))"
)
_RE_NORTH = re.compile(r"(?<![\d\-])(\d{1,3})\s*楼\s*(?=\d{1,2}\s*单元)")
_RE_STREET = re.compile(
    r"([\u4e00-\u9fff]{1,6}?(?:大道|大街|路|街|巷|弄))\s*(\d{1,4})\s*(号楼|号院|号|幢|栋|座)"
)
_RE_UNIT = re.compile(r"(?<![\d\-])(\d{1,2})\s*(?:单元|门(?=\s*\d{3,4}))")
_RE_ROOM_MARKED = re.compile(
    r"(?<![\d\-])(\d{3,4})\s*(?:室|房间|号房|房)(?![\u4e00-\u9fff]?[价租费东子补])"
)
_RE_ROOM_CONTEXT = re.compile(
    r"(?<![\d\-.])(\d{3,4})(?![\d.])\s*"
    r"(?=楼上|楼下|的|家|住户|业主|户|门口|对门|邻居|那户|这户|号(?!楼)|房主|租户|把"
    r"|天天|每天|一直|经常|总是|又|在|装修|漏|养|半夜|晚上|,|。|!|$)"
)
_RE_ROOM_AFTER = re.compile(r"^[\s,、]{0,2}(\d{3,4})(?![\d年月日号元块米])")
_RE_ROOM_LEAD = re.compile(
    r"(?:住|在|是|对门|楼上|楼下|隔壁|我家|我们家|被)\s*(\d{3,4})(?![\d年月日元块米点])"
)
# "8-1楼道", "11-1 5楼": building-unit before a stairwell, a lift or a floor.
_RE_DASH_UNIT = re.compile(
    r"(?<![\d\-./:])(\d{1,3})-(\d{1,2})(?![\d\-./:])"
    r"(?=\s*(?:楼道|楼梯|单元|门口|门洞|电梯|\d{1,2}\s*[楼层]))"
)
_RE_BUILDING_EN = re.compile(r"(?i:building|bldg|block)\s*#?\s*(\d{1,3})(?!\d)")
_RE_FLOOR = re.compile(r"(?<![\d\-#.A-Za-z])(-?\d{1,2})\s*(?:楼|层)(?![\d]*\s*单元|号|栋|盘)")
_RE_TOP_FLOOR = re.compile(r"顶楼|楼顶|顶层|房顶")
_LANE_SUFFIXES = ("里", "弄", "巷", "胡同", "院", "坊", "村")
# "…里14号后门" is a door; "…里15号停水" / "8号上午" is a date.
_RE_DOOR_NUMBER = re.compile(
    r"\s*(\d{1,4})\s*号(?![楼院线房床])(?!\s*(?:上午|下午|晚上|早上|早晨|凌晨|中午|傍晚|夜里|白天"
    r"|起|到|至|开始|那天|当天|之前|之后|以前|以后|停|开始|举行|截止))"
)

# Compound names: strong suffixes work anywhere; weak single-character ones (苑, 府, 城, 里 ...)
# are everyday words ("家里", "城管"), so they only count right before a building number.
_STRONG = (
    "家属院|家属区|花园|名苑|家园|世家|港湾|公寓|小区|新村|山庄|花苑|华庭|雅苑|嘉园|佳苑|名邸|华府|"
    "公馆|名城|新城|大厦|广场(?!舞)|雅居|丽园|嘉苑|新苑|苑小区|宿舍"
)
_RE_COMPOUND_STRONG = re.compile(rf"([\u4e00-\u9fffA-Za-z]{{2,5}}?)({_STRONG})")
_RE_COMPOUND_WEAK = re.compile(
    r"([\u4e00-\u9fff]{2,5}?)(苑|府|城|里|园|庭|湾|居|阁|邸|院|坊|村|庄)"
    r"(?=\s*(?:\d|[A-Za-z]\d*\s*(?:栋|座|幢|号)|第?[一二三四五六七八九十]+[号栋幢座]))"
)
_LEADING_NOISE = (
    "我们家", "我们", "咱们", "你们", "他们", "我家", "住在", "家住", "位于", "就在", "这个",
    "那个", "整个", "隔壁", "对面", "附近", "旁边", "老旧", "现在", "还有", "反映", "投诉",
    "请问", "麻烦",
    "我", "你", "他", "她", "这", "那", "本", "该", "咱", "住", "在", "是", "的", "了", "老", "个",
    "们", "各", "每", "哪", "全", "整", "到", "从", "去", "里", "和", "跟", "说", "新建", "建",
)
_BAD_NAME_CHARS = set("的了是在有和都也就还吗呢吧啊么个些什怎没不很太又")
_GENERIC_NAMES = {
    "小区", "老小区", "新小区", "商品房", "安置", "拆迁", "高档", "周边", "这片", "城中",
}


def _strip_noise(name: str) -> str:
    changed = True
    while changed and name:
        changed = False
        for prefix in _LEADING_NOISE:
            if name.startswith(prefix) and len(name) > len(prefix):
                name = name[len(prefix):]
                changed = True
                break
            if name == prefix:
                return ""
    return name


def _valid_name(core: str) -> bool:
    return (
        len(core) >= 2
        and core not in _GENERIC_NAMES
        and not any(ch in _BAD_NAME_CHARS for ch in core)
    )


def find_compound(text: str, lexicon: Lexicon) -> str | None:
    for alias in lexicon.alias_order:
        if alias in text:
            return lexicon.compound_aliases[alias]
    for rx in (_RE_COMPOUND_STRONG, _RE_COMPOUND_WEAK):
        for m in rx.finditer(text):
            core = _strip_noise(m.group(1))
            if _valid_name(core):
                suffix = m.group(2)
                if suffix == "苑小区":
                    suffix = "苑"
                return core + suffix
    return None


def _find_place(text: str, lexicon: Lexicon) -> str | None:
    for place in lexicon.places:
        if place in text:
            return place
    return None


def extract_location(text: str, lexicon: Lexicon) -> ParsedLocation:
    building = unit = room = floor = street = None
    used: list[tuple[int, int]] = []  # spans already consumed, so floors don't re-read them
    anchor = -1  # end of the last building/unit match, where a bare room number may follow

    m = _RE_DASH3.search(text)
    if m:
        building, unit, room = m.group(1), m.group(2), m.group(3)
        used.append(m.span())
    else:
        m = _RE_STREET.search(text)
        if m and _street_door_only(text, m):
            # "XX路368号" in a petition, or beside a building of its own: a street address.
            street = _strip_noise(m.group(1)) or m.group(1)
            used.append(m.span())
            m = None
        if m:
            street = _strip_noise(m.group(1)) or m.group(1)
            building = m.group(2)
            used.append(m.span())
            anchor = m.end()
        else:
            for rx in (_RE_BUILDING, _RE_NORTH, _RE_HAO, _RE_BUILDING_EN):
                m = next((x for x in rx.finditer(text)
                          if not _inside(x.start(), used) and not _is_count(text, x)), None)
                if m:
                    building = m.group(1).upper()
                    used.append(m.span())
                    anchor = m.end()
                    break
        if building is None:
            m = _RE_DASH2.search(text)
            if m:
                building, room = m.group(1), m.group(2)
                used.append(m.span())
        if building is None:
            m = _RE_DASH_UNIT.search(text)
            if m:
                building, unit = m.group(1), m.group(2)
                used.append(m.span())
                anchor = m.end()

    if unit is None:
        m = _RE_UNIT.search(text)
        if m:
            unit = m.group(1)
            used.append(m.span())
            anchor = max(anchor, m.end())
            if building is None:
                # "3单元2-1201"-style tails are rare; a "2-1201" after the unit is unit-room.
                pass

    if room is None:
        m = _RE_ROOM_MARKED.search(text)
        if m is None and anchor >= 0:
            m = _RE_ROOM_AFTER.search(text[anchor:])
            if m:
                room = m.group(1)
                used.append((anchor + m.start(1), anchor + m.end(1)))
                m = None
        if m is not None:
            room = m.group(1)
            used.append(m.span())
        if room is None:
            for rx in (_RE_ROOM_LEAD, _RE_ROOM_CONTEXT):
                m = rx.search(text)
                if m and not _inside(m.start(1), used) and not _is_floor_room(text, m):
                    room = m.group(1)
                    used.append(m.span(1))
                    break

    for m in _RE_FLOOR.finditer(text):
        if _inside(m.start(1), used):
            continue
        value = m.group(1)
        # "5楼302": the room says floor 3, so "5楼" named the building.
        if (
            building is None
            and room is not None
            and text[m.end():].lstrip().startswith(room)
            and not room.startswith(value)
        ):
            building = value
        else:
            floor = value.lstrip("-") if not value.startswith("-") else value
        break
    if floor is None and _RE_TOP_FLOOR.search(text):
        floor = None  # top floor named without a number: a floor, never a building

    compound = find_compound(text, lexicon)
    if building is None and compound and compound.endswith(_LANE_SUFFIXES):
        # Lane houses and courtyards are numbered by door: "同福里14号", "桂花弄3号".
        at = text.find(compound)
        m = _RE_DOOR_NUMBER.match(text, at + len(compound)) if at >= 0 else None
        if m:
            building = m.group(1)
    if street is None:
        street = _find_place(text, lexicon) if lexicon.places else None
    return ParsedLocation(compound, building, unit, room, floor, street)


# Messages this long are petitions (nlp/petition.py): their "XX路368号" is a street address.
_PETITION_LEN = 80
_RE_COUNT_BEFORE = re.compile(r"(?:共有?|总共|一共|还有|存在|约|近|多达|其中|有|[/、])\s*$")
# "…以上/左右" (a count), "50栋以南" (a direction); "4栋和5栋中间" stays building 4, as the
# group-chat sets label it.
_RE_COUNT_AFTER = re.compile(
    r"\s*(?:楼)?(?:约|共|别墅|房屋|住房|都|基本|以上|左右|以[东南西北])")


def _street_door_only(text: str, m: re.Match[str]) -> bool:
    """A street door number ("莲湖路18号"), not a building: in a long petition, or when the
    message names a building of its own ("C5市路18号…1栋二门")."""
    if m.group(3) != "号":
        return False
    if len(text) >= _PETITION_LEN or _RE_COMPOUND_STRONG.match(text, m.end()):
        return True  # "阳光路368号锦绣家园的业主": the compound's street address
    return bool(_RE_BUILDING.search(text, m.end()))


def _is_count(text: str, m: re.Match[str]) -> bool:
    """"一共7栋楼", "还有5栋别墅": how many buildings, not which."""
    return bool(_RE_COUNT_BEFORE.search(text, max(0, m.start() - 3), m.start())
                or _RE_COUNT_AFTER.match(text, m.end()))


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _is_floor_room(text: str, m: re.Match[str]) -> bool:
    # A 3-4 digit number that is a year, money or a phone fragment is not a room.
    tail = text[m.end(1): m.end(1) + 2]
    # "602天天吵" and "1604次卧" are flats; "300天" and "100次" are not.
    if tail[:1] in _NOT_ROOM_UNITS and tail not in ("天天", "次卧"):
        return True
    # "3522户业主" is a count of households; "桐梓坡589号" a street door number.
    if tail[:1] == "户" and tail != "户主":
        return True
    if tail[:1] == "号" and text[m.start(1) - 1: m.start(1)] in _PLACE_END:
        return True
    # a masked or case number: "0000", "(2018)楚01行终345号", "编号0000"
    if set(m.group(1)) == {"0"} or text[max(0, m.start(1) - 2): m.start(1)].endswith(
            ("终", "初", "申", "字", "第", "编号", "号码")):
        return True
    # (thirteenth round) numbers in a petition that are no flat: a bus route named elsewhere
    # in the message ("370路…开放370的公交"), a train or a road (C9174, s207), a staff number
    # (工号999), a decree or a document ("103号令", "[2005]903号"), a range of fees or marks
    # ("1120~1680元", "2000到5000的押金", "128——160"), money paid or deducted ("每个月扣278").
    if _not_room_number(text, m):
        return True
    # "快打119", "已拨打110": a hotline being dialled, not a flat.
    return bool(_RE_DIALLED.search(text, max(0, m.start(1) - 8), m.start(1)))


_RE_RANGE_AFTER = re.compile(r"\s*(?:[-~～—–]+|到|至)\s*\d")
_RE_RANGE_BEFORE = re.compile(r"\d\s*(?:[-~～—–]+|到|至)\s*$")
_RE_DOC_AFTER = re.compile(r"号(?:令|文|》|〕|\])")
_RE_MONEY_BEFORE = re.compile(r"(?:交|扣|付|收|花|赔|罚|欠|退)了?\s*$")


def _not_room_number(text: str, m: re.Match[str]) -> bool:
    start, end, value = m.start(1), m.end(1), m.group(1)
    before = text[max(0, start - 3): start]
    if before.endswith(("工号", "]", "〕", "【")) or _RE_DOC_AFTER.match(text, end):
        return True
    if re.search(rf"(?<!\d){value}\s*路", text):
        return True  # a bus route named elsewhere in the message
    if len(text) < _PETITION_LEN:
        return False  # (the group-chat sets parse exactly as before: no change below 80 chars)
    if before.endswith(("×", "*")):
        return True  # a masked phone number
    if before[-1:].isascii() and before[-1:].isalpha():
        return True  # C9174, s207, G107
    if re.fullmatch(r"(?:19[5-9]|20[0-3])\d", value):
        return True  # a year without 年: "2019新生军训", "是2019的最后一天"
    return bool(_RE_RANGE_AFTER.match(text, end)
                or _RE_RANGE_BEFORE.search(text, max(0, start - 12), start)
                or _RE_MONEY_BEFORE.search(text, max(0, start - 3), start))


_RE_DIALLED = re.compile(
    r"(?:打了?|打过|拨了?|叫了?|报警|报了?|电话|热线|call|打了?[^\d,。]{0,4}次)\s*$")
_PLACE_END = frozenset("路街巷道坡弄里村岭湖桥段")


_NOT_ROOM_UNITS = frozenset("年元块米平万多余次个斤天人路")
