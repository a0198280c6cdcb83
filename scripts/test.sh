#!/usr/bin/env bash
# The test suite: lint, type check, then every test (unit and end-to-end against the local Bot API).
source "$(dirname "$0")/_venv.sh"
source scripts/browser_deps.sh
ruff check .
mypy
exec python -m pytest "$@"
