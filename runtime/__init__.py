"""Wiring: builds the Application, owns start-up and shut-down, the durable inbox, the demo."""

from runtime.app import BotOptions, GridBot, StartupError, run_bot, serve

__all__ = ["BotOptions", "GridBot", "StartupError", "run_bot", "serve"]
