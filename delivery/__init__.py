"""Delivery of the durable outbox to Telegram (rate limits, retries, 403 fallback)."""

from delivery.dispatcher import DeliveryStore, OutboxDispatcher, PendingSend, backoff, keyboard
from delivery.rate_limit import SlidingWindowRateLimiter

__all__ = [
    "DeliveryStore",
    "OutboxDispatcher",
    "PendingSend",
    "SlidingWindowRateLimiter",
    "backoff",
    "keyboard",
]
