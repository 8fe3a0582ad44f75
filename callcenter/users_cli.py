"""``hotline user add|passwd|disable``: managing who logs in, from the shell."""

from __future__ import annotations

import argparse
import getpass
import sys

from callcenter.auth.roles import parse_roles
from callcenter.auth.store import UnknownUserError, UserExistsError, UserStore, WeakPasswordError
from callcenter.db.engine import open_database
from callcenter.settings import Settings


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


async def user_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        password = _read_password(args.password_stdin) if args.user_command in ("add", "passwd") else ""
        roles = parse_roles(args.role) if args.user_command == "add" else frozenset()
    except ValueError as exc:
        print(f"hotline user {args.user_command}: {exc}", file=sys.stderr)
        return 2
    db = await open_database(settings.database_url, settings.data_dir)
    try:
        users = UserStore(db.sessions)
        if args.user_command == "add":
            await users.add(
                args.username,
                password,
                roles,
                display_name=args.name,
                extension=args.extension,
                unit_code=args.unit,
            )
            print(f"user {args.username} added with roles {', '.join(sorted(roles))}")
        elif args.user_command == "passwd":
            await users.set_password(args.username, password)
            print(f"password of {args.username} changed; their sessions are closed")
        else:
            await users.disable(args.username)
            print(f"user {args.username} disabled; their sessions are closed")
    except (UserExistsError, UnknownUserError, WeakPasswordError, ValueError) as exc:
        print(f"hotline user {args.user_command}: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    return 0
