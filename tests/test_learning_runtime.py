"""The running bot's side of learning: a model promoted elsewhere (the CLI, another process)
is picked up at the scheduler tick without a restart, and the nightly retraining runs once a
day, in a worker process, only when enough new examples arrived."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import nlp
from learning.ops import retrain
from learning.runtime import LearningRunner, RetrainSettings, with_stored_categories
from services import TicketService
from storage import Database, open_database
from tests.support.learning import CONFIG_R, FAMILY, UNSEEN, correct_family, lexicon
from tests.support.tickets import CONFIG, RecordingPresenter
from tickets.clock import FakeClock

NIGHT = datetime(2026, 9, 1, 19, 30, tzinfo=UTC)  # 03:30 in Shanghai


@dataclasses.dataclass
class FakeDispatcher:
    woken: int = 0

    def wake(self) -> None:
        self.woken += 1


@dataclasses.dataclass
class MiniServices:
    db: Database
    lexicon: nlp.Lexicon
    config: object = CONFIG_R
    tz: ZoneInfo = dataclasses.field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    dispatcher: FakeDispatcher = dataclasses.field(default_factory=FakeDispatcher)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NIGHT - timedelta(hours=6))


@pytest.fixture
async def db(db_target: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=clock)
    yield database
    await database.close()


async def test_a_model_promoted_elsewhere_is_picked_up_at_the_tick(
        db: Database, clock: FakeClock) -> None:
    services = MiniServices(db, lexicon())
    runner = LearningRunner(services, RetrainSettings(at=None))
    assert await runner.run(clock.now()) is None and services.lexicon.community_model is None
    svc = TicketService(db, CONFIG_R, clock, RecordingPresenter())
    await correct_family(svc, FAMILY, 500)
    result = await retrain(db, CONFIG_R, in_process=False)  # as `gridbot train-nlp --db`
    assert result.promoted
    assert await runner.run(clock.now()) == result.version
    assert getattr(services.lexicon.community_model, "version", None) == result.version
    assert sum(nlp.parse(t, services.lexicon).category == "group_rental" for t in UNSEEN) >= 3
    assert await runner.run(clock.now()) is None  # nothing new


async def test_nightly_retraining_in_a_worker_process_once_a_day(
        db: Database, clock: FakeClock) -> None:
    services = MiniServices(db, lexicon())
    runner = LearningRunner(services, RetrainSettings(at=time(3, 0), min_new=5))
    svc = TicketService(db, CONFIG_R, clock, RecordingPresenter())
    await correct_family(svc, FAMILY[:3], 600)
    await runner.run(NIGHT - timedelta(hours=1))  # 02:30: not yet
    assert runner.task is None
    await runner.run(NIGHT)  # 03:30 but only 3 new examples: skipped for today
    assert runner.task is None
    await correct_family(svc, FAMILY[3:], 700)
    await runner.run(NIGHT + timedelta(minutes=30))  # same day: already decided
    assert runner.task is None
    next_night = NIGHT + timedelta(days=1)
    await runner.run(next_night)
    assert runner.task is not None  # the tick returned; the training runs elsewhere
    await runner.task
    async with db.read() as uow:
        active = await uow.learning.active_model()
    assert active is not None and active[0].examples == len(FAMILY)
    assert getattr(services.lexicon.community_model, "version", None) == active[0].version
    await runner.run(next_night + timedelta(minutes=5))
    assert runner.task.done()


async def test_imported_categories_join_the_config(db: Database) -> None:
    async with db.transaction() as uow:
        await uow.learning.add_category("c_abc", "垃圾分类督导", "import:x.csv")
        await uow.learning.add_category("group_rental", "别名", "import:x.csv")
    config = await with_stored_categories(db, CONFIG_R)
    names = {c.slug: c.name for c in config.categories}
    assert names == {"group_rental": "群租房", "c_abc": "垃圾分类督导"}  # config wins
    assert await with_stored_categories(db, CONFIG) is not CONFIG
