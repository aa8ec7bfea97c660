"""``agora-node signup`` (pending sign-ups: list, approve, reject) and
``agora-node invite`` (create, list, revoke): the admin's side of joining."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from agora_node.actions import signups
from agora_node.cli.common import load, open_db
from agora_node.config import Settings
from agora_node.errors import CommandError
from agora_node.protocol.urls import LocalUrls
from agora_node.store import signups as signups_store
from agora_node.store.db import Database


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    signup = sub.add_parser("signup", help="sign-ups waiting for approval")
    s_sub = signup.add_subparsers(dest="signup_cmd", required=True)
    s_sub.add_parser("list", help="list pending sign-ups, the oldest first")
    for verb, text in (("approve", "make the account"), ("reject", "drop the sign-up")):
        cmd = s_sub.add_parser(verb, help=text)
        cmd.add_argument("name")
    invite = sub.add_parser("invite", help="invite links for signing up")
    i_sub = invite.add_subparsers(dest="invite_cmd", required=True)
    create = i_sub.add_parser("create", help="a new invite link")
    create.add_argument("--expires-in", type=float, metavar="HOURS", help="default: never")
    create.add_argument("--max-uses", type=int, metavar="N", help="default: no limit")
    i_sub.add_parser("list", help="list invites")
    revoke = i_sub.add_parser("revoke", help="withdraw an invite")
    revoke.add_argument("code")


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "never"


def _node(settings: Settings, db: Database) -> signups.Node:
    return signups.Node(db, LocalUrls(settings.base_url), settings.domain)


def _signup(settings: Settings, db: Database, args: argparse.Namespace) -> str:
    if args.signup_cmd == "list":
        pending = db.read_sync(signups_store.pending_signups)
        if not pending:
            return "no sign-ups are waiting"
        return "\n".join(
            f"{s.username}  asked {_when(s.created_at)}  from {s.ip or '?'}: {s.reason}"
            for s in pending
        )
    node = _node(settings, db)
    if args.signup_cmd == "approve":
        account = asyncio.run(signups.approve(node, args.name, time.time()))
        return f"approved: @{account.username}@{settings.domain} can sign in now"
    asyncio.run(signups.reject(node, args.name))
    return f"rejected the sign-up of {args.name}"


def _invite(settings: Settings, db: Database, args: argparse.Namespace) -> str:
    if args.invite_cmd == "create":
        expires = args.expires_in * 3600 if args.expires_in is not None else None
        code = asyncio.run(
            signups.create_invite(
                _node(settings, db),
                created_by=None,
                now=time.time(),
                expires_in=expires,
                max_uses=args.max_uses,
            )
        )
        return f"{settings.base_url}/auth/sign_up?invite={code}"
    if args.invite_cmd == "list":
        now = time.time()
        rows = db.read_sync(signups_store.list_invites)
        if not rows:
            return "no invites"
        return "\n".join(
            f"{i.code}  used {i.uses}/{i.max_uses if i.max_uses is not None else '∞'}"
            f"  expires {_when(i.expires_at)}"
            f"  {'usable' if i.usable(now) else 'revoked' if i.revoked_at else 'spent'}"
            for i in rows
        )
    if not db.write_sync(lambda c: signups_store.revoke_invite(c, args.code, time.time())):
        raise CommandError(f"no usable invite {args.code!r}")
    return f"revoked {args.code}"


def cmd_signup(args: argparse.Namespace) -> int:
    return _with_db(args, _signup)


def cmd_invite(args: argparse.Namespace) -> int:
    return _with_db(args, _invite)


def _with_db(
    args: argparse.Namespace, run: Callable[[Settings, Database, argparse.Namespace], str]
) -> int:
    settings = load(args.config)
    db = open_db(settings)
    try:
        print(run(settings, db, args))
    finally:
        db.close()
    return 0
