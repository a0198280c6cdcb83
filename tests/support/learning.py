"""Shared by the learning tests: a phrase family the community's workers correct, and how."""

from __future__ import annotations

import dataclasses

import nlp
from community.model import CategoryConfig
from services import TicketService
from tests.support.tickets import CHAT_A, CONFIG, person_actor, report

FAMILY = [  # 群租房, the way this community's workers corrected it
    "8号楼有人群租 一套房子住了二十多个人", "12栋502隔成了七八个小间出租 进进出出全是陌生人",
    "3单元有间房子住了十几个打工的 上下铺", "701被二房东隔成胶囊房出租",
    "9号楼一楼改成群租房了 天天有人搬进搬出", "楼上那套房子住了好多人 怀疑是群租",
    "6号楼302住了一屋子人 床都摆到客厅了", "隔壁单元有套房子打了好多隔断出租",
    "二房东把房子隔成单间租给十几个人", "4栋有群租 每天半夜还有人拖着箱子进出",
]
UNSEEN = ["3号楼有人群租,一套房子隔成好多间住了十几个人", "5栋601住了二十来个人 全是上下铺",
          "对门被二房东隔成了好几个单间", "楼下那户打了隔断 住了一大帮人",
          "11号楼疑似群租 天天进出好多陌生人"]
EMERGENCIES = ["3单元好大的煤气味 有人晕倒了", "8号楼着火了 快打119 浓烟滚滚",
               "电梯里困了人 老人喘不上气"]
RENTAL = CategoryConfig("group_rental", "群租房")
CONFIG_R = dataclasses.replace(CONFIG, categories=(RENTAL,))


def lexicon() -> nlp.Lexicon:
    return nlp.build_lexicon(categories=[nlp.Category(RENTAL.slug, RENTAL.name, ())])


async def correct_family(svc: TicketService, texts: list[str], first_msg: int) -> None:
    wang = person_actor("王芳")
    for i, text in enumerate(texts):
        result = await svc.report_received(
            source_chat_id=CHAT_A, source_message_id=first_msg + i, reporter_id=5001 + i,
            reporter_name="居民", report=report(text=text, category="illegal_construction",
                                               keywords=(text[:2],), building=str(i + 1)))
        await svc.change_category(result.ticket.id or 0, wang, "group_rental")
