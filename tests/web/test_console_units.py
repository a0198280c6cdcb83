"""Pure pieces of the console: who sees what (Viewer), the photo cache, --web addresses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from community import CommunityConfig
from tickets.lifecycle import can_view
from tickets.model import Actor, Ticket
from web.photos import PhotoCache, sniff_type
from web.server import AddressError, parse_address
from web.viewer import viewer_for


def _ticket(**fields: object) -> Ticket:
    base: dict[str, object] = dict(
        source_chat_id=-1, source_message_id=1, reporter_id=2001, reporter_name="张阿姨",
        text="3号楼楼道灯坏了", category="facilities", urgency="normal",
        created_at=datetime(2026, 11, 24, tzinfo=UTC), grid="第一网格", assignee="王芳")
    base.update(fields)
    return Ticket(**base)  # type: ignore[arg-type]


def test_viewer_sees_exactly_what_the_bot_lets_them_view(community: CommunityConfig) -> None:
    tickets = [
        _ticket(), _ticket(grid="第二网格", assignee="李强"),
        _ticket(category="public_order", assignee="刘警官"),
        _ticket(grid="第二网格", category="public_order", assignee="李强"),
        _ticket(grid=None, assignee="张书记"), _ticket(escalated_to=("张书记",)),
        _ticket(category="elevator", grid="第二网格", assignee="阳光物业"),
    ]
    for person in community.people:
        if person.telegram_id is None:
            continue
        viewer = viewer_for(community, person.telegram_id)
        assert viewer is not None and viewer.person_key == person.key
        actor = Actor(user_id=person.telegram_id, person=person)
        for ticket in tickets:
            assert viewer.can_see(ticket) == can_view(actor, ticket), (person.key, ticket)
    assert viewer_for(community, 2001) is None  # residents have no console
    boss = viewer_for(community, 1000)
    assert boss is not None and boss.is_supervisor and all(boss.can_see(t) for t in tickets)


def test_personal_details_follow_the_private_brief_rule(community: CommunityConfig) -> None:
    worker, other, police = (viewer_for(community, i) for i in (1001, 1002, 1003))
    assert worker is not None and other is not None and police is not None
    mine = _ticket()
    theirs_in_my_category = _ticket(category="public_order", assignee="王芳")
    assert worker.may_see_personal(mine) and not other.may_see_personal(mine)
    assert police.can_see(theirs_in_my_category)
    assert not police.may_see_personal(theirs_in_my_category)  # masked until it is theirs
    assert police.may_see_personal(_ticket(category="public_order", assignee="刘警官"))
    assert police.grids == frozenset()  # a specialist is no grid worker


def test_username_only_person_is_a_viewer_only_after_registering(
        community: CommunityConfig) -> None:
    assert viewer_for(community, 4242) is None
    wuye = viewer_for(community, 4242, registered_key="阳光物业")
    assert wuye is not None and wuye.categories == frozenset({"property", "elevator"})
    # A registration cannot claim a person configured with another Telegram id.
    assert viewer_for(community, 4242, registered_key="张书记") is None


def test_photo_cache_is_bounded_and_keeps_recent_files() -> None:
    cache = PhotoCache(limit=100)
    cache.put("a", b"x" * 40)
    cache.put("b", b"y" * 40)
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", b"z" * 40)
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert cache.size <= 100
    cache.put("huge", b"h" * 101)
    assert cache.get("huge") is None
    assert sniff_type(b"\xff\xd8\xff\xe0abc") == "image/jpeg"
    assert sniff_type(b"<svg") == "application/octet-stream"


def test_web_addresses() -> None:
    assert parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_address(":9000") == ("127.0.0.1", 9000)
    assert parse_address("[::1]:8080") == ("::1", 8080)
    for bad in ("8080", "host:", "host:http", "host:70000"):
        with pytest.raises(AddressError):
            parse_address(bad)
