"""What the end-to-end tests share besides conftest's fixtures: the example community's ids,
a Tuesday morning, bot options for tests, and the vague messages the bot asks about."""

from __future__ import annotations

from datetime import UTC, datetime

from community import CommunityConfig, example_config_text, parse_config
from localapi import LocalBotApi
from runtime.app import BotOptions, GridBot

# Ids of the example community (community/example.toml).
GROUP_1 = -1001000000001  # 第一网格: 阳光花园 1-12号楼, 临江路 2-6幢
GROUP_2 = -1001000000002  # 第二网格: 阳光花园 13-20号楼, 翠苑小区
WORKER_1, WORKER_2, SUPERVISOR, POLICE = 1001, 1002, 1000, 1003
RESIDENT, RESIDENT_2, RESIDENT_3 = 2001, 2002, 2003
# Tuesday 2026-11-24 10:00 in Shanghai: inside working hours, no holiday near.
TUESDAY_MORNING = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


# Vague messages that the bot asks about ("登记为工单?") rather than files. Which of them reads
# as borderline depends on the trained character model, so the tests of the question flow take
# the first one that does (and fail if none does).
VAGUE_MESSAGES = (
    "有没有人觉得最近晚上有点吵", "感觉最近水压有点小", "最近楼道有点脏", "最近垃圾桶是不是有点满",
    "最近是不是有点吵啊", "感觉小区里的路灯有点暗", "最近楼下是不是有点味道", "是不是只有我觉得最近有点吵",
)


def borderline_example() -> tuple[str, str | None]:
    """(text, the category the parser gives it) of the first vague message read as borderline."""
    import nlp
    from runtime.lexicon import lexicon_from_config

    lexicon = lexicon_from_config(example_community())
    for text in VAGUE_MESSAGES:
        result = nlp.parse(text, lexicon)
        if result.borderline and result.urgency != "emergency":
            return text, result.category
    raise AssertionError("none of VAGUE_MESSAGES reads as borderline any more: add one that does")


def example_community() -> CommunityConfig:
    import tomllib

    config, problems = parse_config(tomllib.loads(example_config_text()))
    assert problems == []
    return config


def fast_options(server: LocalBotApi, **overrides: object) -> BotOptions:
    values: dict[str, object] = {
        "api_url": server.base_url, "poll_timeout": 1, "request_timeout": 5.0,
        "outbox_idle_poll": 0.05, "scheduler_tick": 0.0, "rate_limit": False,
    }
    values.update(overrides)
    return BotOptions(**values)  # type: ignore[arg-type]


async def idle(server: LocalBotApi, gridbot: GridBot) -> None:
    """Wait until the bot has consumed every update and finished what they started."""
    await server.wait_consumed(timeout=10)
    await gridbot.until_idle()


async def file_report(server: LocalBotApi, gridbot: GridBot, text: str,
                      user: int = RESIDENT, chat: int = GROUP_1) -> str:
    """Post a report and return its ticket number."""
    if text.startswith("/"):
        await server.command(chat, user, text)
    else:
        await server.post(chat, user, text)
    await server.wait_consumed()
    await gridbot.until_idle()
    assert gridbot.services is not None
    async with gridbot.services.db.read() as uow:
        [ticket, *_] = await uow.queries.of_reporter(user, limit=1)
    assert ticket.number is not None
    return ticket.number


def texts_to(server: LocalBotApi, chat: int) -> list[str]:
    return [r.text or "" for r in server.sent(chat_id=chat) if r.method == "sendMessage"]
