"""Typed access to GridBot's services from every handler (PTB's ContextTypes pattern)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from community import CommunityConfig
from community.deployment_model import StreetPerson
from services import TicketService
from tickets.clock import Clock

if TYPE_CHECKING:
    import nlp
    from delivery import OutboxDispatcher
    from storage import Database
    from ui.presenter import ChatPresenter


@dataclass(eq=False)
class Services:
    """Everything a handler may use; built once at start-up and torn down at stop."""

    config: CommunityConfig
    db: Database
    clock: Clock
    lexicon: nlp.Lexicon
    presenter: ChatPresenter
    dispatcher: OutboxDispatcher
    bot_username: str = ""
    console_url: str | None = None  # the staff console's public base URL (/web links)
    # A deployment's street office: not staff of this community, but /web signs them in
    # to the deployment's console (set by runtime/deployment.py).
    street_staff: tuple[StreetPerson, ...] = ()
    tz: ZoneInfo = field(init=False)
    tickets: TicketService = field(init=False)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.config.timezone)
        self.tickets = TicketService(self.db, self.config, self.clock, self.presenter)


@dataclass(eq=False)
class BotData:
    """The application's ``bot_data``: one typed slot instead of string keys."""

    services: Services | None = None


class GridContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The callback context handlers receive; ``context.services`` is always ready."""

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("GridBot services are not started yet")
        return services


CONTEXT_TYPES = ContextTypes(context=GridContext, bot_data=BotData)
