from pathlib import Path

from nlp.eval import evaluate, load_corpus

CORPUS = Path(__file__).parent / "data" / "nlp_corpus.jsonl"


def test_corpus_shape() -> None:
    records = load_corpus(str(CORPUS))
    assert len(records) >= 450
    assert sum(not r["is_report"] for r in records) >= len(records) // 4
    cats = {r["category"] for r in records if r["is_report"]}
    assert len(cats) == 19


def test_corpus_quality_floors() -> None:
    """Floors a little below the measured figures, so regressions fail."""
    m = evaluate(load_corpus(str(CORPUS)))
    assert m.report_f1 >= 0.98
    assert m.category_accuracy >= 0.93
    assert m.emergency_recall == 1.0  # missing an emergency is the worst error
    assert m.emergency_precision >= 0.9
    assert m.location_accuracy >= 0.95


def test_test_split_regression_floors() -> None:
    """The corpus's split="test" records. The rules were tuned and the character model is
    trained on every labelled set, these included, so this guards regressions only."""
    records = [r for r in load_corpus(str(CORPUS)) if r.get("split") == "test"]
    m = evaluate(records)
    assert m.report_f1 >= 0.95
    assert m.category_accuracy >= 0.88
    assert m.emergency_recall == 1.0


def test_holdout_set_regression_floors() -> None:
    """nlp_holdout.jsonl was written after the rules (see nlp/README.md for its blind first
    score); it has since been trained on, so these are regression floors too."""
    m = evaluate(load_corpus(str(CORPUS.with_name("nlp_holdout.jsonl"))))
    assert m.report_f1 >= 0.93
    assert m.category_accuracy >= 0.85
    assert m.emergency_recall == 1.0


def test_blind_sets_floors() -> None:
    """nlp_blind3 / nlp_blind4 were written blind (see nlp/README.md for their first scores)
    and then used for fixes, so these floors guard regressions, not generalisation."""
    for name, f1, cat in (("nlp_blind3.jsonl", 0.97, 0.95), ("nlp_blind4.jsonl", 0.97, 0.93),
                          ("nlp_blind5.jsonl", 0.98, 0.97), ("nlp_blind6.jsonl", 0.98, 0.95)):
        records = load_corpus(str(CORPUS.with_name(name)))
        assert len(records) >= 100
        m = evaluate(records)
        assert m.report_f1 >= f1, name
        assert m.category_accuracy >= cat, name
        assert m.emergency_recall == 1.0, name  # missing an emergency is the worst error
        # 0.88 on blind3 since the character model may add emergencies from log-odds -2 (its
        # writer calls a drunk smashing things or a burglary found afterwards urgent).
        assert m.emergency_precision >= 0.85, name
        assert m.location_accuracy >= 0.95, name


def test_emergency_families_and_guards() -> None:
    from nlp import parse

    for text in ("燃起味好重 从隔壁飘出来的", "天然气管道被挖断了 呲呲往外冒气",
                 "孩子被关电梯里了 在哭", "刘阿姨一个星期没见着人了", "老人家里门敲不开",
                 "奶奶早上去买菜没回来 手机也没带", "楼道里冒出很大的烟", "老伴摔了 起不来 快"):
        assert parse(text).urgency == "emergency", text
    for text in ("楼下烧烤烟特别大 熏得不行", "我家没气了", "共享单车倒在地上好久了",
                 "被狗咬了一口 出血了", "上门换燃气报警器的是骗子 别开门"):
        assert parse(text).urgency != "emergency", text


def test_emergency_families_after_blind5_blind6() -> None:
    """Families added after blind5/blind6 (each a phrasing family, not one sentence)."""
    from nlp import parse

    for text in ("有个人站在楼顶边上 好像要往下跳", "孩子被反锁在家里了 煤气还开着",
                 "好浓的烟味 楼道里都是烟", "独居老人已连续四天未见出门,敲门无人应答",
                 "我妈一个人在家 打了十几个电话都没人接 能不能上门看看",
                 "家里燃气灶关不上了 一直在冒气", "电动车在楼道里自燃了", "我爸突然倒下了 叫他没反应",
                 "电梯突然停了 我被关在里面", "小孩掉进池塘里了", "樓下著火了 快來人"):
        assert parse(text).urgency == "emergency", text
    for text in ("转发:某市一小区昨夜发生火灾 大家引以为戒", "据了解,隔壁小区昨晚电梯困人,所幸无人受伤",
                 "建议为老人加装燃气泄漏报警器", "建议铺设软垫,孩子摔倒容易受伤",
                 "停电四个小时了 电梯也停了 有老人被困在家里下不来", "社区宣传 电动车自燃的危害",
                 "老人在家里没气了做不了饭 燃气公司啥时候来", "树倒下了 压在车上",
                 "手机掉进下水道里了", "4号楼有人飞线充电,存在较大火灾隐患"):
        assert parse(text).urgency != "emergency", text


def test_look_alike_non_reports() -> None:
    from nlp import parse

    for text in ("明天上午燃气公司入户安检 请家中留人", "专业开锁 管道疏通 二十年经验 随叫随到",
                 "请问燃气公司的报修电话是多少?", "关于上周反映的路灯不亮问题,现已全部修复,特此告知",
                 "特别感谢网格员小王,上周我父亲跌倒,她及时赶到,现在已无大碍", "哈哈 我家狗又把拖鞋叼走了",
                 "上次说的楼上漏水,后来发现是我家水管接头松了,已经拧紧,不用麻烦社区了"):
        assert not parse(text).is_report, text
    for text in ("有冒充燃气公司的骗子上门 我妈差点上当 大家注意", "建议在3号楼门口加装路灯",
                 "有人把一楼院子围起来盖了个小房子 还往外出租", "请问一下墙体渗水找谁 我家渗了一个多月了"):
        assert parse(text).is_report, text


def test_hotline_number_is_not_a_room() -> None:
    from nlp import parse

    assert parse("15栋2单元楼下电瓶车烧起来了 快打119").location.room is None
    assert parse("11号楼地下车库冒烟,已拨打119").location.room is None


def test_emergency_round_sets_floors() -> None:
    """blind7 / blind8 / blind9 were written blind for emergency recall (see nlp/README.md for
    their first scores) and then used for fixes: these floors guard regressions only."""
    for name, f1, cat in (("nlp_blind7.jsonl", 0.96, 0.78), ("nlp_blind8.jsonl", 0.93, 0.79),
                          ("nlp_blind9.jsonl", 0.90, 0.73)):
        m = evaluate(load_corpus(str(CORPUS.with_name(name))))
        assert m.emergency_recall == 1.0, name
        assert m.emergency_precision >= 0.95, name
        assert m.report_f1 >= f1, name
        assert m.category_accuracy >= cat, name


def test_one_guard_pipeline_for_every_emergency_layer() -> None:
    """The same guards apply to enumerated triggers, danger stems, broadened stems and rescue
    cues; uncertainty (怕是, 好像, 是不是, 感觉) stays live."""
    from nlp import parse

    for text in ("怕是煤气漏了", "好像哪里着火了 一股焦味", "是不是天然气漏了 味道好冲",
                 "感觉燃气味越来越重", "地下室那边着了", "厨房里有火 快来人", "好多烟 呛得睁不开眼",
                 "他说活着没意思 人在栏杆外面", "她吞了一把药", "孩子锁在车里了 在哭",
                 "独居的阿婆好几天没去买菜了", "打119 三楼着了", "救命"):
        assert parse(text).urgency == "emergency", text
    for text in ("没有着火 是楼下排烟", "电梯停了 没人被困", "电视剧里有人跳楼", "消防演练 楼道会放烟",
                 "燃气入户安检 请留人", "如何预防燃气泄漏", "上周着火的事已经处理好了 没人受伤",
                 "万一着火了怎么办", "救命 广场舞太吵了", "快报警吧 哈哈 猫把花盆打翻了",
                 "游戏里被困住了 出不去", "笑死 不想活了", "这天热得要着火了"):
        assert parse(text).urgency != "emergency", text


def test_char_model_is_trained_on_the_current_labelled_sets() -> None:
    """nlp/data/charmodel.npz is trained from tests/data/nlp_*.jsonl (`gridbot train-nlp`);
    retrain it when a set changes."""
    from nlp.charmodel import default_model
    from nlp.training import data_digest, labelled_paths

    model = default_model()
    assert model is not None
    assert model.digest == data_digest(labelled_paths(CORPUS.parent)), "run: gridbot train-nlp"

def test_blind10_symptom_vocabulary_floors() -> None:
    """blind10 was written blind for category accuracy with symptom vocabulary (first score in
    nlp/README.md: category 0.763) and then used for fixes: these floors guard regressions."""
    m = evaluate(load_corpus(str(CORPUS.with_name("nlp_blind10.jsonl"))))
    assert m.emergency_recall == 1.0
    assert m.report_f1 >= 0.98
    assert m.category_accuracy >= 0.92
    assert m.location_accuracy >= 0.95
    # blind11: new phrasings written after the blind10 fixes (first score: category 0.658).
    m = evaluate(load_corpus(str(CORPUS.with_name("nlp_blind11.jsonl"))))
    assert m.emergency_recall == 1.0
    assert m.report_f1 >= 0.96
    assert m.category_accuracy >= 0.89


def test_symptom_families_after_blind10() -> None:
    from nlp import parse

    for text, cat in (("楼上洗澡我家厨房就下雨", "water_leak"), ("下完雨门口就成河了", "drainage"),
                      ("有人推电动车进电梯", "ev_charging"), ("有人在楼下烧树叶 黑烟熏人", "sanitation"),
                      ("我的自行车放楼下第二天就没了", "public_order"), ("整栋楼都黑了", "utilities"),
                      ("隔壁装修把我墙震裂了 找他他不认", "neighbor_dispute"),
                      ("楼顶上搭了个彩钢板房 在里面养鸽子", "illegal_construction")):
        r = parse(text)
        assert r.is_report and r.category == cat, (text, r.category)
    for text in ("有人把剩饭倒在门口", "电梯里有人推电动车上楼", "有人在楼下烧垃圾 黑烟熏得衣服都不能晒"):
        assert parse(text).urgency != "emergency", text
    for text in ("有人把老人推倒在地上", "电梯里有人 出不来了"):
        assert parse(text).urgency == "emergency", text
    assert not parse("小孩丢了一只粉色水杯 谁看到说一声").is_report


def test_blind12_ordinary_traffic_floors() -> None:
    """blind12 (200 ordinary group messages, 10 emergencies, danger-adjacent words) was written
    blind for emergency precision (first score in nlp/README.md: precision 0.526, 9 false
    alarms) and then used for fixes: these floors guard regressions."""
    m = evaluate(load_corpus(str(CORPUS.with_name("nlp_blind12.jsonl"))))
    assert m.emergency_recall == 1.0
    # 0.833 since the character model may add an emergency from log-odds -2 (recall first:
    # leave-one-set-out recall 0.89 at precision 0.78, see nlp/README.md): two of them here.
    assert m.emergency_precision >= 0.8
    assert m.report_f1 >= 0.94
    assert m.category_accuracy >= 0.82
    assert m.location_accuracy >= 0.95


def test_precision_families_after_blind12() -> None:
    from nlp import parse

    for text in ("救命 今天上班热得要命", "这道题看不懂 救命啊", "我爸昨天在楼梯上摔了一跤 医生说没事",
                 "烤面包烤焦了 一股焦味", "梯子里有股焦味 麻烦物业看一下", "那只狗老追着人叫",
                 "电梯坏了 奶奶住20楼下不去", "给我妈办了个防走失手环", "几个喝多的在楼下摔酒瓶子",
                 "隔壁老太太糊涂了 总找不到家"):
        assert parse(text).urgency != "emergency", text
    for text in ("救命 我家着火了", "电梯坏了 我在里面出不去", "狗追着人咬 腿上都是血",
                 "拿着酒瓶子砸人 见血了", "电梯里一股焦味 还冒烟了", "老人躺在地上一动不动",
                 "我妈摔倒了 起不来", "救命啊 楼道里好大的烟 下不去"):
        assert parse(text).urgency == "emergency", text


def test_chat_families_after_blind12() -> None:
    from nlp import parse

    for text in ("今天热得要着火了 不想出门", "救命 这周加班太多了", "昨晚追剧那集打架太精彩了",
                 "本月水费开始缴纳", "社区打疫苗要预约吗"):
        assert not parse(text).is_report, text
    for text in ("电梯坏了 热得受不了 快来修", "楼上漏水 哈哈 我都无语了 天天滴", "笑死 电梯又坏了"):
        assert parse(text).is_report, text
    # a dream is not a report; waking from one into a real danger is an emergency
    assert not parse("昨晚做梦梦见着火了 吓醒").is_report
    for text in ("半夜做梦醒来 闻到好大的煤气味", "做梦醒了发现屋里全是烟"):
        assert parse(text).urgency == "emergency", text
