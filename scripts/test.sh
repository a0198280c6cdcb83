#!/usr/bin/env bash
# The test suite: lint, type check, then every test (unit and end-to-end against the local Bot API;
# the storage, services and end-to-end tests on SQLite and on a PostgreSQL the run starts itself).
source "$(dirname "$0")/_venv.sh"
source scripts/browser_deps.sh
source scripts/pg_deps.sh
ruff check .
mypy
exec python -m pytest "$@"
