"""The running bot's side of learning: stored categories join the config, and the active
community model is loaded at start and swapped in when another version becomes active."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from community.model import CategoryConfig, CommunityConfig
from nlp.textmodel import CommunityModel

log = logging.getLogger("gridbot.learning")


async def with_stored_categories(db: Any, config: CommunityConfig) -> CommunityConfig:
    """The config plus the categories earlier imports created (config entries win)."""
    async with db.read() as uow:
        stored = await uow.learning.categories()
    have = {c.slug for c in config.categories}
    extra = tuple(CategoryConfig(c.slug, c.name) for c in stored if c.slug not in have)
    if not extra:
        return config
    return dataclasses.replace(config, categories=(*config.categories, *extra))


async def refresh_model(db: Any, lexicon: Any) -> str | None:
    """Make `lexicon.community_model` the active version in the database. Returns the new
    version when it changed, else None. Loading runs in a worker thread; the swap is one
    attribute assignment, so a parse in progress finishes with the model it started with."""
    async with db.read() as uow:
        models = [m for m in await uow.learning.models() if m.active]
    current = getattr(lexicon.community_model, "version", None)
    wanted = models[0].version if models else None
    if wanted == current:
        return None
    if wanted is None:
        lexicon.community_model = None
        log.info("community model switched off")
        return "none"
    async with db.read() as uow:
        blobs = await uow.learning.model_blobs(wanted)
    if blobs is None:
        return None
    try:
        model = await asyncio.to_thread(CommunityModel.from_blobs, blobs[0], blobs[1], wanted)
    except Exception:
        log.exception("community model %s could not be loaded; keeping %s", wanted, current)
        return None
    lexicon.community_model = model
    log.info("community model %s active (was %s)", wanted, current)
    return wanted
