"""Community configuration: grids, people, SLA policy, schedules (TOML → typed objects)."""

from community.model import (
    Area,
    Broadcast,
    CategoryConfig,
    CommunityConfig,
    Grid,
    Person,
    Role,
    SlaPolicy,
    SlaRule,
    WorkingHours,
)

__all__ = [
    "Area",
    "Broadcast",
    "CategoryConfig",
    "CommunityConfig",
    "Grid",
    "Person",
    "Role",
    "SlaPolicy",
    "SlaRule",
    "WorkingHours",
]
