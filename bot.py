"""GridBot (网格助手) command line: ``gridbot`` and ``python bot.py`` both land here.

Each subcommand imports what it needs only when it runs, so ``--help`` and ``parse``
start fast. Expected failures (no token, a broken config, a database written by another
version) print one Chinese sentence to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
DEFAULT_CONFIG = "community.toml"
DEFAULT_DB = "gridbot.db"


class CliError(Exception):
    """An expected failure: its message is shown to the user as is, exit code 2."""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridbot",
        description="GridBot 网格助手: 把居民群里的诉求变成工单,派给网格员,跟踪到办结和评议。",
    )
    sub = parser.add_subparsers(dest="command", metavar="命令")

    run = sub.add_parser("run", help="运行机器人(长轮询)。令牌取自环境变量 TELEGRAM_BOT_TOKEN")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="社区配置文件 (默认 community.toml)")
    run.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库文件 (默认 gridbot.db)")
    run.add_argument(
        "--api-url",
        default=os.environ.get("TELEGRAM_API_URL"),
        help="Bot API 服务器地址,如 http://127.0.0.1:8081 或 …/bot (也可用环境变量 TELEGRAM_API_URL)",
    )
    _web_options(run)
    run.add_argument("--no-web", action="store_true", help="不启动网格工作台")
    run.add_argument("--deployment", metavar="FILE",
                     help="街道部署文件:在一个进程里运行其中所有社区(令牌取自各社区的 token_env)")
    run.add_argument("--webhook", metavar="URL",
                     help="改用 webhook 接收消息:公开网址,如 https://host/tg/<secret>(须配 --listen)")
    run.add_argument("--listen", metavar="HOST:PORT",
                     help="webhook 接收端监听地址,如 127.0.0.1:8443(反向代理转发到此)")

    web = sub.add_parser("web", help="单独运行网格工作台(与机器人共用同一数据库)")
    web.add_argument("--config", default=DEFAULT_CONFIG, help="社区配置文件 (默认 community.toml)")
    web.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库文件 (默认 gridbot.db)")
    web.add_argument("--api-url", default=os.environ.get("TELEGRAM_API_URL"),
                     help="Bot API 服务器地址 (用于显示照片;需要 TELEGRAM_BOT_TOKEN)")
    _web_options(web)
    web.add_argument("--deployment", metavar="FILE", help="街道部署文件:一个工作台看所有社区")

    init = sub.add_parser("init", help="写出一份带注释的示例配置 community.toml")
    init.add_argument(
        "path", nargs="?", default=DEFAULT_CONFIG, help="写到哪里 (默认 community.toml)"
    )
    init.add_argument("--force", action="store_true", help="覆盖已有文件")

    check = sub.add_parser("check", help="检查配置文件,逐条列出问题;有问题时退出码为 1")
    check.add_argument("--config", default=DEFAULT_CONFIG, help="社区配置文件")
    check.add_argument("--deployment", metavar="FILE",
                       help="街道部署文件:逐个检查社区,并检查社区之间的重复与令牌")

    demo = sub.add_parser("demo", help="离线演示:本地 Bot API 服务器 + 真实机器人,模拟网格群的一天")
    demo.add_argument(
        "--speed", type=float, default=600.0, help="时钟倍速 (默认 600: 1 秒 = 10 分钟)"
    )
    demo.add_argument("--keep-db", metavar="PATH", help="保留演示数据库到此路径")
    demo.add_argument("--quiet", action="store_true", help="只打印汇总")
    demo.add_argument("--web", metavar="HOST:PORT",
                      help="演示结束后在此地址继续提供网格工作台(打印书记的登录链接),Ctrl+C 结束")

    parse = sub.add_parser("parse", help="从标准输入读 JSON Lines ({\"text\": …}),逐行输出解析结果")
    parse.add_argument("--config", help="社区配置文件 (提供小区名、地名和分类关键词)")

    eval_nlp = sub.add_parser("eval-nlp", help="用标注语料评估消息理解:分类、紧急程度、位置")
    eval_nlp.add_argument("file", help="JSON Lines 语料,每行含 text 与标注")
    eval_nlp.add_argument("--config", help="社区配置文件")

    train = sub.add_parser("train-nlp", help="用标注语料重新训练字符模型 (nlp/data/charmodel.npz)")
    train.add_argument("files", nargs="*", help="JSON Lines 语料;默认 tests/data/nlp_*.jsonl")
    train.add_argument("--out", help="输出文件;默认 nlp/data/charmodel.npz")
    train.add_argument("--db", help="训练社区模型:内置语料 + 该数据库里的社区样本,把关通过才启用")
    train.add_argument("--config", help="社区配置文件 (与 --db 一起用,提供社区分类)")
    _add_learning_commands(sub)
    mig = sub.add_parser("migrate-db",
                         help="把社区从 SQLite 数据库迁到 PostgreSQL (先停止机器人),逐表核对行数")
    mig.add_argument("--from", dest="source", default=DEFAULT_DB, help="SQLite 数据库文件 (默认 gridbot.db)")
    mig.add_argument("--to", dest="target", required=True, help="PostgreSQL 地址 postgresql://…")
    mig.add_argument("--schema", help="社区在 PostgreSQL 里的模式名 (一个库可放多个社区)")
    return parser


def _add_learning_commands(sub) -> None:
    """Learning the community's words (learning/): evaluate and import labelled history."""
    ev = sub.add_parser("eval-history", help="用一份历史工单训练、另一份评估:社区自己的分类能学得多准")
    imp = sub.add_parser("import-history", help="导入历史工单 (.xlsx/.csv) 作为社区的标注样本")
    ev.add_argument("train", help="训练用的 .xlsx 或 .csv")
    ev.add_argument("test", help="评估用的 .xlsx 或 .csv")
    imp.add_argument("file", help=".xlsx 或 .csv (UTF-8 或 GB18030)")
    for p in (ev, imp):
        p.add_argument("--text", required=True, help="正文所在列 (列名或从 1 开始的列号)")
        p.add_argument("--category", required=True, help="分类所在列")
        p.add_argument("--title", help="标题所在列 (可选,与正文拼接)")
    imp.add_argument("--map", help="分类映射文件 MAP.toml: [map] 文件里的分类 = 社区分类 slug")
    imp.add_argument("--new-categories", action="store_true",
                     help="映射里没有的分类新建为社区分类 (否则跳过并列出)")
    imp.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库文件 (默认 gridbot.db)")
    imp.add_argument("--config", help="社区配置文件 (提供社区已有的分类)")
    model = sub.add_parser("model", help="社区模型版本:list 列出, rollback [版本] 回滚")
    model.add_argument("action", choices=["list", "rollback"])
    model.add_argument("version", nargs="?", help="rollback 的目标版本;省略为上一个,none 为停用")
    model.add_argument("--db", default=DEFAULT_DB, help="SQLite 数据库文件 (默认 gridbot.db)")


def _cmd_learning(args: argparse.Namespace) -> int:
    from learning.cli import run_command
    from learning.tables import TableError

    try:
        return run_command(args, sys.stdout)
    except TableError as error:
        raise CliError(str(error)) from error


def _web_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--web", default="127.0.0.1:8080", metavar="HOST:PORT",
                        help="网格工作台监听地址 (默认 127.0.0.1:8080)")
    parser.add_argument("--web-url", default=os.environ.get("GRIDBOT_WEB_URL"),
                        help="工作台对外地址,如 https://grid.example.cn (反向代理后;"
                             "也可用环境变量 GRIDBOT_WEB_URL);默认 http://<--web>")


def _check_web_address(address: str | None) -> None:
    if address is None:
        return
    from web.server import AddressError, parse_address

    try:
        parse_address(address)
    except AddressError as error:
        raise CliError(str(error)) from error


def _load_config(path: str):  # -> CommunityConfig
    from community import check_config
    from services.schedules import schedule_error

    if not Path(path).exists():
        raise CliError(f"找不到配置文件 {path}。可先运行 `gridbot init {path}` 生成示例。")
    config, problems = check_config(path, validate_schedule=schedule_error)
    if problems or config is None:
        details = "\n".join(f"  - {p}" for p in problems)
        raise CliError(f"配置文件 {path} 有 {len(problems)} 个问题:\n{details}")
    return config


def _load_deployment(path: str, *, need_tokens: bool):  # -> Deployment
    from community.deployment import check_deployment
    from services.schedules import schedule_error

    if not Path(path).exists():
        raise CliError(f"找不到部署文件 {path}。")
    deployment, problems = check_deployment(
        path, validate_schedule=schedule_error, environ=os.environ if need_tokens else None)
    if problems or deployment is None:
        details = "\n".join(f"  - {p}" for p in problems)
        raise CliError(f"部署文件 {path} 有 {len(problems)} 个问题:\n{details}")
    return deployment


def _lexicon_for(config_path: str | None):
    if not config_path:
        return None
    config = _load_config(config_path)
    from runtime.lexicon import lexicon_from_config

    return lexicon_from_config(config)


def _cmd_init(args: argparse.Namespace) -> int:
    from community import example_config_text

    target = Path(args.path)
    if target.exists() and not args.force:
        raise CliError(f"{target} 已存在;如要覆盖请加 --force。")
    try:
        target.write_text(example_config_text(), encoding="utf-8")
    except OSError as error:
        raise CliError(f"无法写入 {target}: {error.strerror or error}") from error
    print(f"已写出示例配置 {target}。修改后运行 `gridbot check --config {target}` 检查。")
    return EXIT_OK


def _cmd_check_deployment(path: str) -> int:
    from community.deployment import check_deployment
    from community.examples import example_broadcast_warnings
    from services.schedules import schedule_error

    deployment, problems = check_deployment(path, validate_schedule=schedule_error,
                                            environ=os.environ)
    if problems or deployment is None:
        print(f"部署文件 {path} 有 {len(problems)} 个问题:")
        for problem in problems:
            print(f"  - {problem}")
        return EXIT_PROBLEMS
    communities = deployment.communities
    tokens = len({os.environ[c.token_env].strip() for c in communities})
    print(f"部署无误: {deployment.name},{len(communities)} 个社区,{tokens} 个机器人令牌,"
          f"{len(deployment.street_staff)} 位街道人员。")
    for community in communities:
        config = community.config
        chats = sum(len(g.chats) for g in config.grids)
        print(f"  {community.key}: {config.name},{len(config.grids)} 个网格,"
              f"{len(config.people)} 位工作人员,{chats} 个群聊")
        for warning in example_broadcast_warnings(config):
            print(f"  提醒 ({community.key}): {warning}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from community import check_config

    if args.deployment:
        return _cmd_check_deployment(args.deployment)
    from services.schedules import schedule_error

    config, problems = check_config(args.config, validate_schedule=schedule_error)
    if problems or config is None:
        print(f"配置文件 {args.config} 有 {len(problems)} 个问题:")
        for problem in problems:
            print(f"  - {problem}")
        return EXIT_PROBLEMS
    people = len(config.people)
    chats = sum(len(g.chats) for g in config.grids)
    grids = len(config.grids)
    print(f"配置无误: {config.name},{grids} 个网格,{people} 位工作人员,{chats} 个群聊。")
    from community.examples import example_broadcast_warnings

    for warning in example_broadcast_warnings(config):
        print(f"  提醒: {warning}")
    return EXIT_OK


def _cmd_parse(args: argparse.Namespace) -> int:
    import nlp

    return nlp.run_parse_cli(sys.stdin, sys.stdout, _lexicon_for(args.config))


def _cmd_eval_nlp(args: argparse.Namespace) -> int:
    import nlp

    if not Path(args.file).is_file():
        raise CliError(f"找不到语料文件 {args.file}。")
    return nlp.run_eval_cli(args.file, sys.stdout, _lexicon_for(args.config))


def _cmd_train_nlp(args: argparse.Namespace) -> int:
    if args.db:  # the community model (learning/); the shipped model is left alone
        return _cmd_learning(args)
    from nlp.training import labelled_paths, train_files

    root = Path(__file__).resolve().parent
    paths = [Path(f) for f in args.files] or labelled_paths(root / "tests" / "data")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        raise CliError(f"找不到语料文件 {'、'.join(missing) or 'tests/data/nlp_*.jsonl'}。")
    out = Path(args.out) if args.out else root / "nlp" / "data" / "charmodel.npz"
    model = train_files(paths, out)
    print(f"已训练:{len(paths)} 个语料文件,{len(model.vocabulary)} 个特征,写入 {out}")
    return EXIT_OK


def _cmd_run_deployment(args: argparse.Namespace) -> int:
    from runtime.api_url import ApiUrlError, bot_api_urls

    deployment = _load_deployment(args.deployment, need_tokens=True)
    from runtime.secrets import install_token_redaction

    for community in deployment.communities:
        install_token_redaction(os.environ[community.token_env].strip())
    try:
        bot_api_urls(args.api_url)
    except ApiUrlError as error:
        raise CliError(str(error)) from None
    web = None if args.no_web else args.web
    _check_web_address(web)
    from runtime import StartupError
    from runtime.deployment import run_deployment

    try:
        run_deployment(deployment=deployment, environ=os.environ, api_url=args.api_url,
                       web=web, web_url=args.web_url)
    except StartupError as error:
        raise CliError(str(error)) from error
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    if args.deployment:
        return _cmd_run_deployment(args)
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise CliError(
            "没有设置环境变量 TELEGRAM_BOT_TOKEN。请向 @BotFather 申请令牌后 "
            "`export TELEGRAM_BOT_TOKEN=…`;想先看看效果可运行 `gridbot demo`。"
        )
    from runtime.api_url import ApiUrlError, bot_api_urls
    from runtime.secrets import install_token_redaction

    install_token_redaction(token)  # from here on, no output of this process shows the token
    try:
        bot_api_urls(args.api_url)
    except ApiUrlError as error:
        raise CliError(str(error)) from None
    config = _load_config(args.config)
    web = None if args.no_web else args.web
    _check_web_address(web)
    _check_webhook(args, token)
    from runtime import StartupError, run_bot

    try:
        run_bot(config=config, token=token, db_path=args.db, api_url=args.api_url, web=web,
                web_url=args.web_url, webhook=args.webhook, listen=args.listen)
    except StartupError as error:
        raise CliError(str(error)) from error
    return EXIT_OK


def _check_webhook(args: argparse.Namespace, token: str) -> None:
    """Bad --webhook/--listen values and a token without a bot id: one sentence, exit 2."""
    from runtime.webhook import parse_listen, webhook_path
    from storage.leases import lease_key

    try:
        lease_key(token)
        if args.webhook is None and args.listen is not None:
            raise ValueError("--listen 只与 --webhook 一起使用")
        if args.webhook is not None:
            webhook_path(args.webhook)
            if args.listen is None:
                raise ValueError("--webhook 须配 --listen 主机:端口(本进程接收 webhook 的地址)")
            parse_listen(args.listen)
    except ValueError as error:
        raise CliError(str(error)) from None


def _cmd_demo(args: argparse.Namespace) -> int:
    from runtime.demo import run_demo

    _check_web_address(args.web)
    return run_demo(speed=args.speed, keep_db=args.keep_db, quiet=args.quiet, web=args.web)


def _cmd_web_deployment(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    deployment = _load_deployment(args.deployment, need_tokens=False)
    _check_web_address(args.web)
    missing = [c.db for c in deployment.communities
               if "://" not in c.db and not Path(c.db).exists()]
    if missing:
        raise CliError(f"找不到数据库 {'、'.join(missing)}。工作台与机器人共用数据库,"
                       "请先运行 `gridbot run --deployment`。")
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import storage
    from runtime.secrets import install_token_redaction
    from runtime.street_console import serve_deployment_console

    for community in deployment.communities:  # photos and Mini App sign-in need them
        token = os.environ.get(community.token_env, "").strip()
        if token:
            install_token_redaction(token)

    try:
        asyncio.run(serve_deployment_console(deployment, address=args.web,
                                             web_url=args.web_url, tokens=os.environ,
                                             api_url=args.api_url))
    except (storage.StorageError, OSError) as error:
        raise CliError(f"网格工作台无法启动: {error}") from error
    return EXIT_OK


def _cmd_web(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    if args.deployment:
        return _cmd_web_deployment(args)
    config = _load_config(args.config)
    _check_web_address(args.web)
    import storage

    if not storage.is_postgres_url(args.db) and not Path(args.db).exists():
        raise CliError(f"找不到数据库 {args.db}。工作台与机器人共用数据库,请先运行 `gridbot run`。")
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from runtime.console import serve_console

    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip() or None
    try:
        asyncio.run(serve_console(config=config, config_path=args.config, db_path=args.db,
                                  address=args.web, web_url=args.web_url, token=token,
                                  api_url=args.api_url))
    except (storage.StorageError, OSError) as error:
        raise CliError(f"网格工作台无法启动: {error}") from error
    return EXIT_OK


def _cmd_migrate_db(args: argparse.Namespace) -> int:
    import asyncio

    import storage
    from runtime.migrate import MigrateRefused, migrate_db

    try:
        return asyncio.run(migrate_db(args.source, args.target, schema=args.schema))
    except MigrateRefused as refused:
        raise CliError(str(refused)) from refused
    except (storage.StorageError, OSError) as error:
        raise CliError(f"迁移失败,目标库未写入: {error}") from error


_COMMANDS = {
    "run": _cmd_run,
    "init": _cmd_init,
    "check": _cmd_check,
    "demo": _cmd_demo,
    "web": _cmd_web,
    "parse": _cmd_parse,
    "eval-nlp": _cmd_eval_nlp,
    "train-nlp": _cmd_train_nlp,
    "eval-history": _cmd_learning,
    "import-history": _cmd_learning,
    "model": _cmd_learning,
    "migrate-db": _cmd_migrate_db,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gridbot`` console script; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _COMMANDS[args.command](args)
    except CliError as error:
        print(f"gridbot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`gridbot parse ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
