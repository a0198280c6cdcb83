"""Community configuration: grids, people, SLA policy, schedules (TOML → typed objects)."""

from community.loader import (
    ConfigError,
    check_config,
    load_config,
    parse_buildings,
    parse_config,
    parse_duration,
)
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
    "ConfigError",
    "Grid",
    "Person",
    "Role",
    "SlaPolicy",
    "SlaRule",
    "WorkingHours",
    "check_config",
    "example_config_text",
    "load_config",
    "parse_buildings",
    "parse_config",
    "parse_duration",
]


def example_config_text() -> str:
    """The commented example ``community.toml`` that ``gridbot init`` writes."""
    from importlib.resources import files

    return files("community").joinpath("example.toml").read_text(encoding="utf-8")
