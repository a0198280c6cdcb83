"""The folding decision: how much of a group's allowance to spend now, and what to send."""

from __future__ import annotations

from delivery.folding import Fold, SendOne, Wait, allowance, choose, compose, seconds_until
from delivery.pending import PendingSend
from tickets.outgoing import Button, OutgoingMessage
from ui.texts import fold_card_numbers

GROUP = -100


def allow(sent: list[float], now: float) -> int:
    return allowance(sent, now, limit=20, window=63.0, pace=4.0)


def until(sent: list[float], now: float, need: int) -> float:
    return seconds_until(sent, now, need, limit=20, window=63.0, pace=4.0)


def card(row_id: int, number: str, *, priority: int = 0, carded: bool = False) -> PendingSend:
    line = f"{'🚨' if priority == 2 else '🆕'}#{number} 漏水 8号楼 张阿姨 · 受理"
    message = OutgoingMessage(chat_id=GROUP, text=f"📋 工单 #{number}", card_ticket_id=row_id,
                              kind="card", priority=priority, fold_line=line)
    return PendingSend(row_id, message, 0, GROUP if carded else None, 77 if carded else None)


def support(row_id: int, number: str) -> PendingSend:
    message = OutgoingMessage(chat_id=GROUP, text="已为您附议", kind="support",
                              fold_line=f"👥 #{number} 已为您附议(共 1 人) 老李")
    return PendingSend(row_id, message, 0)


def rating(row_id: int) -> PendingSend:
    message = OutgoingMessage(chat_id=GROUP, text="请评价", kind="rating_request",
                              buttons=((Button("满意", "r:1:1"),),), fold_line=None)
    return PendingSend(row_id, message, 0)


def test_a_quiet_group_may_send_a_few_at_once_and_then_one_per_pace() -> None:
    assert allow([], 1000.0) == 5  # 5 now + 15 paced ones fill a window
    burst = [1000.0] * 5
    assert allow(burst, 1000.0) == 0
    assert allow(burst, 1004.0) == 1
    assert 2.5 <= until(burst, 1000.0, 1) <= 4.1


def test_the_allowance_comes_from_the_real_window() -> None:
    full = [1000.0 + i for i in range(20)]
    assert allow(full, 1030.0) == 0
    assert until(full, 1030.0, 1) > 30  # waits for the window to move
    assert allow(full, 1100.0) == 5  # all aged out: quiet again


def test_no_pressure_sends_one_card_per_ticket() -> None:
    waiting = [card(1, "0001"), card(2, "0002")]
    assert choose(waiting, 5) == SendOne(waiting[0])


def test_pressure_folds_every_foldable_row_and_leaves_the_rest() -> None:
    waiting = [card(3, "0003", priority=2), card(1, "0001"), support(2, "0001"), rating(4)]
    plan = choose(waiting, 1)
    assert isinstance(plan, Fold)
    assert [row.row_id for row in plan.rows] == [3, 1, 2]  # buttons never folded
    composed = compose(plan.rows)
    lines = composed.text.split("\n")
    assert lines[0].startswith("📮 已受理 2 件,附议 1 件")
    assert lines[1].startswith("🚨#0003")  # emergencies first
    assert fold_card_numbers(composed.text) == ["0003", "0001"]  # the support line is no card
    assert [line.ticket_id for line in composed.lines] == [3, 1, None]


def test_card_edits_wait_under_pressure_while_acknowledgements_go() -> None:
    edits = [card(1, "0001", carded=True), card(2, "0002", carded=True)]
    assert choose([*edits, rating(4)], 1) == SendOne(rating(4))
    assert choose(edits, 1) == Wait(2)  # keep the last slot for an acknowledgement
    assert choose(edits, 2) == SendOne(edits[0])
    assert choose(edits, 0) == Wait(1)


def test_a_combined_message_stays_within_telegrams_length_limit() -> None:
    rows = [card(i, f"{i:04d}") for i in range(1, 200)]
    composed = compose(rows, max_chars=1000)
    assert len(composed.text) <= 1000 + 60
    assert 5 < len(composed.lines) < 199  # the rest waits for the next message
    assert [line.row_id for line in composed.lines] == list(range(1, len(composed.lines) + 1))


def update(row_id: int, ticket: int, state: str, *, announced: bool = False) -> PendingSend:
    """A card edit of ticket ``ticket`` (whose own card exists) moving it to ``state``."""
    message = OutgoingMessage(chat_id=GROUP, text=f"📋 工单 #{ticket:04d} {state}",
                              card_ticket_id=ticket, kind="card",
                              fold_line=f"🆕#{ticket:04d} 漏水 8号楼 张阿姨 · {state}",
                              status_line=f"🔄 #{ticket:04d} 漏水 8号楼 → {state}(王芳)")
    return PendingSend(row_id, message, 0, GROUP, 70 + ticket, status_announced=announced)


def test_under_pressure_a_card_update_rides_in_the_combined_message_as_a_status_line() -> None:
    waiting = [card(5, "0005"), update(3, 1, "已接单"), support(6, "0002")]
    plan = choose(waiting, 1)
    assert isinstance(plan, Fold)
    assert [row.row_id for row in plan.rows] == [5, 6, 3]  # acknowledgements first
    composed = compose(plan.rows)
    lines = composed.text.split("\n")
    assert lines[0] == "📮 已受理 1 件,附议 1 件,进展 1 件:"
    assert lines[3] == "🔄 #0001 漏水 8号楼 → 已接单(王芳)"
    # The status line is no card of the fold (the ticket keeps its own card) and its row
    # stays pending to edit that card later.
    assert [(line.ticket_id, line.status) for line in composed.lines] == [
        (5, False), (None, False), (None, True)]
    assert fold_card_numbers(composed.text) == ["0005"]


def test_a_card_update_is_announced_once_and_only_its_latest_state() -> None:
    older, newer = update(3, 1, "已接单"), update(8, 1, "处理中")
    plan = choose([card(5, "0005"), older, newer], 1)
    assert isinstance(plan, Fold)
    assert [row.row_id for row in plan.rows] == [5, 8]  # a later update supersedes
    announced = update(8, 1, "处理中", announced=True)
    # Announced: the edit waits for the allowance like any card edit, never folded again.
    assert choose([announced, card(5, "0005")], 1) == SendOne(card(5, "0005"))
    assert choose([older, announced, card(5, "0005")], 1) == SendOne(card(5, "0005"))
    assert choose([announced, update(9, 2, "已办结")], 1) == Wait(2)
    assert choose([announced], 1) == SendOne(announced)  # no pressure: the card is edited


def test_card_updates_without_a_status_line_are_not_folded() -> None:
    quiet = card(1, "0001", carded=True)  # a supporter count: no status line
    assert choose([quiet, card(5, "0005")], 1) == SendOne(card(5, "0005"))
    two = [update(3, 1, "已接单"), update(4, 2, "处理中")]
    plan = choose(two, 1)  # two updates waiting: one combined notice instead of a minute
    assert isinstance(plan, Fold) and [row.row_id for row in plan.rows] == [3, 4]
    assert compose(plan.rows).header == "📮 进展 2 件:"
