"""The staff console (网格工作台): an aiohttp web app over the same database and use cases
as the bot. :func:`create_console_app` builds it; see web/README.md for the layout."""

from web.app import create_console_app
from web.deps import CONSOLE_DEPS, ConsoleDeps

__all__ = ["CONSOLE_DEPS", "ConsoleDeps", "create_console_app"]
