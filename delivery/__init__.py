"""Delivery of the durable outbox to Telegram (rate limits, retries, 403 fallback)."""

from delivery.dispatcher import DeliveryStore, OutboxDispatcher, backoff, keyboard
from delivery.pending import PendingSend
from delivery.rate_limit import SlidingWindowRateLimiter

__all__ = [
    "DeliveryStore",
    "OutboxDispatcher",
    "PendingSend",
    "SlidingWindowRateLimiter",
    "backoff",
    "keyboard",
]
