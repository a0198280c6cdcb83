"""Who a message reaches: a person's Telegram account, a grid's group chats.

One answer for every sender (use cases, the scheduler), so a ticket message and an SLA
reminder about it reach the same account of a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from community.model import CommunityConfig
from services.presenter import Contact
from storage import UnitOfWork


@dataclass(frozen=True, slots=True)
class GroupChat:
    chat_id: int
    thread_id: int | None = None


async def contacts(uow: UnitOfWork, config: CommunityConfig,
                   keys: Iterable[str]) -> dict[str, Contact]:
    """Contacts of person keys: the config's Telegram id first; otherwise the person's
    latest registration (a person registered from several accounts is reached on the
    newest), with its private-chat flag. The people table is read only when needed."""
    out: dict[str, Contact] = {}
    missing: list[str] = []
    for key in dict.fromkeys(keys):
        person = config.person(key)
        if person is not None and person.telegram_id is not None:
            out[key] = Contact(key, person.telegram_id, None)
        else:
            missing.append(key)
    if missing:
        regs = sorted(await uow.people.for_keys(missing),
                      key=lambda r: r.registered_at or r.last_seen_at)
        latest = {r.person_key: r for r in regs}  # sorted oldest first: the latest wins
        for key in missing:
            reg = latest.get(key)
            out[key] = Contact(key, reg.user_id if reg else None,
                               reg.private_chat if reg else None)
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
