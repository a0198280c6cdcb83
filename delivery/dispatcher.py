"""Sends the durable outbox through Telegram: rate-limited, retried, never dropped.

Rows are written by the service layer in the same transaction as the state change they
announce. The dispatcher picks due rows, sends them, and records the outcome:

- sent: the Telegram message id is stored (a ticket card's id is kept on the ticket, so
  later card rows edit that message instead of posting a new one);
- 429 Too Many Requests: the row (and the rest of its chat) waits ``retry_after``;
- network errors, timeouts and 5xx: retried with exponential backoff, without limit;
- 403 from a private chat (the worker never started the bot): the row's fallback text
  goes to its fallback chat (the grid group, mentioning the worker) as a new outbox row;
- a group migrated to a supergroup: stored chat ids move, the row is retried there;
- other 400s: the row is marked failed with the reason, and logged.

Rows for one chat go out in order, one at a time, in that chat's own lane (a task);
lanes run side by side, so a group held back by Telegram's 20-per-minute limit never
delays the other groups or a worker's private alert. At most ``max_parallel_sends``
requests are on the wire at once; the bot's rate limiter (``delivery.rate_limit``) keeps
the overall and per-group rates within Telegram's limits.

With the limiter at hand, a group's lane chooses each send from everything waiting for
the group and the group's allowance (``delivery.folding``): one card per ticket while
the allowance lasts, one combined message of what waits when it does not. A row whose
earlier attempt may have arrived unseen (on the wire at a crash, timed out) is followed
by a sweep that voids and deletes that stale copy (``_sweep_stale``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import warnings
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageId,
    ReplyParameters,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from delivery import folding
from delivery.pending import PendingSend
from delivery.rate_limit import SlidingWindowRateLimiter
from tickets.clock import Clock
from tickets.outgoing import OutgoingMessage
from ui import texts

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
STALE_PROBES = 5  # unknown message ids tried when looking for a copy sent twice


class DeliveryStore(Protocol):
    """What the dispatcher needs from storage (implemented over ``storage`` in runtime)."""

    async def due(self, now: datetime, limit: int,
                  exclude_chats: Sequence[int] = ()) -> Sequence[PendingSend]: ...
    async def mark_in_flight(self, row_id: int) -> bool | None:
        """Claim the row for sending; False: another sender holds it (skip it)."""
    async def mark_sent(self, row_id: int, telegram_message_id: int | None) -> None: ...
    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> None:
        """Retry the row at ``next_attempt_at``; the rest of its chat waits as well."""
    async def mark_failed(self, row_id: int, error: str) -> None: ...
    async def set_card(
        self, row_id: int, ticket_id: int, chat_id: int, message_id: int
    ) -> None: ...
    async def card_lost(self, row_id: int, ticket_id: int) -> None: ...
    async def forbidden(self, row_id: int, fallback: OutgoingMessage | None) -> None: ...
    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None: ...
    async def next_due_at(self) -> datetime | None: ...
    async def waiting(self, chat_id: int, now: datetime, limit: int) -> Sequence[PendingSend]:
        """One chat's due rows in sending order (for the folding decision)."""
    async def stale_candidates(self, chat_id: int, below: int, since: datetime,
                               limit: int) -> list[int]:
        """Message ids below ``below`` the bot knows nothing of (see ``_sweep_stale``)."""
    async def create_fold(self, chat_id: int, composed: folding.Composed, priority: int,
                          thread_id: int | None) -> PendingSend | None:
        """Queue a combined message in place of its rows (None: they are gone meanwhile)."""


def _unreachable_private(error: BadRequest, message: OutgoingMessage) -> bool:
    """A private chat Telegram does not know ("chat not found"): like a 403 for us."""
    return message.chat_id > 0 and "chat not found" in str(error).lower()


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """The Telegram inline keyboard for a message's abstract button rows."""
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button.text, callback_data=button.data) for button in row]
            for row in message.buttons
        ]
    )


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s … capped at five minutes."""
    return min(timedelta(seconds=2 ** min(attempts + 1, 16)), MAX_BACKOFF)


class OutboxDispatcher:
    """Background task that drains the outbox. Call :meth:`wake` after each commit."""

    def __init__(
        self,
        bot: Bot,
        store: DeliveryStore,
        clock: Clock,
        *,
        batch_size: int = 200,
        # Lanes waiting in the rate limiter hold a slot while they sleep, so this must stay
        # above the number of groups that can be throttled at once.
        max_parallel_sends: int = 64,
        idle_poll: float = 1.0,
        limiter: SlidingWindowRateLimiter | None = None,
        pace: float = folding.DEFAULT_PACE,
    ) -> None:
        self._bot = bot
        self._store = store
        self._clock = clock
        self._batch_size = batch_size
        self._parallel = asyncio.Semaphore(max_parallel_sends)
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._idle_poll = idle_poll
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._limiter = limiter  # with it, groups short of allowance get combined messages
        self._pace = pace
        self.sent_count = 0
        self.folded_count = 0

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self, *, drain_timeout: float = 5.0) -> None:
        """Finish what is due now (up to ``drain_timeout`` seconds), then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wakeup.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=drain_timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Lanes still waiting (a rate limit, a retry) stop here; their rows stay pending.
        lanes = list(self._lanes.values())
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        self._task = None

    def wake(self) -> None:
        """Something was committed to the outbox: look now instead of at the next poll."""
        self._wakeup.set()

    # -- the loop -------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                started = await self.dispatch_due()
            except Exception:  # storage trouble: keep the loop alive, try again shortly
                log.exception("outbox pass failed")
                started = 0
            if self._stopping and started == 0 and not self._lanes:
                return
            await self._sleep_until_due()

    async def _sleep_until_due(self) -> None:
        timeout = self._idle_poll
        try:
            next_due = await self._store.next_due_at()
        except Exception:
            next_due = None
        if next_due is not None:
            wait = (next_due - self._clock.now()).total_seconds()
            # Rows already due that the last pass left are those of chats whose lane is
            # busy (a send, a wait for the allowance): the lane's end wakes this loop, so
            # do not spin on them (a pass is a write transaction).
            if wait > 0 or not self._lanes:
                timeout = max(0.01, min(timeout, wait))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=timeout)

    async def dispatch_due(self) -> int:
        """Start a lane for every chat with due rows and no lane running; returns how many
        lanes were started. Rows of chats whose lane is busy are left for its next pass."""
        now = self._clock.now()
        rows = await self._store.due(now, self._batch_size, exclude_chats=tuple(self._lanes))
        lanes: dict[int, list[PendingSend]] = defaultdict(list)
        for row in rows:
            lanes[row.message.chat_id].append(row)
        for chat_id, lane in lanes.items():
            task = asyncio.create_task(self._drain_lane(lane), name=f"outbox-lane-{chat_id}")
            self._lanes[chat_id] = task
            task.add_done_callback(functools.partial(self._lane_done_callback, chat_id))
        return len(lanes)

    def _lane_done_callback(self, chat_id: int, _task: asyncio.Task[None]) -> None:
        self._lane_done(chat_id)

    def _lane_done(self, chat_id: int) -> None:
        self._lanes.pop(chat_id, None)
        self._wakeup.set()  # the chat may have more rows, and stop() may be waiting

    async def _drain_lane(self, rows: list[PendingSend]) -> None:
        for row in rows:
            try:
                if self._limiter is not None and row.message.chat_id < 0:
                    delivered = await self._group_turn(row.message.chat_id, self._limiter)
                else:
                    async with self._parallel:
                        delivered = await self._deliver(row)
            except Exception:  # storage trouble: the row stays pending for the next pass
                log.exception("outbox row %d could not be handled", row.row_id)
                return
            if not delivered:
                return  # keep the chat's order: the rest waits for this row's retry

    async def _group_turn(self, chat_id: int, limiter: SlidingWindowRateLimiter) -> bool:
        """One send into a group, chosen from everything waiting for it and the group's
        allowance (``delivery.folding``): a card of its own while the allowance lasts, a
        combined message of what waits when it does not. Waits (outside the send slots)
        until the allowance permits a send."""
        while True:
            waiting = await self._store.waiting(chat_id, self._clock.now(), self._batch_size)
            if not waiting:
                return True
            sent = limiter.group_sends(chat_id)
            now = limiter.now()
            limit, window = limiter.group_limit, limiter.group_window
            plan = folding.choose(waiting, folding.allowance(
                sent, now, limit=limit, window=window, pace=self._pace))
            if isinstance(plan, folding.Wait):
                delay = folding.seconds_until(sent, now, plan.need, limit=limit, window=window,
                                              pace=self._pace)
                await asyncio.sleep(min(max(delay, 0.05), self._pace))
                continue
            if isinstance(plan, folding.SendOne):
                row: PendingSend | None = plan.row
            else:
                composed = folding.compose(plan.rows)
                priority = max(r.message.priority for r in plan.rows)
                row = await self._store.create_fold(chat_id, composed, priority,
                                                    plan.rows[0].message.thread_id)
                if row is None:
                    continue
                self.folded_count += len(composed.lines)
            assert row is not None
            async with self._parallel:
                return await self._deliver(row)

    # -- one row --------------------------------------------------------------------------

    async def _deliver(self, row: PendingSend) -> bool:
        """Send one row; returns False when the chat must pause (rate limit, outage)."""
        message = row.message
        if await self._store.mark_in_flight(row.row_id) is False:
            return False  # another process is sending it: the chat waits (keeps its order)
        try:
            sent = await self._send(row)
        except RetryAfter as error:
            delay = _retry_after_seconds(error)
            until = self._clock.now() + timedelta(seconds=delay)
            await self._store.mark_retry(row.row_id, f"429 retry after {delay}s", until)
            return False
        except ChatMigrated as error:
            await self._store.chat_migrated(message.chat_id, error.new_chat_id)
            return False
        except (Forbidden, BadRequest) as error:
            if isinstance(error, BadRequest) and not _unreachable_private(error, message):
                return await self._bad_request(row, error)
            fallback = None
            if message.fallback_chat_id is not None and message.fallback_text:
                fallback = OutgoingMessage(
                    chat_id=message.fallback_chat_id,
                    text=message.fallback_text,
                    parse_mode=message.parse_mode,  # the fallback mentions people in HTML
                    dedupe_key=f"fallback:{row.row_id}",
                    kind="fallback",
                    priority=message.priority,
                    fold_line=message.fallback_text,  # may share a combined message
                )
            log.info("chat %s refused a message (%s); fallback=%s", message.chat_id, error,
                     fallback is not None)
            await self._store.forbidden(row.row_id, fallback)
            return True
        except NetworkError as error:  # includes TimedOut and 5xx answers
            retry_at = self._clock.now() + backoff(row.attempts)
            await self._store.mark_retry(row.row_id, f"network: {error}", retry_at)
            return False
        self.sent_count += 1
        if row.suspect_since and not row.card_message_id and message.chat_id < 0:
            await self._sweep_stale(message.chat_id, sent.message_id, row.suspect_since)
        if message.card_ticket_id is not None and not row.card_message_id:
            chat_id = sent.chat_id if isinstance(sent, Message) else message.chat_id
            await self._store.set_card(row.row_id, message.card_ticket_id, chat_id,
                                       sent.message_id)
        else:
            await self._store.mark_sent(row.row_id, sent.message_id)
        return True

    async def _sweep_stale(self, chat_id: int, message_id: int, since: datetime) -> None:
        """A message whose earlier attempt may have arrived unseen went out again as
        ``message_id``. The earlier copy, if any, sits just before it among ids the bot
        knows nothing of. Only the bot's own messages can be edited, so an edit that
        succeeds has found it: it is marked void and deleted, so it cannot mislead
        (its status would never be updated). A failed edit touched nothing."""
        try:
            candidates = await self._store.stale_candidates(chat_id, message_id, since,
                                                            STALE_PROBES)
        except Exception:
            log.exception("cannot look for a stale copy in chat %s", chat_id)
            return
        for candidate in candidates:
            try:
                await self._bot.edit_message_text(chat_id=chat_id, message_id=candidate,
                                                  text=texts.STALE_COPY)
            except BadRequest:
                continue  # not ours (a resident's message), or gone
            except Exception as error:  # rate limit, network: leave it
                log.info("stale copy probe in chat %s stopped: %s", chat_id, error)
                return
            with contextlib.suppress(Exception):
                await self._bot.delete_message(chat_id=chat_id, message_id=candidate)
            log.warning("chat %s: message %s was a copy sent twice; voided and deleted",
                        chat_id, candidate)
            return

    async def _bad_request(self, row: PendingSend, error: BadRequest) -> bool:
        text = str(error).lower()
        if "not modified" in text:
            await self._store.mark_sent(row.row_id, row.card_message_id)
            return True
        if row.card_message_id and "not found" in text:
            # The card was deleted by an admin: post a fresh one on the next pass.
            await self._store.card_lost(row.row_id, row.message.card_ticket_id or 0)
            return False
        log.warning("outbox row %d refused by Telegram: %s", row.row_id, error)
        await self._store.mark_failed(row.row_id, f"400 {error}")
        return True

    async def _send(self, row: PendingSend) -> Message | MessageId:
        message = row.message
        markup = keyboard(message)
        if row.card_message_id and row.card_chat_id is not None:
            edited = await self._bot.edit_message_text(
                chat_id=row.card_chat_id,
                message_id=row.card_message_id,
                text=message.text,
                parse_mode=message.parse_mode,
                reply_markup=markup,
            )
            if isinstance(edited, Message):
                return edited
            raise BadRequest("edit returned no message")
        reply = None
        if message.reply_to_message_id is not None:
            reply = ReplyParameters(
                message_id=message.reply_to_message_id, allow_sending_without_reply=True
            )
        if message.copy_from_chat_id is not None and message.copy_message_id is not None:
            return await self._bot.copy_message(
                chat_id=message.chat_id,
                from_chat_id=message.copy_from_chat_id,
                message_id=message.copy_message_id,
                caption=message.text[:1024] or None,
                parse_mode=message.parse_mode,
                reply_markup=markup,
                reply_parameters=reply,
                message_thread_id=message.thread_id,
            )
        if message.photo_file_id:
            return await self._bot.send_photo(
                chat_id=message.chat_id,
                photo=message.photo_file_id,
                caption=message.text[:1024] or None,
                parse_mode=message.parse_mode,
                reply_markup=markup,
                reply_parameters=reply,
                message_thread_id=message.thread_id,
            )
        return await self._bot.send_message(
            chat_id=message.chat_id,
            text=message.text,
            parse_mode=message.parse_mode,
            reply_markup=markup,
            reply_parameters=reply,
            message_thread_id=message.thread_id,
        )


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
