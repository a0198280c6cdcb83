"""How residents write when they petition: long, formal, full of names (ninth round).

Real citizens' messages to a government board (TipDM, see nlp/README.md) differ from group
chat: they name compounds, companies and roads whose names contain category words, they wrap
an explicit leak or illegal building in developer / contractor / 质量问题 boilerplate, and
many of them consult, suggest or thank instead of reporting. The rules here are applied by
`classify.decide`; the ones that change a category or the report score only act on
petition-length messages (`is_petition`), which group chat almost never reaches (10 of the
13,500 group-chat messages in tests/data are this long).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PETITION_MIN_LEN = 80


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# (tenth round) A shorter message in the board's register: addressed to the authorities.
ADDRESSED_MIN_LEN = 60
ADDRESSED = _rx(r"领导|书记|市长|县长|区长|政府|有关部门|相关部门|职能部门|主管部门|市民热线|12345")


def is_petition(text: str) -> bool:
    n = len(text)
    return n >= PETITION_MIN_LEN or (n >= ADDRESSED_MIN_LEN and bool(ADDRESSED.search(text))
                                     and not text.startswith(("【", "[")))


# --- Category words inside proper names -------------------------------------------------
# A name is not the complaint: 古樟树社区, 树木岭路, 艺棵树培训学校, 柏树组, 枫树山 (tree),
# 燃气公司宿舍, 原煤气公司宿舍, 液化石油气发展有限公司宿舍, 新奥燃气 (gas).
NAME_SPANS = (
    _rx(r"[\u4e00-\u9fff]{0,3}树(?:木岭|[岭山湾村组达]|社区|小区|路|街|培训|学校|学院|苑|园)"),
    _rx(r"(?:燃气|煤气|石油气|天然气|液化气)[\u4e00-\u9fff]{0,6}?(?:公司|集团)(?:职工)?"
        r"(?:宿舍|小区|家属)"),
    _rx(r"(?:新奥|奥新|润华|宇冰|华润|港华|中燃|昆仑)(?:燃气|天然气)"),
    # a category word at the head of a compound's name: 绿地香树花城, 樟树家园
    _rx(r"(?:树|绿地|燃气|煤气)[\u4e00-\u9fff]{0,2}(?:花城|新城|小区|花园|家园|社区|公馆|华府|华庭"
        r"|大厦|广场|山庄|城际)"),
)
# In a petition a gas company is an actor (it bills, connects, answers), not a gas danger.
PETITION_NAME_SPANS = (
    _rx(r"(?:燃气|煤气|石油气|天然气|液化气)[\u4e00-\u9fff]{0,6}?(?:公司|集团|协会)"),
)


_NAME_CHARS = ("树", "绿地", "气")  # every name pattern holds one of these (a cheap pre-check)


def name_spans(text: str) -> list[tuple[int, int]]:
    if not any(c in text for c in _NAME_CHARS):
        return []
    spans = [m.span() for rx in NAME_SPANS for m in rx.finditer(text)]
    if is_petition(text):
        spans += [m.span() for rx in PETITION_NAME_SPANS for m in rx.finditer(text)]
    return spans


def mask_names(text: str) -> str:
    """The text with proper names blanked out (for the character model, which would read the
    树 of 艺棵树培训学校 as greenery)."""
    spans = name_spans(text)
    if not spans:
        return text
    chars = list(text)
    for a, b in spans:
        chars[a:b] = "\u3000" * (b - a)
    return "".join(chars)


def outside_names(hits: Iterable, text: str) -> list:
    """Keyword hits (objects with .start/.end) that do not lie inside a proper name."""
    spans = name_spans(text)
    if not spans:
        return list(hits)
    return [h for h in hits if not any(a <= h.start and h.end <= b for a, b in spans)]


# --- Gas supply is not gas safety ---------------------------------------------------------
GAS_SUPPLY = _rx(
    r"(?:燃气|煤气|天然气)管道[^,。!?]{0,4}(?:施工|铺设|改造|安装)"
    r"|供气|通气|开通(?:天然气|燃气|管道气|管道燃气)|(?:天然气|燃气|管道气)[^,。!?]{0,8}"
    r"(?:开通|安装|报装|接入|入户|通上|没通)|燃气费|气费|买气|换表|气表|气价|车用天然气|停气"
)
GAS_DANGER = _rx(
    r"漏气|泄漏|泄露|气味|味道|闻到|异味|爆炸|爆燃|着火|起火|失火|中毒|燃气味|煤气味|臭味|隐患|危险"
)
GAS_WORDS = ("燃气", "煤气", "天然气", "液化气", "燃气表", "煤气灶")


def gas_supply_only(text: str) -> bool:
    """Supply, connection or billing of gas, with no gas danger named."""
    return "气" in text and bool(GAS_SUPPLY.search(text)) and not GAS_DANGER.search(text)


# --- Petition topics and explicit problems --------------------------------------------------
# Topics that fit no grid category: each distinct one counts once toward "other"; the
# specific ones (a certificate, a refund, a mobile signal) more than the general ones.
OTHER_TOPICS = tuple((_rx(p), w) for p, w in (
    (r"开发商|房地产|楼盘|售楼", 1.5),
    (r"交房|收房|验收", 1.5),
    (r"房产证|不动产证|栋证|产权证|网签|购房合同|首付|贷款", 2.5),
    (r"虚假宣传|欺诈|霸王|捆绑", 2.5),
    (r"公积金|社保|医保|退休|工资|补贴|救济|养老保险", 2.5),
    (r"学位|入学|幼儿园|学校|小学|中学|教育局|老师|招生|学区", 1.5),
    (r"公交|地铁|站点|线路|高铁|红绿灯|斑马线|交警|渣土车|货车|通车|修路|硬化|车道", 1.5),
    (r"信号|网络|移动公司|电信|联通", 2.5),
    (r"退费|退款|押金|学费|退货|发票", 2.5),
    (r"质量问题|开裂|裂缝|空鼓|起泡|偷工减料|豆腐渣|质量不过关|质价不符", 2.5),
    (r"规划|审批|信息公开|法院|诉讼|纪委|备案", 1.5),
    (r"拆迁|安置|棚改|征收|旧城改造", 1.5),
))
OTHER_TOPIC_CAP = 6.0
# A petition names its subject first (the bot never sees the board's title).
HEAD = 40
HEAD_BONUS = 2.0
FIRST_NAMED_BONUS = 1.0
TOPIC_HEAD_BONUS = 1.0
UNNAMED_BONUS = 1.5
# Keyword evidence in a petition is noisy (it lists many nouns, 物业 five times, names): it
# counts half and at most this much, so the explicit problems below decide.
KEYWORD_FACTOR = 0.5
KEYWORD_SCORE_CAP = 3.0

# Explicit problems that name the category whatever the boilerplate around them says.
EXPLICIT = (
    ("water_leak", _rx(r"漏水|渗水|漏雨|渗漏|水帘洞|反水"), 4.5),
    ("illegal_construction", _rx(
        r"违建|违章建筑|违章搭建|违法建设|违规建设|违规搭建|私搭|乱搭乱建|乱建|私建|加层|加盖"
        r"|私自(?:搭建|改建|扩建|改造)|破墙|住改商|封闭.{0,4}(?:天井|露台)|拆除违|擅自|破坏结构|承重墙"
        r"|私自[^,。]{0,8}改|公共区域[^,。]{0,10}(?:装|建|搭|围)"
        r"|违法违规|违规项目|施工许可|与[^,。]{0,12}(?:竣工图|规划|图纸)不符|违反[^,。]{0,6}规划"
        r"|(?:改变|更改)[^,。]{0,4}规划|搭建|加建|扩建|违规[^,。]{0,4}(?:(?<!组)建|安装|装(?![载卸]))"),
     3.5),
    ("noise", _rx(r"扰民|噪音|噪声|杂音|隔音|吵得|吵闹|太吵|很吵|轰鸣|轰隆"
                  r"|(?:深夜|凌晨|通宵|半夜|夜间|晚上|夜里)[^,。]{0,6}施工"
                  r"|施工[^,。]{0,6}(?:深夜|凌晨|通宵|半夜|晚上|夜里)"
                  r"|(?:无法|没办法|不能)(?:正常)?(?:休息|入睡|睡觉)|睡不着|睡不好"
                  # (thirteenth round) a plant's noise, loudspeakers, music, firecrackers
                  r"|搅拌(?:站|厂|场)|混凝土(?:站|厂)|音响|高音喇叭|鞭炮声|震耳欲聋|不得安宁|大声喧哗"
                  r"|声音[^,。]{0,8}(?:太大|很大|非常大|烦人|刺耳)"), 2.5),
    ("utilities", _rx(r"停水|水压|断水|停电|断电|供水|来水|水改|用电|供电|水表"), 2.0),
    ("sanitation", _rx(r"油烟|垃圾|臭气|恶臭|粉尘|扬尘|脏乱差|废气|刺鼻|偷排|空气污染|难闻"), 2.0),
    ("parking", _rx(r"违停|乱停|停满|僵尸车|违章停车|违法停车|停车乱|占道停车|停在人行道"), 2.5),
    ("public_space", _rx(r"占道经营|摆摊|摊贩|菜贩|店外经营|马路市场|占用[^,。]{0,6}(?:通道|楼道|人行道)"
                         r"|摆在(?:马)?路上|占道"),
     2.0),
    ("property", _rx(r"物业[^,。]{0,4}(?:不作为|混乱|不管|乱收费|太差|收钱不做事|服务差|不闻不问)"
                     r""), 2.5),
    ("fire_gas_safety", _rx(r"消防设施|消防栓|灭火器|应急灯|消防手续|消防证"),
     2.0),
    ("elevator", _rx(r"电梯[^,。]{0,6}(?:故障|坏|困人|关人|停运|掉落|下滑|掉层)|困在电梯|被困电梯"),
     2.0),
    ("public_order", _rx(r"卖淫|涉黄|赌博|诈骗|传销|非法融资|非法集资|非法吸收|非吸|黑恶|出借人|网贷"
                         r"|[Pp]2[Pp]"), 3.0),
    ("greenery", _rx(r"毁绿|树木|草坪|绿地|飞絮|一枝黄花|杂草"), 1.5),
    ("drainage", _rx(r"污水|排水|下水道|化粪池|粪水|反臭"), 2.0),
)
# Parking needs vehicles being parked; roads, pavements, green belts and sold parking spaces
# alone are not a parking problem.
PARKING_ACT = _rx(r"停车|停放|停着|停在|停满|违停|乱停|抄牌|僵尸车|占道停|泊车|停到")
# (twelfth round) buses cutting in, a bus terminal's disorder, lorries on a road: the city's
# traffic, not a parking problem, unless cars are parked where they should not be.
BUS_TRAFFIC = _rx(r"公交车|公交公司|\d+路(?:车|公交)|大货车|渣土车|运渣车|搅拌车|半挂车")
PRIVATE_PARKING = _rx(r"违停|乱停|违章停车|违法停车|私家车|车位|停满|僵尸车|占道停车|乱停乱放|停车场")
PARKING_SALE = _rx(
    r"(?:捆绑|购买|买|出售|销售|卖|开盘|发票|产权)[^,。]{0,8}车位|车位[^,。]{0,6}(?:捆绑|销售|出售|发票|产权|开盘|款)"
)


PARKING_SALE_STRICT = _rx(
    r"(?:捆绑|强制[^,。]{0,6}买|销售|出售|开盘|发票|车位款|车位费)[^,。]{0,10}车位"
    r"|车位[^,。]{0,6}(?:捆绑|销售|出售|发票|开盘|款)"
)


def parking_sale(text: str) -> bool:
    """Parking spaces sold, bundled or invoiced, none of them occupied or parked in: the
    sale is the complaint ("other"). "我买的车位天天被别人占" stays parking."""
    return "车位" in text and bool(PARKING_SALE_STRICT.search(text)) and not re.search(
        r"违停|乱停|停满|占道停|僵尸车|占|停着|停进|停不进|地锁|外来车", text)


# The property company as the party complained of: without one named, "不作为", "只收费不管理"
# or a 管理员 is someone else's failure (a village committee, a night market, a school).
PROPERTY_ACTOR = _rx(r"物业|物管|业委会|业主委员会|管理处|物管会|保安|门卫|保洁")


def no_property_actor(text: str) -> bool:
    return not PROPERTY_ACTOR.search(text)


def not_property(text: str) -> bool:
    """No property company's failure: nobody of it named, or (twelfth round) no compound,
    building or owners named (a guard in a park, a guard's uniform worn by someone else)."""
    return no_property_actor(text) or not HOME_SCOPE.search(text)


def named_problem(text: str, scores: dict[str, float]) -> str | None:
    """The grid category of the first explicit problem the message names (EXPLICIT) that its
    keywords also found, if any: a model's "other" pick must not overrule it."""
    best: tuple[int, str] | None = None
    for slug, rx, _ in EXPLICIT:
        if slug == "property" or scores.get(slug, 0.0) <= 0:
            continue
        m = rx.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), slug)
    return best[1] if best else None


def adjust_petition_scores(text: str, scores: dict[str, float]) -> dict[str, float]:
    """Category scores of a petition after its topics, explicit problems and parking rule."""
    out = {slug: min(v * KEYWORD_FACTOR, KEYWORD_SCORE_CAP) for slug, v in scores.items()}
    named = False
    if INVESTMENT_FRAUD.search(text):
        # (twelfth round) lenders of a failed platform, a pyramid scheme: public order, as
        # labelled, however many refunds, loans and courts the petition names on the way
        named = True
        out["public_order"] = out.get("public_order", 0.0) + INVESTMENT_FRAUD_BONUS
    first: tuple[int, str] | None = None
    for slug, rx, bonus in EXPLICIT:
        m = rx.search(text)
        if m and (slug != "property" or m.start() < HEAD):
            named = True
            # (物业 comes up in most petitions as the party that did nothing; it is the
            # complaint when the petition opens with it)
            out[slug] = out.get(slug, 0.0) + bonus + (HEAD_BONUS if m.start() < HEAD else 0.0)
            if m.start() < HEAD and (first is None or m.start() < first[0]):
                first = (m.start(), slug)
    if first is not None:
        # (twelfth round) several problems at the head ("油烟直排…深夜噪声扰民", "烧烤，占道
        # 经营，油烟扰民"): the petition names its subject first
        out[first[1]] += FIRST_NAMED_BONUS
    topics = sum(w + (TOPIC_HEAD_BONUS if rx.search(text, 0, HEAD) else 0.0)
                 for rx, w in OTHER_TOPICS if rx.search(text))
    if not named:
        topics += UNNAMED_BONUS  # no grid problem named: most likely "other"
    if topics:
        out["other"] = out.get("other", 0.0) + min(topics, OTHER_TOPIC_CAP)
    if STALLS.search(text) and "public_space" in out:
        # (thirteenth round) street stalls and the rubbish they leave: the stalls are the
        # complaint, the rubbish its consequence
        out["public_space"] += STALL_BONUS
    if "parking" in out and (PARKING_SALE.search(text) or not PARKING_ACT.search(text)
                             or (BUS_TRAFFIC.search(text) and not PRIVATE_PARKING.search(text))):
        del out["parking"]
    if "property" in out and not_property(text):
        out["other"] = out.get("other", 0.0) + out.pop("property")
    return out


STALLS = _rx(r"摊贩|摆摊|占道经营|菜贩|小商小贩|商贩|夜宵摊|流动摊|马路市场|店外经营")
STALL_BONUS = 2.0


INVESTMENT_FRAUD = _rx(r"出借人|网贷|[Pp]2[Pp]|非法集资|非吸|非法吸收|传销|理财(?:产品|平台)|投资平台"
                       r"|数字货币|高额(?:回报|利息|收益|返利)|日均收益|平台[^。]{0,20}投资"
                       r"|投资[^。]{0,10}平台")
INVESTMENT_FRAUD_BONUS = 8.0


# --- Petitions that report nothing: consultations, suggestions, thanks ------------------------
CONSULT_OPEN = _rx(r"请问|咨询|想问|想了解|想知道|是否|能否|何时|什么时候|有没有|如何|怎么")
COMPLAINT = tuple(_rx(p) for p in (
    r"投诉|举报",
    r"扰民|噪音|漏水|渗水|停水|停电|违建|违章|乱停|垃圾|臭",
    r"严重|苦不堪言|受够|忍受|无法(?:正常)?(?:生活|休息|入睡|出行)",
    r"不作为|无人管|没人管|不管不问|得不到(?:解决|处理)|未解决|没有解决|无果|推诿|踢皮球|拖延",
    r"影响[^,。]{0,6}(?:生活|休息|出行|睡眠|健康)",
    r"隐患|违法|违规|损害|欺诈|强制|强行|霸王|捆绑",
    r"(?:恳请|请求|要求|希望|望|请)[^,。]{0,12}(?:解决|处理|查处|整改|拆除|做主|修复|取缔|赔偿)",
    r"维权|多次(?:反映|投诉|找|打)",
    r"不公平|不合理|虚假|欺压|坑了|无良|黑心|困扰|不便|不方便|危险|涉黄|无学可上|烂尾|拖欠|没拿到"
    r"|要不回|骗|失职|黑漆漆|一片漆黑",
    r"重视|督促|督办|整治|管一管|管管|查一查|严查|彻查",
    r"从来(?:就|都)?没|从没|一直没|一直不|始终没",
    r"能不能请|能否请|请[^,。]{0,6}(?:牵头|公开|公布|出面)",
    # (after the first blind part: complaints worded without the cues above)
    r"恶劣|垄断|公理|不讲理|担心|害怕|难道|吃亏|不愿|拒绝|拒不|不给|不予|推辞|不承认|无下文|没有结果"
    r"|没结果|迟迟|至今|石沉大海|忽悠|敷衍|刁难",
    r"(?:希望|请|恳请|呈请|望)[^,。]{0,12}(?:加强|协调|落实|办理|帮|尽快|早日)",
    # (tenth round: a thing that fails, bad quality, a night made sleepless)
    r"不工作|坏了|不亮|失灵|故障|太差|很差|极差|质量差|通宵|(?:深夜|半夜|凌晨)[^,。]{0,4}施工|睡不着"
    r"|无法休息|没办法休息|好好睡觉",
    # (thirteenth round) complaints with no complaint word: a due not paid, a line nobody
    # answers, a registration that never works, a price raised, a right taken away
    r"(?:两|几|三|半)个?月(?:了)?[^,。]{0,4}(?:没|未|不)发|没有?发放|无人接听|打不通|无法拨通|没能报上|报不上名"
    r"|一直未办|涨价|上涨幅度|剥夺|猖獗|乱象|如同虚设|形同虚设|坑坑洼洼",
))
# A question asked anywhere in the petition (not only at its head).
CONSULT_ANY = _rx(r"请问|咨询|想问|想了解|想知道|不知|是否|能否|何时|什么时候|有没有|为啥|为什么|吗[?]|呢[?]")
# Distinct ways of asking (a consultation asks more than it complains).
QUESTIONS = tuple(_rx(p) for p in (
    r"请问|咨询|想问|想了解|想知道|不知",
    r"是否|能否|可否|有没有|会不会|能不能",
    r"何时|什么时候|多久|进度|计划",
    r"如何|怎么|怎样|哪些|哪个|哪里|多少",
    r"[吗呢][?]|\?",
))
SUGGEST = _rx(r"^[^,。]{0,12}建议|^(?:关于|对)[^,。]{0,20}(?:建议|意见)|^希望|(?:建议|希望)[^,。]{0,16}"
              r"(?:出台|实行|试行|规划|增设|增加|增开|开通|设立|设置|考虑)")
THANKS = _rx(r"感谢|点赞|致以[^,。]{0,4}谢意|表扬|谢谢")
THANKS_DONE = _rx(r"已(?:经)?[^,。]{0,8}(?:解决|修|拆除|处理|收到|办好|完成)|迅速|及时|为[^,。]{0,10}点赞")
POLICY_WISH = _rx(r"(?:希望|期望|请)[^,。]{0,16}(?:出台|实行|试行|政策|放宽|取消这|参照)")


# The board's policy template ("在国家大力倡导…的大背景下…希望市委市政府加快…有何具体行动?"): a
# call for a policy, labelled a suggestion even when it names problems on the way.
POLICY_TEMPLATE = _rx(r"大背景下|希望市委市政府加快|有何具体(?:政策|行动|措施)")
# Transport and roads: a wish for something new (a line, a stop, more buses, a light, a
# footbridge) is a suggestion; a thing that fails (a light that never works, a line that
# stopped, a stop occupied by parked cars, deaths at a crossing) is a report.
TRANSIT = _rx(r"公交|地铁|城铁|轻轨|班次|站台|站牌|首末站|末班|收班|发车|红绿灯|天桥|斑马线"
              r"|隔离(?:栏|护栏)|过街")
NEW_THING = _rx(r"增加|增设|增开|加开|加建|开通|延长|延伸|南延|北延|新建|修建|设置|规划|改道|调整"
                r"|拓宽|多开|加密|运行密度|考虑|多安排|多派|加派")
FAILURE = _rx(r"坏了|不亮|不工作|没有工作过|失灵|故障|冲突|停运|又停|停了|没有使用|未启用|没启用"
              r"|标注不全|没有标注|事故高发|事故频发|车祸|一死|死亡|受伤|停满|被占|乱停|违停|不按时"
              r"|不准时|等不到|不来|子虚乌有|拒载|态度恶劣|乱收费|押金|不退|为什么不可以|不让"
              r"|不见来车|没有一辆车|一辆车都没|等了[^,。!?]{0,6}(?:分钟|小时|钟头)")


# Asking when a public project will open or start (a school, a park, a road to be opened
# through, a line, a rebuild) is a consultation; asking when one's own due (a property
# certificate, a gas connection, compensation) will come, or naming a hazard meanwhile, is not.
AWAITED = _rx(r"(?:何时|什么时候|啥时候|何日|哪年)[^,。!?]{0,14}"
              r"(?:开工|动工|开学|开园|招生|开业|开放|通车|打通|拉通|启动|建设|建成|开通运行|通公交|开盘)")
OWN_DUE = _rx(r"房产证|不动产证|产权证|补偿|工资|天然气|燃气|停水|停电|我家|跌倒|摔|漆黑|事故|积水|漏水"
              r"|烂尾|破烂|杂草|野草")


# Twelfth round: more ways to ask after a public project — its plan ("有开工的计划么", "是否有该
# 规划"), a road that "还能拉通吗", a works that shows no sign of life ("改造开工几年了…没动静"),
# a factory's reopening ("什么时侯能复工") — read only when the message names no home of the
# writer's (a compound, a building, the property company), so "小区门口的路改造半年了还没动静"
# stays a report as the group-chat sets label it.
AWAITED_MORE = _rx(r"(?:开工|动工|建设|拉通|打通|复工|开通)的?(?:计划|时间表)|有没有(?:该)?(?:规划|计划)"
                   r"|是否有[^,。!?]{0,6}(?:规划|计划)|还能(?:拉通|打通)|(?:拉通|打通|开工|动工|改造|修建)"
                   r"[^。!?]{0,20}(?:没见动静|没有?动静|不见动静|没有?见动静)"
                   r"|(?:何时|什么时[候侯]|啥时[候侯])[^,。!?]{0,8}(?:复工|完工|竣工|修通|开通地铁)")
HOME_SCOPE = _rx(r"小区|我家|我们家|楼道|楼下|楼上|单元|栋|物业|业主|院子|家门口")


def awaited_opening(text: str) -> bool:
    if OWN_DUE.search(text):
        return False
    return bool(AWAITED.search(text)) or (bool(AWAITED_MORE.search(text))
                                          and not HOME_SCOPE.search(text))


# A short wish for the city's transport (a line, more buses, a crossing, a stop) that names
# no home of the writer's: a suggestion, as in petitions. The group-chat sets call a wish
# for their compound a report ("孩子上学的公交站太远了 希望开通一条小区到学校的线路"), so a
# compound or a building named keeps the old reading.
def city_wish(text: str) -> bool:
    return transit_wish(text) and not HOME_SCOPE.search(text)


def transit_wish(text: str) -> bool:
    return bool(TRANSIT.search(text) and NEW_THING.search(text)) and not FAILURE.search(text)


def complaint_strength(text: str) -> int:
    return sum(1 for rx in COMPLAINT if rx.search(text))


def petition_report_shift(text: str) -> float:
    """Report-score shift for a petition: negative for a consultation, a policy suggestion or
    a thank-you note that complains of nothing; positive for a formal complaint or request."""
    strength = complaint_strength(text)
    head = text[:30]
    if THANKS.search(head) and THANKS_DONE.search(text) and strength <= 2:
        return -9.0
    if strength <= 1 and (CONSULT_OPEN.search(head) or SUGGEST.search(text)
                          or POLICY_WISH.search(text)):
        return -8.0
    if POLICY_TEMPLATE.search(text):
        return -8.0
    if transit_wish(text) or awaited_opening(text):
        return -6.0
    if strength <= SUGGEST_TAIL_MAX_STRENGTH and SUGGEST_TAIL.search(text[-SUGGEST_TAIL_SPAN:]):
        # (thirteenth round) a petition that ends on a suggestion ("建议新建…通道", "建议…
        # 尽快对外开放") argues its case with a complaint word or two: a suggestion
        return -6.0
    asks = sum(1 for rx in QUESTIONS if rx.search(text))
    if asks >= 2 and asks >= strength + 2:
        return -5.0  # more questions than complaints: a consultation
    if strength == 0:
        return -6.0 if CONSULT_ANY.search(text) else -3.0
    return min(strength, 3) * 0.8


SUGGEST_TAIL = _rx(r"建议|提议|意见和建议")
SUGGEST_TAIL_SPAN = 60
SUGGEST_TAIL_MAX_STRENGTH = 2


# Addressed to the authorities, with nothing happening right now: the register of a
# complaint about a standing problem, where the character model's emergency booster (trained
# on group chat) raises false alarms ("…夜宵摊至深夜严重影响居民生活!").
AUTHORITY_REGISTER = _rx(
    r"有关部门|相关部门|政府|领导|书记|市长|监管|执法|职能部门|举报|严重影响[^,。!]{0,6}生活"
)
LIVE_NOW = _rx(r"快|马上|立即|立刻|紧急|救命|现在|正在|刚刚|刚才|此刻|赶紧|119|120|110")


def standing_complaint(text: str) -> bool:
    return bool(AUTHORITY_REGISTER.search(text)) and not LIVE_NOW.search(text)
