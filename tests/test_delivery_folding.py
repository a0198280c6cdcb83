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
