"""``hotline config apply | history | diff | rollback``: configuration versions from the shell.

The CLI talks to PostgreSQL, not to the web API: ``apply`` checks the file here (every problem as
``FILE:LINE:COL: message``, exit 1, nothing stored), stores it as the newest version — the same transaction
sends ``NOTIFY hotline_config`` — and waits (``--wait``, 15 s by default) until the running service has
swapped to it and written ``applied_at`` back. Without a running service the version is stored and served
at the next start. See ``callcenter/config/apply.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC
from pathlib import Path

from callcenter.config.apply import cli_store, wait_until_served
from callcenter.config.loader import ConfigError, load_plan, parse_plan
from callcenter.config.versions import (
    UnknownVersionError,
    VersionInfo,
    get_version,
    latest_version,
    list_versions,
    sha256_of,
    unified_diff,
)
from callcenter.db.engine import Database, open_database
from callcenter.settings import Settings

__all__ = ["add_subcommands", "versions_command"]

COMMANDS = ("apply", "history", "diff", "rollback")


def add_subcommands(config_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The four subcommands, added to ``hotline config``."""
    apply = config_sub.add_parser(
        "apply", help="check a file, store it as a new version, swap the service to it"
    )
    apply.add_argument("file", type=Path)
    _author_and_wait(apply)
    history = config_sub.add_parser("history", help="the stored versions, newest first")
    history.add_argument("--limit", type=int, default=20)
    diff = config_sub.add_parser("diff", help="unified diff from version A to version B")
    diff.add_argument("a", type=int)
    diff.add_argument("b", type=int)
    rollback = config_sub.add_parser("rollback", help="serve version N again (stored as a new version)")
    rollback.add_argument("n", type=int)
    _author_and_wait(rollback)


def _author_and_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--author", default=None, help="who made the change (default: your login name)")
    parser.add_argument(
        "--wait",
        type=float,
        default=15.0,
        help="seconds to wait for the running service to swap (default 15; 0: do not wait)",
    )


def _problems(exc: ConfigError, what: str) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print(f"{what}: {len(exc.problems)} problem(s); nothing was changed", file=sys.stderr)
    return 1


async def versions_command(settings: Settings, args: argparse.Namespace) -> int:
    command: str = args.config_command
    text = ""
    if command == "apply":
        try:
            load_plan(args.file)  # every problem, before the database is even opened
        except ConfigError as exc:
            return _problems(exc, str(args.file))
        text = await asyncio.to_thread(args.file.read_text, encoding="utf-8")
    db = await open_database(settings.database_url, settings.data_dir)
    try:
        if command == "apply":
            return await _store_and_wait(db, args, text, source=str(args.file), rollback_of=None)
        if command == "rollback":
            old = await get_version(db.sessions, args.n)
            try:
                parse_plan(old.yaml_text, f"version {args.n}")
            except ConfigError as exc:
                return _problems(exc, f"version {args.n}")
            return await _store_and_wait(
                db, args, old.yaml_text, source=f"version {args.n}", rollback_of=args.n
            )
        if command == "history":
            _print_history(await list_versions(db.sessions, limit=args.limit))
            return 0
        old, new = await get_version(db.sessions, args.a), await get_version(db.sessions, args.b)
        sys.stdout.write(
            unified_diff(
                old.yaml_text, new.yaml_text, old_name=f"version {args.a}", new_name=f"version {args.b}"
            )
        )
        return 0
    except UnknownVersionError as exc:
        print(f"hotline config {command}: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.close()


async def _store_and_wait(
    db: Database, args: argparse.Namespace, text: str, *, source: str, rollback_of: int | None
) -> int:
    latest = await latest_version(db.sessions)
    if latest is not None and latest.sha256 == sha256_of(text):
        print(f"unchanged: version {latest.n} already has this text")
        return 0
    author = args.author or getpass.getuser()
    stored = await cli_store(db.sessions, text, author=author, source=source, rollback_of=rollback_of)
    added, removed = stored.changed_lines
    print(f"stored as version {stored.n} by {author} (+{added} -{removed} lines)")
    if args.wait <= 0:
        return 0
    served = await wait_until_served(db.sessions, stored.n, timeout=args.wait)
    if served.applied_at is not None:
        print(f"version {served.n} is serving since {served.applied_at:%Y-%m-%d %H:%M:%S %Z}")
        if served.apply_note:
            print(f"note: {served.apply_note}", file=sys.stderr)
        return 0
    if served.apply_note:
        print(f"the running service refused version {served.n}: {served.apply_note}", file=sys.stderr)
        return 1
    print(
        f"no running service swapped to version {served.n} within {args.wait:g} s; "
        "it will serve it when it next starts",
        file=sys.stderr,
    )
    return 0


def _print_history(versions: list[VersionInfo]) -> None:
    print(f"{'N':>4}  {'TIME (UTC)':19}  {'AUTHOR':16}  {'ACTION':14}  {'CHANGE':>11}  SOURCE / NOTE")
    for v in versions:
        added, removed = v.changed_lines
        action = f"rollback to {v.rollback_of}" if v.rollback_of is not None else v.action
        state = "" if v.applied_at is not None else "  (not applied yet)"
        note = f"  [{v.apply_note}]" if v.apply_note else ""
        when = v.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{v.n:>4}  {when:19}  {v.author[:16]:16}  {action:14}  {f'+{added} -{removed}':>11}  "
            f"{v.source}{state}{note}"
        )
