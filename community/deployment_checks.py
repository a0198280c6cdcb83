"""Problems that need the whole deployment: each one Chinese line naming the communities
(and their files) involved, so a street office can fix them in one pass."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from community.deployment_model import Deployment, DeploymentCommunity, is_database_url

ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _named(community: DeploymentCommunity) -> str:
    source = Path(community.source).name if community.source else ""
    return f"社区 {community.key}" + (f" ({source})" if source else "")


def _joined(communities: list[DeploymentCommunity]) -> str:
    return " 与 ".join(_named(c) for c in communities)


def cross_check(deployment: Deployment, environ: Mapping[str, str] | None) -> list[str]:
    """Every problem between communities; ``environ`` None skips the token variables."""
    problems: list[str] = []
    problems += _duplicate_keys(deployment)
    problems += _duplicate_databases(deployment)
    problems += _shared_chats(deployment)
    problems += _shared_people(deployment)
    problems += _street_staff(deployment)
    if environ is not None:
        problems += _tokens(deployment, environ)
    return problems


def _duplicate_keys(deployment: Deployment) -> list[str]:
    by_key: dict[str, list[DeploymentCommunity]] = {}
    for community in deployment.communities:
        by_key.setdefault(community.key, []).append(community)
    return [f"社区代号 {key} 重复: {_joined(group)}(代号用作数据库名和工单号前缀,须唯一)"
            for key, group in by_key.items() if len(group) > 1]


def _duplicate_databases(deployment: Deployment) -> list[str]:
    by_file: dict[str, list[DeploymentCommunity]] = {}
    for community in deployment.communities:
        if not is_database_url(community.db):
            by_file.setdefault(str(Path(community.db).resolve()), []).append(community)
    return [f"{_joined(group)} 使用同一个数据库文件 {path}:每个社区须有自己的数据库"
            for path, group in by_file.items() if len(group) > 1
            and len({c.key for c in group}) > 1]


def _shared_chats(deployment: Deployment) -> list[str]:
    owners: dict[int, list[tuple[DeploymentCommunity, str]]] = {}
    for community in deployment.communities:
        for grid in community.config.grids:
            for chat in grid.chats:
                owners.setdefault(chat, []).append((community, grid.name))
    problems = []
    for chat, claims in owners.items():
        if len({c.key for c, _ in claims}) > 1:
            where = " 与 ".join(f"{_named(c)} 的 {grid}" for c, grid in claims)
            problems.append(f"群聊 {chat} 同时属于 {where}:一个群只能属于一个社区")
    return problems


def _shared_people(deployment: Deployment) -> list[str]:
    by_id: dict[int, list[tuple[DeploymentCommunity, str]]] = {}
    by_name: dict[str, list[tuple[DeploymentCommunity, str]]] = {}
    for community in deployment.communities:
        for person in community.config.people:
            if person.telegram_id is not None:
                by_id.setdefault(person.telegram_id, []).append((community, person.key))
            if person.username:
                by_name.setdefault(person.username.lower(), []).append((community, person.key))
    problems = []
    for label, table in (("Telegram id", by_id), ("用户名 @", by_name)):
        for ident, claims in table.items():
            if len({c.key for c, _ in claims}) > 1:
                who = " 与 ".join(f"{_named(c)} 的 {name}" for c, name in claims)
                sep = "" if label.endswith("@") else " "
                problems.append(f"{label}{sep}{ident} 同时是 {who}:一个人只能属于一个社区"
                                "(街道人员请写在 [[street_staff]])")
    return problems


def _street_staff(deployment: Deployment) -> list[str]:
    problems = []
    ids = [p.telegram_id for p in deployment.street_staff]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"{deployment.path}: street_staff 中 telegram_id {dup} 重复")
    names = [p.name for p in deployment.street_staff]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{deployment.path}: street_staff 中姓名 {name} 重复")
    for member in deployment.street_staff:
        for community in deployment.communities:
            person = community.config.person_by_telegram(member.telegram_id)
            if person is not None:
                problems.append(
                    f"街道人员 {member.name} (telegram_id {member.telegram_id}) 同时是 "
                    f"{_named(community)} 的 {person.key}:请只写在一处(街道人员已能查看所有社区)")
    return problems


def _tokens(deployment: Deployment, environ: Mapping[str, str]) -> list[str]:
    by_env: dict[str, list[DeploymentCommunity]] = {}
    for community in deployment.communities:
        if community.token_env and ENV_RE.match(community.token_env):
            by_env.setdefault(community.token_env, []).append(community)
    return [f"环境变量 {env} 未设置:{_joined(group)} 的机器人令牌从它读取"
            for env, group in by_env.items() if not environ.get(env, "").strip()]
