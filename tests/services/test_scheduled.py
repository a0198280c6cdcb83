"""send_once: an occurrence is claimed and its messages queued together, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.scheduled import Occurrence, send_once
from storage import Database
from tests.support.tickets import CHAT_A, T0
from tickets.outgoing import OutgoingMessage

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def _message(key: str) -> OutgoingMessage:
    return OutgoingMessage(chat_id=CHAT_A, text="提醒", dedupe_key=key, kind="sla_remind")


async def test_an_occurrence_is_sent_once_and_a_silent_one_only_recorded(db: Database) -> None:
    due = T0 - timedelta(minutes=1)
    first = [Occurrence("remind:1", due, (_message("remind:1:a"), _message("remind:1:b"))),
             Occurrence("stale:2", due)]
    assert [o.key for o in await send_once(db, T0, first)] == ["remind:1", "stale:2"]
    again = [Occurrence("remind:1", due, (_message("remind:1:c"),)),
             Occurrence("remind:3", due, (_message("remind:3:a"),))]
    assert [o.key for o in await send_once(db, T0, again)] == ["remind:3"]
    async with db.transaction() as uow:  # due() claims rows for sending
        queued = await uow.outbox.due(100, now=FAR_FUTURE)
        assert await uow.job_runs.last_due("stale:2") == due
    assert sorted(r.message.dedupe_key for r in queued) == ["remind:1:a", "remind:1:b",
                                                           "remind:3:a"]
