"""Value objects returned by the parser. Frozen so results can be cached and shared safely."""

from __future__ import annotations

from dataclasses import dataclass, field

# Confidence band in which the bot should ask the author instead of deciding on its own.
BORDERLINE_LOW = 0.5
BORDERLINE_HIGH = 0.68

KINDS = ("complaint", "help", "suggestion", "praise", "inquiry", "chat")
URGENCIES = ("emergency", "urgent", "normal")


@dataclass(frozen=True, slots=True)
class ParsedLocation:
    """Where the parser thinks a message is (``tickets.Location`` once it is a report)."""

    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    floor: str | None = None
    street: str | None = None

    @property
    def is_empty(self) -> bool:
        """Names no place (a floor alone places nothing), as ``tickets.Location.is_empty``."""
        return not (self.compound or self.building or self.unit or self.room or self.street)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "compound": self.compound,
            "building": self.building,
            "unit": self.unit,
            "room": self.room,
            "floor": self.floor,
            "street": self.street,
        }


@dataclass(frozen=True, slots=True)
class Category:
    slug: str
    name: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParseResult:
    is_report: bool
    kind: str
    category: str | None
    urgency: str | None
    confidence: float
    location: ParsedLocation = field(default_factory=ParsedLocation)
    keywords: tuple[str, ...] = ()
    duplicate_key: str = ""
    normalized_text: str = ""
    # Whether any report evidence (problem words, requests) was seen; feeds `borderline`.
    has_signal: bool = False

    @property
    def borderline(self) -> bool:
        """True when the bot should ask the author rather than decide.

        Only messages with some report evidence qualify: asking about a plain greeting
        would be noise in the group.
        """
        return self.has_signal and BORDERLINE_LOW <= self.confidence < BORDERLINE_HIGH

    def to_dict(self) -> dict[str, object]:
        return {
            "is_report": self.is_report,
            "kind": self.kind,
            "category": self.category,
            "urgency": self.urgency,
            "confidence": round(self.confidence, 3),
            "location": self.location.to_dict(),
            "keywords": list(self.keywords),
            "duplicate_key": self.duplicate_key,
            "borderline": self.borderline,
            "normalized_text": self.normalized_text,
        }
