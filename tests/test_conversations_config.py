"""The [conversations] config section and the voice buttons' payloads."""

from __future__ import annotations

import tomllib
from datetime import timedelta

from community import example_config_text, parse_config
from ui.callback_data import VoiceButton, parse_callback, voice_button


def parse(section: dict) -> tuple:
    raw = tomllib.loads(example_config_text())
    raw["conversations"] = section
    config, problems = parse_config(raw)
    return config.conversations, problems


def test_defaults_without_the_section() -> None:
    raw = tomllib.loads(example_config_text())
    raw.pop("conversations", None)
    config, problems = parse_config(raw)
    assert problems == []
    assert config.conversations.split_window == timedelta(minutes=2)
    assert config.conversations.voice_on(-100)


def test_settings_and_points() -> None:
    settings, problems = parse({
        "split_window": "3m", "progress_interval": "10m", "voice_batch": "1h",
        "voice_off_chats": [-1001], "pin_radius": 150, "pin_window": "15m",
        "points": [{"compound": "阳光花园", "building": 8, "lat": 30.27, "lon": 120.15},
                   {"compound": "翠苑小区", "lat": 30.28, "lon": 120.16}]})
    assert problems == []
    assert settings.split_window == timedelta(minutes=3)
    assert settings.voice_batch == timedelta(hours=1)
    assert not settings.voice_on(-1001) and settings.voice_on(-1002)
    assert settings.pin_radius == 150.0
    assert [(p.compound, p.building) for p in settings.points] == [
        ("阳光花园", "8"), ("翠苑小区", None)]


def test_bad_values_are_reported_in_chinese() -> None:
    settings, problems = parse({
        "split_window": "3wd", "voice": "yes", "voice_off_chats": ["x"], "pin_radius": -1,
        "points": [{"compound": "阳光花园", "lat": 99, "lon": 1}, {"lat": 1, "lon": 2},
                   {"building": "8"}]})
    assert len(problems) == 7
    assert all(p.startswith("conversations") for p in problems)
    assert settings.split_window == timedelta(minutes=2) and settings.points == ()


def test_voice_button_payloads() -> None:
    assert parse_callback(voice_button(7, "reg")) == VoiceButton(7, register=True)
    assert parse_callback(voice_button(7, "no")) == VoiceButton(7, dismiss=True)
    assert parse_callback(voice_button(7, "c.water_leak")) == VoiceButton(7, category="water_leak")
    for forged in ("v:c.漏水:7", "v:c.:7", "v:yes:7", "v:reg:0", "v:reg:x", "v:c.a b:7"):
        assert parse_callback(forged) is None


def test_nearest_point_within_the_radius() -> None:
    from community.conversations import ConversationSettings, PlacePoint, distance_m

    eight = PlacePoint("阳光花园", "8", 30.27410, 120.15510)
    twelve = PlacePoint("阳光花园", "12", 30.27510, 120.15510)
    whole = PlacePoint("阳光花园", None, 30.27460, 120.15530)
    settings = ConversationSettings(points=(eight, twelve, whole), pin_radius=300)
    assert 105 < distance_m(30.27410, 120.15510, 30.27510, 120.15510) < 118
    assert settings.nearest_point(30.27411, 120.15511) == eight
    assert settings.nearest_point(30.27505, 120.15509) == twelve
    assert settings.nearest_point(30.27460, 120.15600) == whole  # east of both buildings
    assert settings.nearest_point(30.2800, 120.1551) is None  # ~600 m north
    assert ConversationSettings().nearest_point(30.27, 120.15) is None
