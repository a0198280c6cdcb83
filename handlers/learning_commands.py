"""Workers teaching GridBot: /fix (correct a ticket's place). 改分类 is a button
(handlers/callbacks.py); both end in services/corrections.py."""

from __future__ import annotations

import asyncio

import nlp
from handlers.common import Incoming, attempt, command, is_group, reply, staff
from handlers.context import Services
from handlers.resident_commands import load_ticket
from tickets.model import Actor
from ui import texts
from ui.cards import ticket_location


@command(staff)
async def fix(services: Services, inc: Incoming, actor: Actor, args: list[str]) -> None:
    """/fix N 8号楼3单元502: the ticket's place, read by the parser's location rules."""
    ticket = await load_ticket(services, inc, args, "/fix {n} 8号楼3单元502")
    if ticket is None:
        return
    given = " ".join(args[1:]).strip()[:200]
    if not given:
        await reply(services, inc, texts.FIX_USAGE)
        return
    parsed = await asyncio.to_thread(nlp.parse, given, services.lexicon)
    loc = parsed.location
    place = (loc.compound or loc.street, loc.building, loc.unit, loc.room, loc.floor)
    if not any(place[1:]) and not place[0]:
        await reply(services, inc, texts.FIX_NO_PLACE.format(given=given))
        return
    done = await attempt(services, inc, lambda: services.tickets.fix_location(
        ticket.id or 0, actor, place))
    if done is not None:  # a group never sees the room (as on the cards)
        place_shown = ticket_location(done, for_group=is_group(inc.chat))
        await reply(services, inc, texts.FIX_DONE.format(number=done.number, place=place_shown))
