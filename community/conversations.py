"""The ``[conversations]`` section: how messages are read together.

```toml
[conversations]
split_window = "2m"        # one resident's quick messages that make one report
progress_interval = "5m"   # at most one progress answer per ticket per group this often
voice = true               # voice messages go to the grid's worker (false: ignored)
voice_batch = "10m"        # voices are sent to the worker in batches this often
voice_off_chats = []       # groups where voices are ignored
pin_radius = 300           # metres: a location pin this close to a point is that place
pin_window = "10m"         # a pin joins the same resident's ticket from these last minutes

[[conversations.points]]   # coordinates of buildings or compounds (for location pins)
compound = "阳光花园"
building = "8"
lat = 30.2741
lon = 120.1551
```
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class PlacePoint:
    """A building (or a whole compound when ``building`` is None) with its coordinates."""

    compound: str | None
    building: str | None
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    split_window: timedelta = timedelta(minutes=2)
    progress_interval: timedelta = timedelta(minutes=5)
    voice: bool = True
    voice_batch: timedelta = timedelta(minutes=10)
    voice_off_chats: tuple[int, ...] = ()
    pin_radius: float = 300.0
    pin_window: timedelta = timedelta(minutes=10)
    points: tuple[PlacePoint, ...] = ()

    def voice_on(self, chat_id: int) -> bool:
        return self.voice and chat_id not in self.voice_off_chats

    def nearest_point(self, lat: float, lon: float) -> PlacePoint | None:
        """The configured point nearest to a location pin, if within ``pin_radius``. A
        building wins over its whole compound at about the same distance (a compound's
        point is its centre, a building's is the building)."""
        best: tuple[float, PlacePoint] | None = None
        for point in self.points:
            metres = distance_m(lat, lon, point.lat, point.lon)
            if point.building is None:
                metres += 25.0  # prefer a building unless the compound centre is clearly nearer
            if metres <= self.pin_radius + (25.0 if point.building is None else 0.0) and (
                    best is None or metres < best[0]):
                best = (metres, point)
        return best[1] if best else None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine; plenty for a few hundred metres)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))


Problem = Callable[[str, str], None]  # (where, message)
Duration = Callable[[Any], "tuple[timedelta | None, int | None]"]


def parse_conversations(raw: Any, problem: Problem, duration: Duration
                        ) -> ConversationSettings:
    """Read the section; every problem is reported (in Chinese) and the default kept."""
    defaults = ConversationSettings()
    if raw is None:
        return defaults
    if not isinstance(raw, dict):
        problem("conversations", "应为表格")
        return defaults
    values: dict[str, Any] = {}
    for key in ("split_window", "progress_interval", "voice_batch", "pin_window"):
        if key not in raw:
            continue
        try:
            span, _ = duration(raw[key])
        except ValueError as error:
            problem(f"conversations.{key}", str(error))
            continue
        if span is None:
            problem(f"conversations.{key}", "此项不支持工作日单位 wd,请用 m/h/d")
            continue
        values[key] = span
    if "voice" in raw:
        if isinstance(raw["voice"], bool):
            values["voice"] = raw["voice"]
        else:
            problem("conversations.voice", "应为 true 或 false")
    if "voice_off_chats" in raw:
        chats = raw["voice_off_chats"]
        if isinstance(chats, list) and all(isinstance(c, int) and not isinstance(c, bool)
                                           for c in chats):
            values["voice_off_chats"] = tuple(chats)
        else:
            problem("conversations.voice_off_chats", "应为群聊 id 数字列表")
    if "pin_radius" in raw:
        radius = raw["pin_radius"]
        if isinstance(radius, int | float) and not isinstance(radius, bool) and radius > 0:
            values["pin_radius"] = float(radius)
        else:
            problem("conversations.pin_radius", "应为正数(米)")
    values["points"] = _points(raw.get("points", []), problem)
    return ConversationSettings(**{**_as_dict(defaults), **values})


def _as_dict(settings: ConversationSettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__slots__}


def _points(raw: Any, problem: Problem) -> tuple[PlacePoint, ...]:
    if not isinstance(raw, list):
        problem("conversations.points", "应写成 [[conversations.points]] 表格数组")
        return ()
    points: list[PlacePoint] = []
    for index, item in enumerate(raw):
        where = f"conversations.points[{index + 1}]"
        if not isinstance(item, dict):
            problem(where, "应为表格")
            continue
        lat, lon = item.get("lat"), item.get("lon")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
            problem(where, "需要数字坐标 lat 和 lon")
            continue
        assert isinstance(lat, int | float) and isinstance(lon, int | float)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            problem(where, "坐标超出范围(lat -90..90, lon -180..180)")
            continue
        compound, building = item.get("compound"), item.get("building")
        if isinstance(building, int) and not isinstance(building, bool):
            building = str(building)
        if compound is not None and not (isinstance(compound, str) and compound.strip()):
            problem(where, "compound 应为小区名称")
            continue
        if building is not None and not (isinstance(building, str) and building.strip()):
            problem(where, "building 应为楼号,如 \"8\"")
            continue
        if compound is None and building is None:
            problem(where, "至少要写小区名称 compound 或楼号 building")
            continue
        points.append(PlacePoint(compound.strip() if compound else None,
                                 building.strip() if building else None,
                                 float(lat), float(lon)))
    return tuple(points)
