"""When a group's Telegram allowance is short: what to send now, and combined messages.

Telegram lets a bot post 20 messages a minute into one group. One card per report is
the best answer while that allowance lasts; when reports come faster, cards queued
behind the limit would arrive minutes late. So every group lane asks, before each send,
how much of the allowance it may spend *now* (:func:`allowance`), and folds what waits
into one message when it cannot send it all (:func:`choose`, :func:`compose`).

The allowance comes from the rate limiter's real rolling window (the send times of the
last minute), not from a fixed threshold: ``allowance`` is how many messages may go out
back to back right now such that, afterwards, one message every ``pace`` seconds is still
possible for a whole window. A quiet group thus gets its first few cards at once, and a
busy one gets a combined message every ``pace`` seconds instead of nothing for a minute.

Pure functions over plain values; the dispatcher supplies the window and the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from delivery.pending import PendingSend
from ui import texts

#: Seconds between combined messages under pressure: a window of 63 s (60 s + margin)
#: holds at most 15 paced sends, leaving 5 for a burst into a quiet group.
DEFAULT_PACE = 4.0
#: Telegram refuses texts over 4096 characters (after entity parsing); the HTML we count
#: is longer than what Telegram counts, and a line may grow a little when it is edited.
MAX_FOLD_CHARS = 3600
MAX_FOLD_LINES = 60


def allowance(sent: Sequence[float], now: float, *, limit: int, window: float,
              pace: float) -> int:
    """How many messages may go out at ``now`` so that one every ``pace`` seconds stays
    possible afterwards. ``sent`` holds the send times still in the window (any order)."""
    best = limit
    step = 0
    while step * pace < window:  # the burst is still in the window ``step`` paces later
        start = now + step * pace - window
        old = sum(1 for t in sent if t > start)
        paced = sum(1 for i in range(1, step + 1) if now + i * pace > start)
        best = min(best, limit - old - paced)
        step += 1
    return max(0, best)


def seconds_until(sent: Sequence[float], now: float, need: int, *, limit: int,
                  window: float, pace: float) -> float:
    """Seconds from ``now`` until ``allowance`` reaches ``need`` (0 if it already has)."""
    def ok(at: float) -> bool:
        return allowance(sent, at, limit=limit, window=window, pace=pace) >= need

    if ok(now):
        return 0.0
    low, high = 0.0, window + pace
    while high - low > 0.05:  # feasibility only grows as old sends age out
        middle = (low + high) / 2
        if ok(now + middle):
            high = middle
        else:
            low = middle
    return high


# -- what to do with the rows waiting for one group -------------------------------------------


def is_edit(row: PendingSend) -> bool:
    """The row edits a card already posted (it notifies nobody, so it can wait)."""
    return bool(row.message.card_ticket_id is not None and row.card_message_id)


def foldable(row: PendingSend) -> bool:
    """The row may go out as a line of a combined message."""
    message = row.message
    return bool(message.fold_line and message.chat_id < 0 and not message.buttons
                and not message.photo_file_id and not is_edit(row))


def announceable(row: PendingSend) -> bool:
    """The row edits a ticket's own card and its status line may go in a combined message
    (once: the row stays pending and edits the card when the allowance returns)."""
    message = row.message
    return bool(is_edit(row) and message.status_line and message.chat_id < 0
                and not row.status_announced)


def _status_rows(waiting: Sequence[PendingSend]) -> list[PendingSend]:
    """Announceable card edits, one per ticket: the newest (a later update supersedes an
    earlier one; a ticket whose newest edit was announced gets no line)."""
    newest: dict[int, PendingSend] = {}
    for row in waiting:
        ticket = row.message.card_ticket_id
        if is_edit(row) and ticket is not None and (
                ticket not in newest or row.row_id > newest[ticket].row_id):
            newest[ticket] = row
    return [row for row in waiting if newest.get(row.message.card_ticket_id or 0) is row
            and announceable(row)]


@dataclass(frozen=True, slots=True)
class SendOne:
    row: PendingSend


@dataclass(frozen=True, slots=True)
class Fold:
    rows: tuple[PendingSend, ...]


@dataclass(frozen=True, slots=True)
class Wait:
    need: int  # the allowance to wait for


Plan = SendOne | Fold | Wait


def choose(waiting: Sequence[PendingSend], allowance_now: int) -> Plan:
    """The next step for a group, ``waiting`` being its due rows in sending order
    (priority, then age) and ``allowance_now`` what :func:`allowance` grants.

    No pressure (everything waiting fits the allowance): the first row, on its own.
    Pressure: every foldable row in one combined message (emergencies first), followed
    by a status line for each card edit not yet announced (the edit itself still waits);
    else the first row that is not a card edit; card edits only while another slot stays
    free, so an acknowledgement arriving next is not held back by a supporter count."""
    if not waiting:
        return Wait(1)
    if allowance_now <= 0:
        return Wait(1)
    if len(waiting) <= allowance_now:
        return SendOne(waiting[0])
    folds = (*(row for row in waiting if foldable(row)), *_status_rows(waiting))
    if len(folds) >= 2:
        return Fold(folds)
    for row in waiting:
        if not is_edit(row):
            return SendOne(row)
    if allowance_now >= 2:
        return SendOne(waiting[0])
    return Wait(2)


# -- composing a combined message -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoldLine:
    """One line of a combined message; ``ticket_id`` when it is the ticket's card."""

    row_id: int
    ticket_id: int | None
    line: str
    status: bool = False  # a card edit's status line: the row stays pending for the edit


@dataclass(frozen=True, slots=True)
class Composed:
    header: str
    lines: tuple[FoldLine, ...]

    @property
    def text(self) -> str:
        return join_fold(self.header, [line.line for line in self.lines])


def join_fold(header: str, lines: Sequence[str]) -> str:
    return "\n".join([header, *lines, texts.FOLD_FOOTER])


def compose(rows: Sequence[PendingSend], *, max_chars: int = MAX_FOLD_CHARS,
            max_lines: int = MAX_FOLD_LINES) -> Composed:
    """As many of ``rows`` (in order) as fit one message, under a header counting them.
    Rows of another forum topic than the first are left for a later message."""
    thread = rows[0].message.thread_id if rows else None
    chosen: list[FoldLine] = []
    size = len(texts.FOLD_FOOTER) + 40  # the header is short
    for row in rows:
        message = row.message
        status = is_edit(row)
        line = message.status_line if status else message.fold_line
        if message.thread_id != thread or not line:
            continue
        if chosen and (size + len(line) + 1 > max_chars or len(chosen) >= max_lines):
            break
        size += len(line) + 1
        card = message.card_ticket_id if message.kind == "card" and not status else None
        chosen.append(FoldLine(row.row_id, card, line, status))
    new = sum(1 for line in chosen if line.ticket_id is not None)
    updates = sum(1 for line in chosen if line.status)
    taken = {line.row_id for line in chosen}
    supports = sum(1 for row in rows
                   if row.row_id in taken and row.message.kind in ("support", "merge"))
    header = texts.fold_header(new, supports, len(chosen) - new - supports - updates,
                               updates)
    return Composed(header, tuple(chosen))
