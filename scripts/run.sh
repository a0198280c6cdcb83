#!/usr/bin/env bash
# The main job. With TELEGRAM_BOT_TOKEN set: the real bot with community.toml.
# Without a token: the offline demo against GridBot's local Bot API server.
source "$(dirname "$0")/_venv.sh"
if [ -n "${TELEGRAM_BOT_TOKEN:-}" ]; then
  exec gridbot run --config "${GRIDBOT_CONFIG:-community.toml}" --db "${GRIDBOT_DB:-gridbot.db}" "$@"
fi
exec gridbot demo "$@"
