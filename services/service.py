"""``TicketService``: the use cases bound to one Database, config, Clock and Presenter,
so handlers and the scheduler need not pass four arguments on every call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from community.model import CommunityConfig
from services import actions
from services.intake import IncomingReport, IntakeResult, report_received, report_received_many
from services.presenter import Presenter
from storage import Database
from tickets.clock import Clock
from tickets.model import Actor, ReportInput, Ticket

Ref = int | str


@dataclass(frozen=True, slots=True)
class TicketService:
    db: Database
    config: CommunityConfig
    clock: Clock
    presenter: Presenter

    @property
    def _d(self) -> tuple[Database, CommunityConfig, Clock, Presenter]:
        return self.db, self.config, self.clock, self.presenter

    async def report_received(self, *, source_chat_id: int, source_message_id: int,
                              reporter_id: int, reporter_name: str, report: ReportInput,
                              source_thread_id: int | None = None,
                              reporter_username: str | None = None) -> IntakeResult:
        return await report_received(
            *self._d, source_chat_id=source_chat_id, source_message_id=source_message_id,
            reporter_id=reporter_id, reporter_name=reporter_name, report=report,
            source_thread_id=source_thread_id, reporter_username=reporter_username)

    async def report_received_many(self, items: Sequence[IncomingReport]) -> list[IntakeResult]:
        return await report_received_many(*self._d, items)

    async def assign(self, ref: Ref, actor: Actor, assignee: str) -> Ticket:
        return await actions.assign(*self._d, ref, actor, assignee)

    async def accept(self, ref: Ref, actor: Actor) -> Ticket:
        return await actions.accept(*self._d, ref, actor)

    async def progress(self, ref: Ref, actor: Actor, note: str) -> Ticket:
        return await actions.progress(*self._d, ref, actor, note)

    async def resolve(self, ref: Ref, actor: Actor, note: str | None = None) -> Ticket:
        return await actions.resolve(*self._d, ref, actor, note)

    async def close_unrated(self, ref: Ref, actor: Actor | None = None,
                            note: str | None = None) -> Ticket:
        return await actions.close_unrated(*self._d, ref, actor, note)

    async def rate(self, ref: Ref, actor: Actor, score: int, comment: str | None = None) -> Ticket:
        return await actions.rate(*self._d, ref, actor, score, comment)

    async def reopen(self, ref: Ref, actor: Actor, note: str | None = None) -> Ticket:
        return await actions.reopen(*self._d, ref, actor, note)

    async def transfer(self, ref: Ref, actor: Actor, *, to_assignee: str | None = None,
                       to_grid: str | None = None, note: str | None = None) -> Ticket:
        return await actions.transfer(*self._d, ref, actor, to_assignee=to_assignee,
                                      to_grid=to_grid, note=note)

    async def escalate(self, ref: Ref, actor: Actor, reason: str) -> Ticket:
        return await actions.escalate(*self._d, ref, actor, reason)

    async def reject(self, ref: Ref, actor: Actor, note: str) -> Ticket:
        return await actions.reject(*self._d, ref, actor, note)

    async def cancel(self, ref: Ref, actor: Actor, note: str | None = None) -> Ticket:
        return await actions.cancel(*self._d, ref, actor, note)

    async def merge(self, ref: Ref, master_ref: Ref, actor: Actor) -> Ticket:
        return await actions.merge(*self._d, ref, master_ref, actor)

    async def split(self, ref: Ref, actor: Actor) -> Ticket:
        return await actions.split(*self._d, ref, actor)

    async def split_supporter(self, ref: Ref, user_id: int, actor: Actor) -> Ticket:
        return await actions.split_supporter(*self._d, ref, user_id, actor)

    async def attach_photo(self, ref: Ref, actor: Actor, file_id: str) -> Ticket:
        return await actions.attach_photo(*self._d, ref, actor, file_id)

    async def recategorize(self, ref: Ref, actor: Actor, category: str,
                           note: str | None = None) -> Ticket:
        return await actions.recategorize(*self._d, ref, actor, category, note)

    async def edit_report(self, ref: Ref, actor: Actor, report: ReportInput) -> Ticket:
        return await actions.edit_report(*self._d, ref, actor, report)
