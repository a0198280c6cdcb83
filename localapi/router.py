"""One Bot API address in front of several local servers, one per token: a deployment's
processes are given one ``--api-url`` for all their bots, so each request is handed to the
server of its token (each server keeps its own token's limits and counts, as Telegram
does). Used by bench/e2e.py and the several-processes deployment tests."""

from __future__ import annotations

from aiohttp import web

from localapi.server import LocalBotApi

__all__ = ["TokenRouter"]


class TokenRouter:
    """One Bot API address for every token: ``gridbot run --deployment --api-url`` gives all
    its bots one base URL, so requests are handed to the local server of their token (each
    server enforces its own token's limits, as Telegram does)."""

    def __init__(self, servers: dict[str, LocalBotApi]) -> None:
        self.servers = servers
        self.app = web.Application(client_max_size=60 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._api)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _api(self, request: web.Request) -> web.StreamResponse:
        server = self.servers.get(request.match_info["token"])
        if server is None:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        return await server._handle_api(request)

    async def __aenter__(self) -> TokenRouter:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5,
                                     handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
        self.port = sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"
