"""Routing: which grid a report belongs to and who should handle it.

Pure function of the community config and the report's category/urgency/location.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from community.model import CommunityConfig, Grid, Person, Role


class RoutingReason(StrEnum):
    """Why the assignee was chosen (kept on the ticket and its creation event)."""

    SPECIALIST = "specialist"  # the category belongs to a specialist (police, property, …)
    GRID_WORKER = "grid_worker"  # the grid's primary worker
    GRID_BACKUP = "grid_backup"  # the grid has no worker; its backup takes it
    NO_WORKER = "no_worker"  # the grid has nobody: the supervisor takes it
    NO_GRID = "no_grid"  # neither the location nor the chat gives a grid: supervisor
    NOBODY = "nobody"  # not even a supervisor is configured: ticket stays new


class GridSource(StrEnum):
    """How the grid was found."""

    LOCATION = "location"  # compound/building covered by the grid's areas
    COMPOUND = "compound"  # only the compound matched a grid (building unknown/unlisted)
    CHAT = "chat"  # no usable location: the grid of the chat it came from
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The outcome of routing: grid, assignee, who else to notify, and why.

    ``reason`` is an English code; ``detail`` a short human-readable explanation.
    """

    grid: str | None
    assignee: str | None
    also_notify: tuple[str, ...]
    reason: RoutingReason
    grid_source: GridSource
    detail: str

    @property
    def reason_text(self) -> str:
        """The form stored on the ticket: ``code: detail``."""
        return f"{self.reason}/{self.grid_source}: {self.detail}"


def find_grid(
    config: CommunityConfig,
    compound: str | None,
    building: str | None,
    chat_grid: str | None,
) -> tuple[Grid | None, GridSource]:
    """Place a location in a grid.

    A location covered by several grids (a bare building number "8号楼" in a community with
    several compounds) prefers the grid of the source chat when it covers it. With no usable
    location, the chat's grid is used.
    """
    preferred = config.grid(chat_grid) if chat_grid else None
    if compound or building:
        covering = [g for g in config.grids if g.covers(compound, building)]
        if covering:
            if preferred is not None and preferred in covering:
                return preferred, GridSource.LOCATION
            return covering[0], GridSource.LOCATION
        if compound:
            # The compound is known but the building is missing or not listed in any area.
            by_compound = [g for g in config.grids if compound in g.compounds]
            if by_compound:
                if preferred is not None and preferred in by_compound:
                    return preferred, GridSource.COMPOUND
                return by_compound[0], GridSource.COMPOUND
    if preferred is not None:
        return preferred, GridSource.CHAT
    return None, GridSource.NONE


def find_specialist(
    config: CommunityConfig, category: str, grid: str | None, compound: str | None
) -> Person | None:
    """The specialist for a category: compound-scoped first (a property company), then
    grid-scoped (the grid's police officer), then community-wide (no grids, no compounds)."""
    candidates = [
        p for p in config.people if p.has(Role.SPECIALIST) and category in p.categories
    ]
    if compound:
        for p in candidates:
            if compound in p.compounds:
                return p
    if grid:
        for p in candidates:
            if grid in p.grids:
                return p
    for p in candidates:
        if not p.grids and not p.compounds:
            return p
    return None


def route(
    config: CommunityConfig,
    *,
    category: str,
    urgency: str,
    compound: str | None,
    building: str | None,
    chat_grid: str | None,
) -> RoutingDecision:
    """Decide grid, assignee and extra recipients for a new report.

    ``chat_grid`` is the grid of the source chat (a /bind override or the config).
    Emergencies add the supervisors (and the grid's backup) to ``also_notify`` at once.
    """
    grid, source = find_grid(config, compound, building, chat_grid)
    grid_name = grid.name if grid else None
    supervisors = tuple(p.key for p in config.supervisors())
    also: list[str] = []

    specialist = find_specialist(config, category, grid_name, compound)
    if specialist is not None:
        assignee: str | None = specialist.key
        reason = RoutingReason.SPECIALIST
        detail = f"category {category} → specialist {specialist.key}"
        if grid is not None and grid.workers:
            also.append(grid.workers[0])  # the grid worker keeps an eye on it
    elif grid is not None and grid.workers:
        assignee, reason = grid.workers[0], RoutingReason.GRID_WORKER
        detail = f"grid {grid.name} ({source}) → worker {assignee}"
    elif grid is not None and grid.backup:
        assignee, reason = grid.backup, RoutingReason.GRID_BACKUP
        detail = f"grid {grid.name} has no worker → backup {assignee}"
    elif supervisors:
        assignee = supervisors[0]
        reason = RoutingReason.NO_WORKER if grid is not None else RoutingReason.NO_GRID
        detail = (
            f"grid {grid.name} has no worker → supervisor {assignee}"
            if grid is not None
            else f"no grid for location or chat → supervisor {assignee}"
        )
    else:
        assignee, reason, detail = None, RoutingReason.NOBODY, "nobody configured"

    if urgency == "emergency":
        also.extend(supervisors)
        if grid is not None and grid.backup:
            also.append(grid.backup)
        detail += "; emergency: supervisors notified"
    notify = tuple(k for k in dict.fromkeys(also) if k != assignee)
    return RoutingDecision(grid_name, assignee, notify, reason, source, detail)
