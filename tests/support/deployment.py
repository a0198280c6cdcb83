"""A street office with two communities, for the deployment tests: 幸福里 (the example
community, included from its own file) and 安乐 (inline), each with its own bot token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from community import example_config_text
from community.deployment import load_deployment
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.app import BotOptions
from runtime.deployment import DeploymentRuntime
from storage.database import is_postgres_url
from tickets.clock import Clock

TOKEN_A = "7000000011:AAFdeployment-test-token-xingfuli-00"
TOKEN_B = "7000000022:AAFdeployment-test-token-anle-000000"
ENVIRON = {"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": TOKEN_B}

# 安乐社区's ids (幸福里 uses the example community's, see tests/support/e2e.py).
ANLE_GROUP = -1002000000001
ANLE_SUPERVISOR, ANLE_WORKER = 3000, 3001
STREET_CHIEF = 9001

def inline_community(key: str, name: str, token_env: str, *, compound: str, chat: int,
                     worker: tuple[str, int], supervisor: tuple[str, int],
                     supervisor_roles: str = '"supervisor", "admin"') -> str:
    """A ``[[communities]]`` entry of one grid (``compound``'s buildings 1–20, group
    ``chat``), its worker and its supervisor, for a test's deployment file."""
    grid = f"{name[:2]}一网格"
    return f"""
[[communities]]
key = "{key}"
token_env = "{token_env}"
[communities.community]
name = "{name}"
[[communities.grids]]
name = "{grid}"
areas = [{{ compound = "{compound}", buildings = "1-20" }}]
chats = [{chat}]
workers = ["{worker[0]}"]
[[communities.people]]
name = "{worker[0]}"
telegram_id = {worker[1]}
roles = ["worker"]
grids = ["{grid}"]
[[communities.people]]
name = "{supervisor[0]}"
telegram_id = {supervisor[1]}
roles = [{supervisor_roles}]
"""


ANLE_INLINE = inline_community("anle", "安乐社区", "ANLE_BOT_TOKEN", compound="安乐苑",
                               chat=ANLE_GROUP, worker=("孙丽", ANLE_WORKER),
                               supervisor=("周主任", ANLE_SUPERVISOR))

HEAD = """
[deployment]
name = "幸福街道"
database = "{database}"

[[street_staff]]
name = "赵主任"
telegram_id = 9001

[[communities]]
key = "xingfuli"
token_env = "XINGFULI_BOT_TOKEN"
include = "communities/xingfuli.toml"
"""


def deployment_database(db_target: str) -> str:
    """The deployment's database on the test's backend (the ``db_target`` fixture): SQLite
    files under ``data/``, or the fresh PostgreSQL database, each community in its schema."""
    return db_target if is_postgres_url(db_target) else "data"


def write_deployment(root: Path, extra: str = "", *, anle: str = ANLE_INLINE,
                     database: str = "data") -> Path:
    """Write the two-community deployment under ``root``; returns the deployment file."""
    (root / "communities").mkdir(parents=True, exist_ok=True)
    (root / "communities" / "xingfuli.toml").write_text(example_config_text(), encoding="utf-8")
    path = root / "deployment.toml"
    head = HEAD.replace("{database}", database)
    path.write_text(head + anle + extra, encoding="utf-8")
    return path


@asynccontextmanager
async def deployment_servers() -> AsyncIterator[dict[str, LocalBotApi]]:
    """One local Bot API server per token (each a different bot), keyed by token; staff
    and the street chief opened their private chats with both bots."""
    from tests.support.e2e import GROUP_1, RESIDENT, SUPERVISOR, WORKER_1, WORKER_2

    async with running_server(token=TOKEN_A) as a, running_server(token=TOKEN_B) as b:
        for api, staff, group in ((a, (WORKER_1, WORKER_2, SUPERVISOR), GROUP_1),
                                  (b, (ANLE_WORKER, ANLE_SUPERVISOR), ANLE_GROUP)):
            for user in (*staff, STREET_CHIEF):
                api.user(user, f"员工{user}", started=True)
            api.user(RESIDENT, "张阿姨")
            api.group(group, "网格群", admins=[staff[-1]], members=[*staff, RESIDENT])
        yield {TOKEN_A: a, TOKEN_B: b}


@asynccontextmanager
async def running_deployment(root: Path, servers: dict[str, LocalBotApi], clock: Clock, *,
                             database: str, web: str | None = None,
                             ) -> AsyncIterator[DeploymentRuntime]:
    """The deployment under ``root`` on ``database`` running against ``servers`` (its
    console on ``web``)."""
    from tests.support.e2e import fast_options

    deployment = load_deployment(write_deployment(root, database=database), environ=ENVIRON)
    runtime = DeploymentRuntime(deployment, ENVIRON, clock=clock,
                                options=BotOptions(web=web),
                                options_for=lambda token: fast_options(servers[token]))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
