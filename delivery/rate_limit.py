"""A rate limiter that keeps GridBot inside Telegram's flood limits, exactly.

Telegram allows about 30 messages a second overall and 20 a minute into one group.
PTB's AIORateLimiter is a leaky bucket: after an idle spell it lets a full bucket through
and keeps refilling, so up to ~40 messages can land in one group within a minute, and
Telegram answers 429 with a pause of up to a minute for that group. This limiter keeps
a sliding log of what it let through and waits until the oldest entry leaves the window,
so no window of the real length ever holds more than the limit, while an idle group can
still take its first messages at once (a report's card goes out without delay).

Only requests that post or change messages are counted; ``getUpdates``, callback answers
and the like pass straight through. Retries are the outbox's job: a RetryAfter is raised.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from telegram.ext import BaseRateLimiter

LIMITED_METHODS = frozenset(m.lower() for m in (
    "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation",
    "sendVoice", "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue", "sendContact",
    "sendPoll", "sendDice", "sendSticker", "copyMessage", "forwardMessage",
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia",
))


def is_group_chat(chat_id: object) -> bool:
    """Groups, supergroups and channels have negative ids (or an @username)."""
    if isinstance(chat_id, int):
        return chat_id < 0
    if isinstance(chat_id, str):
        return chat_id.startswith("@") or chat_id.startswith("-")
    return False


class SlidingWindowRateLimiter(BaseRateLimiter[None]):
    """At most ``group_per_minute`` per group per minute and ``overall_per_second`` in all.

    The windows are a little longer than Telegram's (``margin``) so that clock skew and
    network jitter between here and the server cannot push a request into a full window.
    """

    def __init__(
        self,
        *,
        group_per_minute: int = 20,
        overall_per_second: int = 30,
        margin: float = 0.05,
        overall_margin: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._group_limit = group_per_minute
        self._overall_limit = overall_per_second
        self._group_window = 60.0 * (1 + margin)
        # A request waits in the HTTP client (connection pool, a busy event loop) between
        # its slot here and its arrival at Telegram: tens of milliseconds that matter in
        # a one-second window. Hence a wider margin there (20% by default).
        self._overall_window = 1.0 * (1 + (max(margin, 0.2) if overall_margin is None
                                           else overall_margin))
        self._clock = clock
        self._sleep = sleep
        self._groups: dict[str, deque[float]] = {}
        self._overall: deque[float] = deque()

    @property
    def group_limit(self) -> int:
        return self._group_limit

    @property
    def group_window(self) -> float:
        return self._group_window

    def now(self) -> float:
        return self._clock()

    def group_sends(self, chat_id: object) -> list[float]:
        """The group's send times still in its window (the allowance is computed from them;
        see ``delivery.folding``)."""
        group = self._groups.get(str(chat_id))
        if group is None:
            return []
        self._wait_needed(group, self._clock())  # drops entries that left the window
        return list(group)

    def seed(self, sends: Iterable[tuple[int, float]]) -> int:
        """Take in sends made before this limiter existed (by an earlier process): each is
        (chat id, seconds ago). Without this, a restart would forget the last minute and
        a group could receive 20 more messages at once. Returns how many were in a window."""
        now = self._clock()
        taken = 0
        for chat_id, age in sorted(sends, key=lambda send: -send[1]):
            if age < 0 or age >= self._group_window:
                continue
            at = now - age
            taken += 1
            if age < self._overall_window:
                self._overall.append(at)
            if is_group_chat(chat_id):
                self._groups.setdefault(str(chat_id), deque()).append(at)
        return taken

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        self._groups.clear()
        self._overall.clear()

    def _wait_needed(self, group: deque[float] | None, now: float) -> float:
        """Seconds until both windows have room (0 = now), after dropping old entries."""
        while self._overall and now - self._overall[0] >= self._overall_window:
            self._overall.popleft()
        wait = 0.0
        if len(self._overall) >= self._overall_limit:
            wait = self._overall[0] + self._overall_window - now
        if group is not None:
            while group and now - group[0] >= self._group_window:
                group.popleft()
            if len(group) >= self._group_limit:
                wait = max(wait, group[0] + self._group_window - now)
        return wait

    async def acquire(self, chat_id: object) -> None:
        """Wait for a slot for ``chat_id`` and take it."""
        group = None
        if is_group_chat(chat_id):
            group = self._groups.setdefault(str(chat_id), deque())
        while True:
            now = self._clock()
            wait = self._wait_needed(group, now)
            if wait <= 0:
                # No await between the check and the append: no other task can slip in.
                self._overall.append(now)
                if group is not None:
                    group.append(now)
                return
            await self._sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint.lower() in LIMITED_METHODS:
            await self.acquire(data.get("chat_id"))
        return await callback(*args, **kwargs)
