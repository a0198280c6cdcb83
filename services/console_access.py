"""Use cases of the staff console's sign-in: one-time login links (/web), sessions,
and the check of a Telegram Mini App's init data.

A login link token is ``<user id>.<nonce>.<expiry unix>.<signature>``; the signature is
HMAC-SHA256 over the first three parts with a secret kept in the database, so a token
cannot be forged or moved to another user; the nonce is spent by one conditional UPDATE,
so it works once. A session cookie holds 32 random bytes; the database keeps only their
SHA-256, with the person, a CSRF token and the last time it was used (12 h idle expiry).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qsl

from storage import Database
from storage.web_auth_repo import SessionRecord
from tickets.clock import Clock

log = logging.getLogger("gridbot.console.auth")

LINK_LIFETIME = timedelta(minutes=10)
SESSION_IDLE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most this often
MINIAPP_MAX_AGE = timedelta(hours=1)  # how old a Mini App's auth_date may be
_MAX_TOKEN = 200


class LinkRefusal(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    EXPIRED = "expired"
    USED = "used"


LINK_REFUSAL_TEXT = {
    LinkRefusal.MALFORMED: "登录链接无效。请在 Telegram 私聊机器人发送 /web 获取新链接。",
    LinkRefusal.FORGED: "登录链接无效(签名不符)。请在 Telegram 私聊机器人发送 /web 获取新链接。",
    LinkRefusal.EXPIRED: "登录链接已过期(有效期 10 分钟)。请在 Telegram 私聊机器人发送 /web 获取新链接。",
    LinkRefusal.USED: "这个登录链接已经用过了,每个链接只能用一次。请发送 /web 获取新链接。",
}


class LinkRefused(Exception):
    def __init__(self, reason: LinkRefusal, user_id: int | None = None) -> None:
        super().__init__(reason.value)
        self.reason, self.user_id = reason, user_id

    @property
    def text(self) -> str:
        return LINK_REFUSAL_TEXT[self.reason]


@dataclass(frozen=True, slots=True)
class LinkClaims:
    user_id: int
    nonce: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie_value: str  # goes to the browser only
    csrf_token: str
    user_id: int
    person_key: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def token_hash(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


async def _secret(db: Database) -> str:
    async with db.read() as r:
        found = await r.web_auth.read_secret()
    if found is not None:
        return found
    async with db.transaction() as uow:
        return await uow.web_auth.secret(secrets.token_hex(32))


async def issue_login_link(db: Database, clock: Clock, user_id: int) -> str:
    """A fresh one-time login token for this Telegram user (the caller checks the user
    is staff); put it after ``/login/``."""
    secret = await _secret(db)
    now = clock.now()
    expires = now + LINK_LIFETIME
    nonce = _b64(secrets.token_bytes(16))
    payload = f"{user_id}.{nonce}.{int(expires.timestamp())}"
    async with db.transaction() as uow:
        await uow.web_auth.add_link(nonce, user_id, expires, now)
    return f"{payload}.{_sign(secret, payload)}"


async def check_login_link(db: Database, clock: Clock, token: str) -> LinkClaims:
    """Verify shape, signature and expiry without spending the link (for the GET page).
    Raises :class:`LinkRefused`."""
    parts = token.split(".")
    if len(token) > _MAX_TOKEN or len(parts) != 4 or not token.isascii():
        raise LinkRefused(LinkRefusal.MALFORMED)
    uid, nonce, exp, signature = parts
    if not (uid.isdigit() and exp.isdigit() and len(uid) <= 15 and len(exp) <= 12):
        raise LinkRefused(LinkRefusal.MALFORMED)
    async with db.read() as r:
        secret = await r.web_auth.read_secret()
    if secret is None or not hmac.compare_digest(_sign(secret, f"{uid}.{nonce}.{exp}"),
                                                 signature):
        raise LinkRefused(LinkRefusal.FORGED, int(uid))
    user_id = int(uid)
    async with db.read() as r:
        state = await r.web_auth.link_state(nonce)
    if state is None or state[0] != user_id:
        raise LinkRefused(LinkRefusal.FORGED, user_id)
    _, expires_at, used_at = state
    if used_at is not None:
        raise LinkRefused(LinkRefusal.USED, user_id)
    if expires_at <= clock.now():
        raise LinkRefused(LinkRefusal.EXPIRED, user_id)
    return LinkClaims(user_id, nonce, expires_at)


async def spend_login_link(db: Database, clock: Clock, token: str) -> int:
    """Check the link and spend it (once, atomically); returns the Telegram user id."""
    claims = await check_login_link(db, clock, token)
    async with db.transaction() as uow:
        won = await uow.web_auth.spend_link(claims.nonce, claims.user_id, clock.now())
    if not won:  # spent or expired between the check and the update
        raise LinkRefused(LinkRefusal.USED, claims.user_id)
    return claims.user_id


async def start_session(db: Database, clock: Clock, user_id: int, person_key: str,
                        via: str) -> NewSession:
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    async with db.transaction() as uow:
        await uow.web_auth.add_session(token_hash(cookie), user_id, person_key, csrf, via,
                                       clock.now())
    log.info("console session started for user %s (%s) via %s", user_id, person_key, via)
    return NewSession(cookie, csrf, user_id, person_key)


async def live_session(db: Database, clock: Clock, cookie_value: str) -> SessionRecord | None:
    """The session behind a cookie, if it exists, is not revoked and was used within the
    idle limit (touching it); else None."""
    if not cookie_value or len(cookie_value) > 100:
        return None
    key = token_hash(cookie_value)
    async with db.read() as r:
        record = await r.web_auth.session(key)
    now = clock.now()
    if record is None or record.revoked_at is not None:
        return None
    if now - record.last_seen_at > SESSION_IDLE:
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        async with db.transaction() as uow:
            await uow.web_auth.touch_session(key, now)
    return record


async def end_session(db: Database, clock: Clock, cookie_value: str) -> None:
    async with db.transaction() as uow:
        await uow.web_auth.revoke_session(token_hash(cookie_value), clock.now())


async def end_user_sessions(db: Database, clock: Clock, user_id: int) -> int:
    """``/web logout``: end every session of this Telegram user; returns how many."""
    async with db.transaction() as uow:
        count = await uow.web_auth.revoke_user_sessions(user_id, clock.now())
    log.info("console: %d session(s) of user %s ended by /web logout", count, user_id)
    return count


class InitDataRefused(Exception):
    """The Mini App's init data is malformed, forged or stale (message: English reason)."""


def check_init_data(init_data: str, bot_token: str, now: datetime,
                    max_age: timedelta = MINIAPP_MAX_AGE) -> int:
    """Verify a Telegram Mini App's ``initData`` as Telegram documents it: the
    data-check-string is every field but ``hash``, sorted, as ``key=value`` lines; the key
    is HMAC-SHA256("WebAppData", bot token); the hash is HMAC-SHA256(key, string) in hex.
    Returns the Telegram user id. Raises :class:`InitDataRefused`."""
    if not init_data or len(init_data) > 4096:
        raise InitDataRefused("empty or too long")
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError as error:
        raise InitDataRefused("not a query string") from error
    given = fields.pop("hash", "")
    check_string = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, check_string.encode(), hashlib.sha256).hexdigest()
    if not given or not hmac.compare_digest(expected, given):
        raise InitDataRefused("bad hash")
    auth_date = fields.get("auth_date", "")
    if not (auth_date.isascii() and auth_date.isdigit()) or len(auth_date) > 12:
        raise InitDataRefused("no auth_date")
    age = now.timestamp() - int(auth_date)
    if age > max_age.total_seconds() or age < -300:
        raise InitDataRefused("stale auth_date")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = int(user["id"])
    except (ValueError, KeyError, TypeError) as error:
        raise InitDataRefused("no user") from error
    return user_id
