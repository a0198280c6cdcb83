"""Split reports: one resident's quick messages that make one report ("8号楼" / "3单元" /
"顶楼漏水了") become one ticket.

A message that is only a place (``nlp.followup.is_place_fragment``) either completes the
same person's ticket filed in the last ``conversations.split_window`` (the problem came
first), or waits in the database as a fragment for their report (the place came first).
A report takes the person's waiting fragments that fit it (``tickets.followups.
merge_places``): its place is completed and its text carries theirs. Fragments live in
the database, so a restart in the middle of a split report loses nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import nlp
from handlers import intake
from handlers.common import Incoming, display_name, is_group, reply
from handlers.context import Services
from nlp.followup import is_place_fragment
from services.followups import place_received
from services.fragments import fragments_and_recent_tickets, use_fragments
from services.fragments import keep_fragment as keep_fragment_for_report
from services.queries import tickets_of_reporter
from tickets.followups import fills_gaps, merge_places
from tickets.model import Location, ReportInput, Ticket
from ui import conversations as say

FRAGMENT_RETENTION = timedelta(days=1)


def _location_dict(location: Location) -> dict[str, str | None]:
    return {f: getattr(location, f)
            for f in ("compound", "building", "unit", "room", "floor", "street")}


async def file_with_fragments(services: Services, inc: Incoming, report: ReportInput) -> Ticket:
    """File a report, completed by the same person's waiting fragments — or, when the same
    person just filed this kind of problem without the place this report names, complete
    that ticket instead of opening a second one. (One read for both: this is the path of
    every report.)"""
    settings = services.config.conversations
    now = services.clock.now()
    since = now - max(settings.split_window, settings.pin_window)
    waiting, recent = await fragments_and_recent_tickets(
        services.db, inc.chat.id, inc.user.id, since=since,
        recent_since=None if report.location.is_empty else now - settings.split_window)
    first_part = next((t for t in recent if t.category == report.category
                       and fills_gaps(t.location, report.location)), None)
    if first_part is not None:
        updated = await place_received(
            services.db, services.config, services.clock, services.presenter,
            ticket_id=first_part.id or 0, user_id=inc.user.id,
            user_name=display_name(inc.user), username=inc.user.username,
            text=report.text, location=report.location, request_key=inc.request_key)
        services.dispatcher.wake()
        return updated or first_part
    # A place said in words joins within the split window, a location pin within the pin
    # window (people pin, then take a while to type).
    waiting = [f for f in waiting if f.at >= now - (
        settings.pin_window if f.kind == "pin" else settings.split_window)]
    if not waiting:
        return await intake.file_report(services, inc, report)
    parts = [Location(**f.location) for f in waiting]
    place, used = merge_places(report.location, parts)
    if used:
        text = " ".join([*(waiting[i].text for i in used), report.text])
        report = replace(report, text=text, location=place)
    ticket = await intake.file_report(services, inc, report)
    if used and ticket.id is not None:
        await use_fragments(services.db, [waiting[i].id for i in used], ticket.id)
    return ticket


async def recent_ticket_missing(services: Services, inc: Incoming, place: Location,
                                window: timedelta) -> Ticket | None:
    """The person's open ticket from this chat within ``window`` that ``place`` completes."""
    since = services.clock.now() - window
    for ticket in await tickets_of_reporter(services.db, inc.user.id, limit=3):
        if (ticket.source_chat_id == inc.chat.id and ticket.created_at >= since
                and ticket.is_open and fills_gaps(ticket.location, place)):
            return ticket
    return None


async def take_place(services: Services, inc: Incoming, text: str, place: Location,
                     window: timedelta, kind: str = "text") -> bool:
    """A place said (or pinned) on its own: complete the person's recent ticket, or keep
    it for their next report. False when there is nothing to do with it."""
    ticket = await recent_ticket_missing(services, inc, place, window)
    if ticket is not None:
        await place_received(
            services.db, services.config, services.clock, services.presenter,
            ticket_id=ticket.id or 0, user_id=inc.user.id, user_name=display_name(inc.user),
            username=inc.user.username, text=text, location=place,
            request_key=inc.request_key)
        services.dispatcher.wake()
        return True
    now = services.clock.now()
    await keep_fragment_for_report(
        services.db, chat_id=inc.chat.id, user_id=inc.user.id,
        message_id=inc.message.message_id, text=text, location=_location_dict(place), now=now,
        kind=kind, forget_before=now - FRAGMENT_RETENTION)
    if not is_group(inc.chat):
        await reply(services, inc, say.FRAGMENT_PRIVATE, suffix="fragment")
    return True


async def keep_fragment(services: Services, inc: Incoming, text: str,
                        parsed: nlp.ParseResult) -> bool:
    """A place-only message: part of a split report. False for anything else."""
    if not is_place_fragment(parsed):
        return False
    return await take_place(services, inc, text, intake.location_of(parsed),
                            services.config.conversations.split_window)
