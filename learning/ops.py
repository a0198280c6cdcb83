"""Retraining with the guard, model versions and rollback, on a GridBot database.

`retrain` reads the community's examples, runs the CPU-heavy part (`retrain_job`: training,
scoring the golden set and the hold-out) in a worker process when the bot asks for it, and
then either stores the new version and switches the active pointer in one transaction, or
keeps the active model and tells the secretary why (an outbox message).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from community.model import CommunityConfig
from nlp.textmodel import CommunityModel
from tickets.outgoing import OutgoingMessage

NONE_VERSION = "none"  # `gridbot model rollback none`: the rules and shipped model alone


@dataclass(slots=True)
class RetrainResult:
    promoted: bool
    version: str | None
    reasons: list[str] = field(default_factory=list)
    examples: int = 0
    background: int = 0
    candidate: dict[str, Any] = field(default_factory=dict)
    active: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        head = (f"新模型 {self.version} 已启用" if self.promoted
                else "新模型未通过把关,继续使用现有模型")
        out = [f"{head}(社区样本 {self.examples} 条,内置语料 {self.background} 条)。",
               f"候选: {self.candidate}", f"现用: {self.active}"]
        out += [f"原因: {r}" for r in self.reasons]
        return out


def retrain_job(payload: dict[str, Any]) -> dict[str, Any]:
    """The CPU-heavy part, with plain-data input and output so it can run in a worker
    process: {examples: [(text, slug)], categories: [(slug, name, keywords)], active:
    (model, base, version) | None}."""
    import nlp
    from learning.train import Labelled, judge_and_train

    lexicon = nlp.build_lexicon(categories=[nlp.Category(s, n, tuple(k))
                                            for s, n, k in payload["categories"]])
    active = None
    if payload.get("active"):
        model, base, version = payload["active"]
        active = CommunityModel.from_blobs(model, base, version)
    examples = [Labelled(t, c) for t, c in payload["examples"]]
    outcome = judge_and_train(examples, lexicon, active)
    verdict = outcome.verdict
    out: dict[str, Any] = {
        "promote": verdict.promote, "reasons": verdict.reasons,
        "candidate": verdict.candidate.as_dict() if verdict.candidate else {},
        "active": verdict.active.as_dict() if verdict.active else {},
        "examples": outcome.examples, "background": outcome.background,
    }
    if outcome.model is not None:
        out["model"] = outcome.model.model.to_bytes()
        out["base"] = outcome.model.base.to_bytes() if outcome.model.base else None
        out["version"] = outcome.model.version
    return out


def run_in_process(job: Callable[[dict[str, Any]], dict[str, Any]],
                   payload: dict[str, Any]) -> concurrent.futures.Future[dict[str, Any]]:
    """A fresh worker process (spawned: the bot's threads and sockets stay behind)."""
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    future = pool.submit(job, payload)
    future.add_done_callback(lambda _: pool.shutdown(wait=False))
    return future


async def _payload(db: Any, config: CommunityConfig | None) -> dict[str, Any]:
    async with db.read() as uow:
        examples = await uow.learning.examples()
        stored = await uow.learning.categories()
        active = await uow.learning.active_model()
    categories = [(c.slug, c.name, list(c.keywords))
                  for c in (config.categories if config else ())]
    have = {slug for slug, _, _ in categories}
    categories += [(c.slug, c.name, []) for c in stored if c.slug not in have]
    return {
        "examples": [(e.text, e.category) for e in examples],
        "categories": categories,
        "active": (active[1], active[2], active[0].version) if active else None,
    }


async def retrain(db: Any, config: CommunityConfig | None, *, in_process: bool = True,
                  job: Callable[[dict[str, Any]], dict[str, Any]] = retrain_job,
                  now: datetime | None = None) -> RetrainResult:
    """Train a candidate, judge it, promote it or tell the secretary why not."""
    payload = await _payload(db, config)
    if not payload["examples"]:
        return RetrainResult(False, None, ["还没有社区样本(导入历史工单,或等网格员改分类、接单)"])
    if in_process:
        out = await asyncio.wrap_future(run_in_process(job, payload))
    else:
        out = await asyncio.to_thread(job, payload)
    result = RetrainResult(bool(out["promote"]), out.get("version"), list(out["reasons"]),
                           out["examples"], out["background"], out["candidate"],
                           out["active"])
    async with db.transaction() as uow:
        if result.promoted and result.version:
            await uow.learning.save_model(
                version=result.version, model=out["model"], base_model=out["base"],
                examples=result.examples, background=result.background,
                metrics={"candidate": result.candidate, "active_before": result.active},
                now=now)
            await uow.learning.activate(result.version, now=now)
        elif config is not None:
            await uow.outbox.add_many(_tell_secretary(config, result, now or db.clock.now()),
                                      now)
    return result


def _tell_secretary(config: CommunityConfig, result: RetrainResult,
                    now: datetime) -> list[OutgoingMessage]:
    text = ("🧠 社区分类模型重新训练后没有启用,继续使用现有模型。\n"
            + "\n".join(f"· {r}" for r in result.reasons)
            + f"\n(社区样本 {result.examples} 条;可用 gridbot model list 查看版本)")
    return [OutgoingMessage(chat_id=p.telegram_id, text=text, kind="staff_info",
                            dedupe_key=f"learning:rejected:{p.key}:{now.isoformat()}")
            for p in config.supervisors() if p.telegram_id is not None]


async def rollback(db: Any, version: str | None = None) -> str:
    """Activate `version`, or the previously active one; 'none' switches the community
    model off. Returns the version now active ('none')."""
    async with db.transaction() as uow:
        models = await uow.learning.models()
        if version is None:
            earlier = sorted((m for m in models if not m.active and m.activated_at),
                             key=lambda m: m.activated_at or m.created_at, reverse=True)
            version = earlier[0].version if earlier else NONE_VERSION
        if version == NONE_VERSION:
            await uow.learning.deactivate()
            return NONE_VERSION
        if not await uow.learning.activate(version):
            raise LookupError(version)
        return version
