#!/usr/bin/env bash
# The test suite: lint, then every test (unit and end-to-end against the local Bot API).
source "$(dirname "$0")/_venv.sh"
source scripts/browser_deps.sh
ruff check .
exec python -m pytest "$@"
