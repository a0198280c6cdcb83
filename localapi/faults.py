"""Fault injection and Telegram's send limits."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, forbidden, too_many_requests
from .state import Store

#: Methods that post a new message into a chat (what Telegram's flood limits count).
SEND_METHODS = frozenset(
    m.lower()
    for m in (
        "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation",
        "sendVoice", "sendVideoNote", "sendMediaGroup", "sendLocation", "sendVenue",
        "sendContact", "sendPoll", "sendDice", "sendSticker", "copyMessage", "forwardMessage",
        "copyMessages", "forwardMessages",
    )
)


def _method_set(methods: str | Iterable[str] | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [methods]
    return frozenset(m.lower() for m in methods)


@dataclass
class FaultRule:
    """One armed fault. ``remaining=None`` means until :meth:`Faults.clear`."""

    kind: str  # "error", "delay" or "drop"
    methods: frozenset[str] | None
    chat_id: int | None
    remaining: int | None
    error: ApiError | None = None
    seconds: float = 0.0
    #: the parameters of every call this rule applied to, as it arrived in full (a delayed
    #: call is here while its answer is still held back)
    applied: list[dict[str, Any]] = field(default_factory=list)

    def matches(self, method: str, chat_id: Any) -> bool:
        """Whether this rule applies to a call of ``method`` (lower-case) for ``chat_id``."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.methods is not None and method not in self.methods:
            return False
        return self.chat_id is None or _same_chat(self.chat_id, chat_id)

    def consume(self, params: dict[str, Any]) -> None:
        """Use up one occurrence (on a call with ``params``)."""
        self.applied.append(params)
        if self.remaining is not None:
            self.remaining -= 1


def _same_chat(expected: int, actual: Any) -> bool:
    try:
        return int(actual) == expected
    except (TypeError, ValueError):
        return False


@dataclass
class ServedFault:
    """A fault or limit error the server answered with."""

    time: float
    method: str
    chat_id: Any
    status: int
    description: str
    reason: str  # "rule", "limit", "forbidden", "blocked", "kicked"


@dataclass
class Decision:
    """What to do with an incoming call before running it."""

    delay: float = 0.0
    drop: bool = False
    error: ApiError | None = None
    reason: str = ""


@dataclass
class Limits:
    """Telegram's documented broadcast limits (used with ``enforce_limits=True``)."""

    group_per_minute: int = 20
    global_per_second: int = 30
    _group: dict[int, deque[float]] = field(default_factory=dict)
    _global: deque[float] = field(default_factory=deque)

    def check(self, chat_id: int, is_group: bool, now: float) -> int | None:
        """Return ``retry_after`` seconds if this send exceeds a limit, else record it."""
        while self._global and now - self._global[0] >= 1.0:
            self._global.popleft()
        window = self._group.setdefault(chat_id, deque()) if is_group else None
        if window is not None:
            while window and now - window[0] >= 60.0:
                window.popleft()
            if len(window) >= self.group_per_minute:
                return max(1, math.ceil(60.0 - (now - window[0])))
        if len(self._global) >= self.global_per_second:
            return 1
        self._global.append(now)
        if window is not None:
            window.append(now)
        return None


class Faults:
    """Knobs that make the server misbehave the ways Telegram does."""

    def __init__(
        self, store: Store, *, enforce_limits: bool = False, strict_private: bool = True
    ) -> None:
        self._store = store
        #: like real Telegram: private sends answer 403 until the user opened the chat
        self.strict_private = strict_private
        self.rules: list[FaultRule] = []
        self.forbidden_users: set[int] = set()
        self.blocked_users: set[int] = set()
        self.kicked_chats: set[int] = set()
        self.enforce_limits = enforce_limits
        self.limits = Limits()
        self.served: list[ServedFault] = []

    # ------------------------------------------------------------------ knobs
    def forbid(self, user_id: int) -> None:
        """Sends to this user's private chat answer 403 "bot can't initiate conversation with a
        user" until the user opens the chat (``start_private``)."""
        self.forbidden_users.add(user_id)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends answer 403 "bot was blocked by the user"."""
        self.blocked_users.add(user_id)

    def unblock(self, user_id: int) -> None:
        """Undo :meth:`block` and :meth:`forbid` for this user."""
        self.blocked_users.discard(user_id)
        self.forbidden_users.discard(user_id)

    def kick(self, chat_id: int) -> None:
        """The bot was removed from a group: sends answer 403 "bot was kicked"."""
        self.kicked_chats.add(chat_id)

    def rate_limit(
        self,
        retry_after: int = 1,
        count: int | None = 1,
        methods: str | Iterable[str] | None = None,
        chat_id: int | None = None,
    ) -> FaultRule:
        """Answer the next ``count`` matching calls with 429 and ``retry_after``."""
        return self._arm(FaultRule("error", _method_set(methods), chat_id, count,
                                   error=too_many_requests(retry_after)))

    def fail(
        self,
        status: int = 500,
        count: int | None = 1,
        methods: str | Iterable[str] | None = None,
        chat_id: int | None = None,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> FaultRule:
        """Answer the next ``count`` matching calls with an arbitrary error status."""
        text = description or {
            500: "Internal Server Error",
            502: "Bad Gateway",
            400: "Bad Request: injected fault",
            403: "Forbidden: injected fault",
            409: "Conflict: injected fault",
        }.get(status, "Injected fault")
        return self._arm(FaultRule("error", _method_set(methods), chat_id, count,
                                   error=ApiError(status, text, parameters)))

    def delay(
        self,
        seconds: float,
        methods: str | Iterable[str] | None = None,
        count: int | None = None,
        chat_id: int | None = None,
    ) -> FaultRule:
        """Delay matching answers by ``seconds`` (``count=None``: until cleared)."""
        return self._arm(FaultRule("delay", _method_set(methods), chat_id, count,
                                   seconds=seconds))

    def drop_connection(
        self, count: int | None = 1, methods: str | Iterable[str] | None = None,
        chat_id: int | None = None,
    ) -> FaultRule:
        """Close the connection of the next ``count`` matching calls without answering.
        The call is *not* executed (like a request lost before reaching Telegram)."""
        return self._arm(FaultRule("drop", _method_set(methods), chat_id, count))

    def clear(self) -> None:
        """Disarm all rules and forget forbidden/blocked users and kicked chats."""
        self.rules.clear()
        self.forbidden_users.clear()
        self.blocked_users.clear()
        self.kicked_chats.clear()

    @property
    def served_429(self) -> list[ServedFault]:
        """Every 429 answer served (rules and enforced limits)."""
        return [f for f in self.served if f.status == 429]

    def _arm(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    # -------------------------------------------------------------- decision
    def decide(self, method: str, params: dict[str, Any]) -> Decision:
        """Decide how to answer a call to ``method`` (any case) before executing it."""
        method = method.lower()
        chat_id = params.get("chat_id")
        decision = Decision()
        for rule in self.rules:
            if rule.kind == "delay" and rule.matches(method, chat_id):
                rule.consume(params)
                decision.delay += rule.seconds
        for rule in self.rules:
            if rule.kind == "drop" and rule.matches(method, chat_id):
                rule.consume(params)
                decision.drop = True
                return decision
        for rule in self.rules:
            if rule.kind == "error" and rule.matches(method, chat_id):
                rule.consume(params)
                decision.error, decision.reason = rule.error, "rule"
                return decision
        decision.error, decision.reason = self._chat_error(method, chat_id)
        return decision

    def _chat_error(self, method: str, chat_id: Any) -> tuple[ApiError | None, str]:
        writes = method in SEND_METHODS or method == "sendchataction"
        if not writes or chat_id is None:
            return None, ""
        try:
            numeric = int(chat_id)
        except (TypeError, ValueError):
            return None, ""
        chat = self._store.chats.get(numeric)
        if numeric in self.blocked_users:
            return forbidden("bot was blocked by the user"), "blocked"
        if numeric in self.forbidden_users:
            return forbidden("bot can't initiate conversation with a user"), "forbidden"
        if (
            self.strict_private
            and chat is not None
            and chat.type == "private"
            and numeric not in self._store.started_users
        ) or (self.strict_private and chat is None and numeric in self._store.users):
            return forbidden("bot can't initiate conversation with a user"), "forbidden"
        if numeric in self.kicked_chats:
            kind = chat.type if chat is not None and chat.type != "private" else "group"
            return forbidden(f"bot was kicked from the {kind} chat"), "kicked"
        if self.enforce_limits and method in SEND_METHODS and chat is not None:
            retry = self.limits.check(numeric, chat.is_group, time.monotonic())
            if retry is not None:
                return too_many_requests(retry), "limit"
        return None, ""

    def record(self, method: str, chat_id: Any, error: ApiError, reason: str) -> None:
        """Remember a served fault."""
        self.served.append(ServedFault(time.time(), method, chat_id, error.status,
                                       error.description, reason))
