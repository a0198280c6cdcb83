"""Helpers for tests (importable from any conftest; no pytest import needed here).

Example::

    from localapi.testing import running_server, make_application

    async def test_start():
        async with running_server() as server:
            app = make_application(server).build()
            ...
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import ApplicationBuilder

from .server import DEFAULT_TOKEN, LocalBotApi


@contextlib.asynccontextmanager
async def running_server(**kwargs: Any) -> AsyncIterator[LocalBotApi]:
    """Start a :class:`LocalBotApi` on a free port for the duration of the block.

    Fails the block's exit if the emulator itself crashed while serving.
    """
    server = LocalBotApi(**kwargs)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    if server.internal_errors:
        raise AssertionError(f"localapi internal errors: {server.internal_errors!r}")


def make_application(
    server: LocalBotApi,
    token: str | None = None,
    *,
    timeout: float = 5.0,
    **kwargs: Any,
) -> ApplicationBuilder:
    """An ``ApplicationBuilder`` preset for ``server``: token, base URLs, short timeouts.

    Extra keyword arguments call the builder method of the same name, e.g.
    ``make_application(server, concurrent_updates=True)``.
    """
    builder = (
        ApplicationBuilder()
        .token(token or server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .write_timeout(timeout)
        .pool_timeout(timeout)
        .get_updates_connect_timeout(timeout)
        .get_updates_read_timeout(timeout)
        .get_updates_write_timeout(timeout)
        .get_updates_pool_timeout(timeout)
    )
    for name, value in kwargs.items():
        builder = getattr(builder, name)(value)
    return builder


def make_bot(server: LocalBotApi, token: str | None = None, **kwargs: Any) -> Any:
    """A plain ``telegram.Bot`` talking to ``server`` (use as ``async with make_bot(s) as b``)."""
    from telegram import Bot

    return Bot(token or server.token, base_url=server.base_url,
               base_file_url=server.base_file_url, **kwargs)


__all__ = ["DEFAULT_TOKEN", "LocalBotApi", "make_application", "make_bot", "running_server"]
