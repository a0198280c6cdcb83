#!/usr/bin/env bash
# The test suite: lint, type check, then every test (unit and end-to-end against the local Bot API;
# the storage, services and end-to-end tests on SQLite and on a PostgreSQL the run starts itself).
source "$(dirname "$0")/_venv.sh"
source scripts/browser_deps.sh
source scripts/pg_deps.sh
ruff check .
mypy
# Two workers (pytest-xdist; each starts its own PostgreSQL): the end-to-end tests spend
# most of their time waiting, so two share the machine's cores well. Work stealing: a worker
# that runs out takes tests still queued on the other, so the slow learning tests do not all
# end up on one worker at the end. `-n 0` runs serially.
exec python -m pytest -n "${GRIDBOT_TEST_WORKERS:-2}" --dist worksteal "$@"
