"""Who is acting: resolve a Telegram user to an Actor (config first, then /register)."""

from __future__ import annotations

from community.model import CommunityConfig
from storage import Database
from tickets.model import Actor


async def resolve_actor(db: Database, config: CommunityConfig, user_id: int, *,
                        username: str | None = None, name: str | None = None) -> Actor:
    """An Actor for a Telegram user: a configured person by id/username, else the person
    they registered as (people table), else a resident."""
    person = config.person_by_telegram(user_id, username)
    if person is not None:
        return Actor(user_id=user_id, person=person, name=name)
    async with db.read() as r:
        reg = await r.people.get(user_id)
    return Actor.resolve(config, user_id, username=username, name=name,
                         registered_key=reg.person_key if reg else None)
