"""A street office with two communities, for the deployment tests: 幸福里 (the example
community, included from its own file) and 安乐 (inline), each with its own bot token."""

from __future__ import annotations

from pathlib import Path

from community import example_config_text

TOKEN_A = "7000000011:AAFdeployment-test-token-xingfuli-00"
TOKEN_B = "7000000022:AAFdeployment-test-token-anle-000000"
ENVIRON = {"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": TOKEN_B}

# 安乐社区's ids (幸福里 uses the example community's, see tests/support/e2e.py).
ANLE_GROUP = -1002000000001
ANLE_SUPERVISOR, ANLE_WORKER = 3000, 3001
STREET_CHIEF = 9001

ANLE_INLINE = """
[[communities]]
key = "anle"
token_env = "ANLE_BOT_TOKEN"
[communities.community]
name = "安乐社区"
[[communities.grids]]
name = "安乐一网格"
areas = [{ compound = "安乐苑", buildings = "1-20" }]
chats = [-1002000000001]
workers = ["孙丽"]
[[communities.people]]
name = "孙丽"
telegram_id = 3001
roles = ["worker"]
grids = ["安乐一网格"]
[[communities.people]]
name = "周主任"
telegram_id = 3000
roles = ["supervisor", "admin"]
"""

HEAD = """
[deployment]
name = "幸福街道"
database = "data"

[[street_staff]]
name = "赵主任"
telegram_id = 9001

[[communities]]
key = "xingfuli"
token_env = "XINGFULI_BOT_TOKEN"
include = "communities/xingfuli.toml"
"""


def write_deployment(root: Path, extra: str = "", *, anle: str = ANLE_INLINE) -> Path:
    """Write the two-community deployment under ``root``; returns the deployment file."""
    (root / "communities").mkdir(parents=True, exist_ok=True)
    (root / "communities" / "xingfuli.toml").write_text(example_config_text(), encoding="utf-8")
    path = root / "deployment.toml"
    path.write_text(HEAD + anle + extra, encoding="utf-8")
    return path
