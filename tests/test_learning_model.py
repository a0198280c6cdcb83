"""The community model: the text classifier itself, eval-history, the parser consulting it,
the learning curve from workers' corrections, the guard, rollback, and rules in front."""

from __future__ import annotations

import csv
import re
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

import bot
import nlp
from learning.ops import retrain, rollback
from learning.runtime import refresh_model
from learning.train import (
    Labelled,
    background_examples,
    golden_set,
    judge_and_train,
    measure,
    train_candidate,
)
from nlp.normalize import normalize
from nlp.textmodel import CommunityModel, TextModel, fit, train_text_model
from services import TicketService
from storage import Database, open_database
from tests.support.learning import (
    CONFIG_R,
    EMERGENCIES,
    FAMILY,
    UNSEEN,
    correct_family,
    lexicon,
)
from tests.support.tickets import (
    T0,
    RecordingPresenter,
)
from tickets.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def db(db_target: str, clock: FakeClock) -> AsyncIterator[Database]:
    database = await open_database(db_target, clock=clock)
    yield database
    await database.close()


# --- the classifier -----------------------------------------------------------------------------

def test_training_is_deterministic_and_storage_exact() -> None:
    texts = ["楼道灯坏了", "电梯停了", "楼上漏水", "路灯不亮", "电梯门关不上", "卫生间渗水"]
    labels = ["light", "lift", "leak", "light", "lift", "leak"]
    a = train_text_model(texts, labels)
    b = train_text_model(texts, labels)
    assert a.digest == b.digest
    loaded = TextModel.from_bytes(a.to_bytes())
    assert loaded.digest == a.digest
    for t in ["三楼楼道灯不亮", "电梯又停了"]:
        np.testing.assert_allclose(loaded.scores(t), TextModel.from_bytes(a.to_bytes()).scores(t))
    assert loaded.predict("电梯又停了").label == "lift"
    assert loaded.predict("楼道的灯坏了").label == "light"


def test_eval_history_prints_per_category_figures_and_a_last_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(f"{b}号楼{t}", label) for b in range(1, 30)
            for t, label in (("电梯困人 门打不开", "电梯"), ("楼道灯坏了 黑乎乎", "照明"),
                             ("楼上往下漏水 墙都湿了", "漏水"))]
    for name, part in (("train", rows[::2]), ("test", rows[1::2])):
        with (tmp_path / f"{name}.csv").open("w", encoding="gb18030", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["标题", "正文", "分类"])
            w.writerows([("", text, label) for text, label in part])
    code = bot.main(["eval-history", str(tmp_path / "train.csv"), str(tmp_path / "test.csv"),
                     "--text", "正文", "--title", "标题", "--category", "分类"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert re.fullmatch(r"accuracy=1\.000 macro_f1=1\.000 n=43", out[-1])
    assert any(line.startswith("电梯") for line in out)


def test_parser_takes_the_communitys_category_but_keeps_its_emergencies() -> None:
    lex = lexicon()
    before = [nlp.parse(t, lex) for t in UNSEEN + EMERGENCIES]
    lex.community_model = train_candidate(
        [Labelled(t, "group_rental") for t in FAMILY]
        + [Labelled(t, "group_rental") for t in EMERGENCIES],  # hostile: emergencies relabelled
        background_examples())
    after = [nlp.parse(t, lex) for t in UNSEEN + EMERGENCIES]
    assert sum(p.category == "group_rental" for p in before) == 0
    assert sum(p.category == "group_rental" for p in after[:5]) >= 3
    for old, new in zip(before[5:], after[5:], strict=True):
        assert old.urgency == new.urgency == "emergency"  # rules stay in front
        assert new.category == old.category


# --- learning from corrections, the guard, rollback -------------------------------------------

async def test_learning_curve_after_corrections_golden_not_worse(
        db: Database, clock: FakeClock) -> None:
    svc = TicketService(db, CONFIG_R, clock, RecordingPresenter())
    lex = lexicon()
    golden = golden_set()
    before = measure(None, lex, [], golden)
    await correct_family(svc, FAMILY, 100)
    result = await retrain(db, CONFIG_R, in_process=False)
    assert result.promoted, result.reasons
    assert await refresh_model(db, lex) == result.version
    right = [nlp.parse(t, lex).category == "group_rental" for t in UNSEEN]
    assert sum(right) >= 3, right
    after = measure(lex.community_model, lex, [], golden)
    assert after.golden_accuracy >= before.golden_accuracy - 0.01
    assert after.golden_emergency_recall == before.golden_emergency_recall


def degraded(model: CommunityModel) -> CommunityModel:
    """The same vocabulary with the category columns shuffled: confidently wrong."""
    w = model.model._weights.copy()
    w[:, :] = np.roll(w, 3, axis=1)
    bad = TextModel([f for f, _ in sorted(model.model._index.items(), key=lambda kv: kv[1])],
                    model.model._idf, w, model.model.labels)
    return CommunityModel(bad, None, "bad")


def test_guard_rejects_a_degraded_candidate_and_accepts_a_better_one() -> None:
    lex = lexicon()
    bg = background_examples()
    examples = [Labelled(t, "group_rental") for t in FAMILY + UNSEEN]
    good = judge_and_train(examples, lex, None, background=bg)
    assert good.verdict.promote and good.model is not None
    bad = judge_and_train(examples, lex, good.model, background=bg,
                          candidate_for_test=degraded(good.model))
    assert not bad.verdict.promote and bad.model is None
    assert any("准确率" in r for r in bad.verdict.reasons)
    assert bad.verdict.candidate is not None and bad.verdict.active is not None
    assert bad.verdict.candidate.golden_accuracy < bad.verdict.active.golden_accuracy - 0.01


async def test_a_rejected_candidate_keeps_the_model_and_tells_the_secretary(
        db: Database, clock: FakeClock) -> None:
    svc = TicketService(db, CONFIG_R, clock, RecordingPresenter())
    await correct_family(svc, FAMILY[:5], 200)

    def job(payload: dict) -> dict:  # the real job, forced to judge a degraded candidate
        from learning import ops

        out = ops.retrain_job(payload)
        model = CommunityModel.from_blobs(out["model"], out["base"], out["version"])
        lex = lexicon()
        verdict = judge_and_train([Labelled(t, c) for t, c in payload["examples"]], lex,
                                  model, candidate_for_test=degraded(model)).verdict
        return {**out, "promote": False, "reasons": verdict.reasons}

    result = await retrain(db, CONFIG_R, in_process=False, job=job)
    assert not result.promoted and result.reasons
    async with db.read() as uow:
        assert await uow.learning.active_model() is None
    async with db.transaction() as uow:
        pending = await uow.outbox.due(50)
    boss = CONFIG_R.person("周书记")
    assert boss is not None
    assert any(r.message.chat_id == boss.telegram_id and "没有启用" in r.message.text
               for r in pending)


async def test_rollback_restores_the_old_predictions_exactly(
        db: Database, clock: FakeClock) -> None:
    svc = TicketService(db, CONFIG_R, clock, RecordingPresenter())
    lex = lexicon()
    probe = UNSEEN + FAMILY[:3] + ["楼道灯坏了", "8号楼楼顶漏水"]
    await correct_family(svc, FAMILY[:6], 300)
    first = await retrain(db, CONFIG_R, in_process=False)
    assert first.promoted
    await refresh_model(db, lex)
    v1 = [(nlp.parse(t, lex).category, lex.community_model.model.scores(normalize(t)).tolist())
          for t in probe]
    clock.advance(hours=1)
    await correct_family(svc, FAMILY[6:], 400)
    second = await retrain(db, CONFIG_R, in_process=False)
    assert second.promoted and second.version != first.version
    await refresh_model(db, lex)
    assert lex.community_model.version == second.version
    assert await rollback(db) == first.version
    assert await refresh_model(db, lex) == first.version
    again = [(nlp.parse(t, lex).category, lex.community_model.model.scores(normalize(t)).tolist())
             for t in probe]
    assert again == v1
    assert await rollback(db, "none") == "none"
    await refresh_model(db, lex)
    assert lex.community_model is None


def test_fit_is_the_one_production_path() -> None:
    """eval-history and retraining learn through nlp.textmodel.fit (normalised text)."""
    model = fit(["楼道燈壞了", "电梯停了"], ["light", "lift"])  # Traditional is normalised
    assert model.predict(normalize("楼道灯坏了")).label == "light"
