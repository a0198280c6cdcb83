"""Who receives scheduler messages: private chats of staff, group chats of grids.

Private messages go to the person's ``telegram_id`` from the config, else to the Telegram
user registered for them (/register). Each carries the ticket's (or grid's) group as
``fallback_chat_id`` with a short mention, so a refused private message (403: the worker
never started the bot) still reaches them in the group. A person with no known Telegram
id at all gets the mention in the group directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from community.model import CommunityConfig
from storage import UnitOfWork
from tickets.messages import OutgoingMessage
from tickets.model import Ticket
from ui.cards import HTML


@dataclass(frozen=True, slots=True)
class GroupChat:
    chat_id: int
    thread_id: int | None = None


async def private_ids(uow: UnitOfWork, config: CommunityConfig,
                      keys: Iterable[str]) -> dict[str, int | None]:
    """Telegram user ids of person keys: config first, registrations for the rest."""
    out: dict[str, int | None] = {}
    missing: list[str] = []
    for key in dict.fromkeys(keys):
        person = config.person(key)
        if person is not None and person.telegram_id is not None:
            out[key] = person.telegram_id
        else:
            missing.append(key)
    if missing:
        # Several registrations of one key: the latest registration wins.
        regs = sorted(await uow.people.for_keys(missing),
                      key=lambda r: r.registered_at or r.last_seen_at)
        found = {r.person_key: r.user_id for r in regs}
        for key in missing:
            out[key] = found.get(key)
    return out


async def grid_groups(uow: UnitOfWork, config: CommunityConfig) -> dict[str, list[GroupChat]]:
    """Each grid's group chats: the config's plus /bind bindings, migrated chats followed
    to their new id, each chat once (a /bind to another grid overrides the config)."""
    bindings = {b.chat_id: b for b in await uow.chats.all_bound()}
    out: dict[str, list[GroupChat]] = {g.name: [] for g in config.grids}
    seen: set[int] = set()
    for grid in config.grids:
        for chat_id in grid.chats:
            binding = await uow.chats.get(chat_id)
            if binding is not None and binding.migrated_to is not None:
                continue  # the new supergroup id carries the binding (see ChatRepository)
            if binding is not None and binding.grid not in (None, grid.name):
                continue  # re-bound elsewhere by /bind
            if chat_id not in seen:
                seen.add(chat_id)
                thread = binding.thread_id if binding else None
                out[grid.name].append(GroupChat(chat_id, thread))
    for binding in bindings.values():
        if binding.migrated_to is not None or binding.grid is None:
            continue
        if binding.chat_id not in seen:
            seen.add(binding.chat_id)
            out.setdefault(binding.grid, []).append(GroupChat(binding.chat_id, binding.thread_id))
    return out


def ticket_group(ticket: Ticket, groups: dict[str, list[GroupChat]]) -> GroupChat | None:
    """Where group-facing fallbacks about a ticket go: its source group, else its grid's
    first group."""
    if ticket.source_chat_id < 0:
        return GroupChat(ticket.source_chat_id, ticket.source_thread_id)
    chats = groups.get(ticket.grid or "", [])
    return chats[0] if chats else None


def private_message(*, user_id: int | None, text: str, fallback: GroupChat | None,
                    fallback_text: str, dedupe_key: str, kind: str,
                    buttons: tuple = ()) -> OutgoingMessage | None:
    """A private HTML message with a group fallback; the fallback alone when the user id is
    unknown; None when there is nowhere to send it."""
    if user_id is None:
        if fallback is None:
            return None
        return OutgoingMessage(chat_id=fallback.chat_id, text=fallback_text, parse_mode=HTML,
                               thread_id=fallback.thread_id, dedupe_key=f"{dedupe_key}:group",
                               kind=f"{kind}_fallback")
    return OutgoingMessage(
        chat_id=user_id, text=text, parse_mode=HTML, buttons=buttons,
        fallback_chat_id=fallback.chat_id if fallback else None,
        fallback_text=fallback_text if fallback else None,
        dedupe_key=dedupe_key, kind=kind)
