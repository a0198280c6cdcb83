"""The typed view of a deployment file (see :mod:`community.deployment`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from community.model import CommunityConfig

DEFAULT_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


def is_database_url(target: str) -> bool:
    """A PostgreSQL URL (``postgresql://…`` / ``postgres://…``) rather than a file path."""
    return target.startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True, slots=True)
class StreetPerson:
    """Someone of the street office: sees every community of the deployment in the console."""

    name: str
    telegram_id: int  # by id only: a username can be taken over, an id cannot


@dataclass(frozen=True, slots=True)
class DeploymentCommunity:
    """One community of a deployment, with where its data lives and its token's variable."""

    key: str
    config: CommunityConfig
    token_env: str
    db: str  # SQLite file path, or a PostgreSQL URL
    source: str  # the file its config came from (the deployment file when inline)

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema holding this community (None on SQLite)."""
        return self.key if is_database_url(self.db) else None


@dataclass(frozen=True, slots=True)
class Deployment:
    name: str
    path: str
    communities: tuple[DeploymentCommunity, ...]
    street_staff: tuple[StreetPerson, ...] = ()

    def community(self, key: str) -> DeploymentCommunity | None:
        return next((c for c in self.communities if c.key == key), None)

    def street_person(self, telegram_id: int | None) -> StreetPerson | None:
        return next((p for p in self.street_staff if p.telegram_id == telegram_id), None)

    def token_groups(self, environ: Mapping[str, str]) -> list[tuple[str, list[DeploymentCommunity]]]:
        """Communities grouped by token *value* (two variables holding one token share
        it: Telegram allows one poller per token), in the file's order."""
        groups: dict[str, list[DeploymentCommunity]] = {}
        for community in self.communities:
            token = environ.get(community.token_env, "").strip()
            groups.setdefault(token, []).append(community)
        return list(groups.items())


