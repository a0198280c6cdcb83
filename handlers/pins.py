"""Location pins and venues instead of an address.

A pin is matched to the nearest building or compound with coordinates in the config
(``[[conversations.points]]``, within ``conversations.pin_radius``); a venue's title and
address are read like text first ("阳光花园8号楼"). The place then completes the same
resident's ticket from the last ``conversations.pin_window`` minutes, or waits (in the
database, as a fragment) to be the place of their next report — see
``handlers/fragments.py``.
"""

from __future__ import annotations

import logging

from telegram import Update

import nlp
from handlers import fragments
from handlers.common import grid_of_chat, incoming, is_group, reply
from handlers.context import GridContext, Services
from handlers.intake import location_of
from tickets.model import Location
from ui import texts

log = logging.getLogger(__name__)
PIN_UNKNOWN_PRIVATE = "这个位置不在本社区登记的楼栋附近。请用文字说明是哪个小区、几号楼。"


def place_of_pin(services: Services, lat: float, lon: float,
                 venue_texts: tuple[str, ...] = ()) -> Location:
    """The place a pin (or venue) points at; empty when nothing configured is near. A
    venue's title, then its address, is read first (a street number is no building)."""
    for index, text in enumerate(venue_texts):
        place = location_of(nlp.parse(text, services.lexicon))
        if not place.is_empty and (index == 0 or place.compound):
            return place
    point = services.config.conversations.nearest_point(lat, lon)
    if point is None:
        return Location()
    return Location(compound=point.compound, building=point.building)


async def on_location(update: Update, context: GridContext) -> None:
    """A resident shares a location pin or a venue."""
    inc = incoming(update)
    if inc is None or update.message is None or inc.user.is_bot:
        return
    message = inc.message
    if message.location is None or message.sender_chat is not None or (
            message.forward_origin is not None):
        return
    services = context.services
    person = services.config.person_by_telegram(inc.user.id, inc.user.username)
    if person is not None and person.is_staff:
        return
    if is_group(inc.chat) and await grid_of_chat(services, inc.chat.id) is None:
        return
    venue = message.venue
    venue_texts = (venue.title, venue.address) if venue is not None else ()
    place = place_of_pin(services, message.location.latitude, message.location.longitude,
                         venue_texts)
    if place.is_empty:
        log.info("pin from %s matches no configured place", inc.user.id)
        if not is_group(inc.chat):
            await reply(services, inc, PIN_UNKNOWN_PRIVATE, suffix="pin")
        return
    said = texts.location_text(place.compound or place.street, place.building, place.unit,
                               None, None, with_room=False)
    await fragments.take_place(services, inc, f"[位置] {said}", place,
                               services.config.conversations.pin_window, kind="pin")
