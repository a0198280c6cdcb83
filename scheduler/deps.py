"""What the scheduler needs from the running bot, and nothing more.

A protocol, so the scheduler imports nothing above it: the handlers' ``Services`` (and the
tests' harness) satisfy it as they are.
"""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo

from community.model import CommunityConfig
from services import TicketService
from storage import Database
from tickets.clock import Clock


class Waker(Protocol):
    def wake(self) -> None:
        """Tell the outbox dispatcher that rows are due."""


class SchedulerDeps(Protocol):
    @property
    def config(self) -> CommunityConfig: ...

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def tickets(self) -> TicketService: ...

    @property
    def dispatcher(self) -> Waker: ...
