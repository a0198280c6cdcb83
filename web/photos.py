"""Ticket photos for the console: fetched from Telegram by file id on the server (the bot
token never reaches the browser) and kept in a small in-memory LRU cache."""

from __future__ import annotations

import asyncio
from collections import OrderedDict

MAX_PHOTO = 10 * 1024 * 1024  # bytes; Telegram photos are far smaller
CACHE_BYTES = 48 * 1024 * 1024


def sniff_type(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "application/octet-stream"


class PhotoCache:
    """file id → bytes, least recently used evicted beyond ``limit`` bytes in total."""

    def __init__(self, limit: int = CACHE_BYTES) -> None:
        self.limit = limit
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, file_id: str) -> bytes | None:
        data = self._items.get(file_id)
        if data is not None:
            self._items.move_to_end(file_id)
        return data

    def put(self, file_id: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        old = self._items.pop(file_id, None)
        if old is not None:
            self._size -= len(old)
        self._items[file_id] = data
        self._size += len(data)
        while self._size > self.limit:
            _, evicted = self._items.popitem(last=False)
            self._size -= len(evicted)

    def lock(self, file_id: str) -> asyncio.Lock:
        """One download per file at a time (two viewers opening the same ticket)."""
        if len(self._locks) > 256:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(file_id, asyncio.Lock())

    @property
    def size(self) -> int:
        return self._size
