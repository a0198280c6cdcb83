"""Run the local Bot API server standalone.

    python -m localapi --port 0 --print-url [--token TOKEN] [--bot-username NAME]

Prints the base URL (``http://127.0.0.1:PORT/bot``) on the first stdout line, then serves
until SIGTERM/SIGINT. A driver in another process uses ``…/_control/*`` (see
:mod:`localapi.control`) to act as people and inspect what the bot sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys

from .server import DEFAULT_TOKEN, LocalBotApi


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m localapi", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to accept")
    parser.add_argument("--bot-username", default="gridbot_test_bot")
    parser.add_argument("--bot-name", default="网格助手")
    parser.add_argument("--print-url", action="store_true",
                        help="print the base URL (…/bot) on the first stdout line")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line {base_url, base_file_url, control_url, token}")
    parser.add_argument("--enforce-limits", action="store_true",
                        help="answer 429 beyond 20 msgs/min per group and 30 msgs/s overall")
    parser.add_argument("--privacy-mode", action="store_true",
                        help="groups deliver only commands, mentions and replies to the bot")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Start the server, announce it and run until a termination signal."""
    server = LocalBotApi(args.token, bot_username=args.bot_username,
                         bot_first_name=args.bot_name, host=args.host, port=args.port,
                         enforce_limits=args.enforce_limits, privacy_mode=args.privacy_mode)
    await server.start()
    if args.json:
        print(json.dumps({"base_url": server.base_url, "base_file_url": server.base_file_url,
                          "control_url": f"{server.url}/_control", "token": server.token}))
    elif args.print_url:
        print(server.base_url)
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if sys.platform != "win32":  # the event loop has no signal handlers on Windows
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
