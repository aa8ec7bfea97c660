"""``agora-node account ...``: create, list, delete, alias, move.

Each command is one call of the processing layer over the node's database;
``move`` fetches the target actor through the same services as the node.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from agora_node.actions import admin
from agora_node.actions.signups import Node
from agora_node.cli.common import load, open_db, read_password
from agora_node.config import Settings
from agora_node.errors import AgoraError, CommandError
from agora_node.processing.account_changes import delete_account, move_account, set_aliases
from agora_node.processing.accounts import new_local_account, store_new_account
from agora_node.protocol.urls import LocalUrls
from agora_node.services import running_services
from agora_node.store import accounts as accounts_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    account = sub.add_parser("account", help="manage local accounts")
    acc_sub = account.add_subparsers(dest="account_cmd", required=True)
    create = acc_sub.add_parser("create", help="create an account (keys are generated)")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true")
    create.add_argument("--locked", action="store_true", help="approve followers by hand")
    create.add_argument("--password-file")
    acc_sub.add_parser("list", help="list accounts")
    delete = acc_sub.add_parser("delete", help="delete an account and tell its followers")
    delete.add_argument("name")
    alias = acc_sub.add_parser("alias", help="set alsoKnownAs (before moving here)")
    alias.add_argument("name")
    alias.add_argument("--add", action="append", required=True, metavar="ACTOR_URL")
    move = acc_sub.add_parser("move", help="move an account to another (Move to followers)")
    move.add_argument("name")
    move.add_argument("--to", required=True, metavar="ACTOR_URL")
    suspend = acc_sub.add_parser(
        "suspend",
        help="refuse an account's sign-in, end its sessions, hide its posts (nothing is deleted)",
    )
    suspend.add_argument("name")
    unsuspend = acc_sub.add_parser("unsuspend", help="lift an account's suspension")
    unsuspend.add_argument("name")
    silence = acc_sub.add_parser(
        "silence", help="keep an account's posts out of public timelines for non-followers"
    )
    silence.add_argument("name")
    unsilence = acc_sub.add_parser("unsilence", help="lift an account's silence")
    unsilence.add_argument("name")
    limit = acc_sub.add_parser("limit", help="the same as silence (Mastodon's name for it)")
    limit.add_argument("name")
    unlimit = acc_sub.add_parser("unlimit", help="the same as unsilence")
    unlimit.add_argument("name")
    reset = acc_sub.add_parser(
        "reset-password", help="give an account a new random password (printed) and sign it out"
    )
    reset.add_argument("name")


def _account(db: Database, name: str) -> AccountRow:
    found = db.read_sync(lambda c: accounts_store.get_account_by_username(c, name))
    if found is None or found.deleted_at is not None:
        raise CommandError(f"no account named {name!r}")
    return found


async def _fetch_actor(settings: Settings, db: Database, uri: str) -> dict[str, Any]:
    async with running_services(settings, db) as services:
        return await services.fetcher.fetch_object(uri)


def create_account(
    settings: Settings, username: str, password: str, *, admin: bool, locked: bool = False
) -> str:
    """Create an account (CLI and quickstart); returns the actor URI."""
    urls = LocalUrls(settings.base_url)
    new = new_local_account(
        urls, settings.domain, username, password, now=time.time(), is_admin=admin, locked=locked
    )
    db = open_db(settings)
    try:
        if db.read_sync(lambda c: accounts_store.get_account_by_username(c, username)):
            raise CommandError(f"account {username!r} already exists")
        if db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, new.actor["uri"])):
            raise CommandError(f"the name {username!r} was used by a deleted account")
        db.write_sync(lambda c: store_new_account(c, new))
    finally:
        db.close()
    return str(new.actor["uri"])


def cmd_account(args: argparse.Namespace) -> int:
    settings = load(args.config)
    if args.account_cmd == "create":
        password = read_password(args)
        uri = create_account(settings, args.name, password, admin=args.admin, locked=args.locked)
        print(f"created @{args.name}@{settings.domain} ({uri})")
        return 0
    db = open_db(settings)
    try:
        print(_run(settings, db, args))
    finally:
        db.close()
    return 0


def _run(settings: Settings, db: Database, args: argparse.Namespace) -> str:
    """Run a non-create account command; returns what to print."""
    urls = LocalUrls(settings.base_url)
    if args.account_cmd == "list":
        lines = []
        for acc in db.read_sync(accounts_store.list_accounts):
            flags = [
                flag
                for flag, on in (
                    ("admin", acc.is_admin),
                    ("locked", acc.actor is not None and acc.actor.manually_approves),
                    ("moved", acc.actor is not None and acc.actor.moved_to),
                    ("deleted", acc.deleted_at),
                    ("suspended", acc.suspended_at),
                    ("silenced", acc.actor is not None and acc.actor.silenced_at),
                )
                if on
            ]
            suffix = f" [{', '.join(flags)}]" if flags else ""
            lines.append(f"@{acc.username}@{settings.domain}{suffix}")
        return "\n".join(lines)
    account = _account(db, args.name)
    handle = f"@{account.username}@{settings.domain}"
    node = Node(db, urls, settings.domain)
    if args.account_cmd == "suspend":
        asyncio.run(admin.suspend(node, account.username, by=None, now=time.time()))
        return f"suspended {handle}: sign-in refused, sessions and tokens ended, posts hidden"
    if args.account_cmd == "unsuspend":
        asyncio.run(admin.unsuspend(node, account.username, by=None, now=time.time()))
        return f"lifted the suspension of {handle}"
    if args.account_cmd in ("silence", "limit"):
        asyncio.run(admin.silence(node, account.username, by=None, now=time.time()))
        return f"silenced {handle}: its posts stay out of public timelines for non-followers"
    if args.account_cmd in ("unsilence", "unlimit"):
        asyncio.run(admin.unsilence(node, account.username, by=None, now=time.time()))
        return f"lifted the silence of {handle}"
    if args.account_cmd == "reset-password":
        password = asyncio.run(admin.reset_password(db, account.username, by=None, now=time.time()))
        return f"new password for {handle}: {password}"
    if args.account_cmd == "delete":
        effects = db.write_sync(lambda c: delete_account(c, urls, account, time.time()))
        return f"deleted @{account.username}@{settings.domain} ({effects.deliveries} servers told)"
    if args.account_cmd == "alias":
        aliases = list(
            dict.fromkeys([*(account.actor.also_known_as if account.actor else ()), *args.add])
        )
        db.write_sync(lambda c: set_aliases(c, account, aliases))
        return f"@{account.username} is also known as: {', '.join(aliases)}"
    if args.account_cmd == "move":
        try:
            target = asyncio.run(_fetch_actor(settings, db, args.to))
        except AgoraError as exc:
            raise CommandError(f"cannot fetch {args.to}: {exc.public_message}") from None
        effects = db.write_sync(lambda c: move_account(c, urls, account, target, time.time()))
        return f"moved @{account.username} to {args.to} ({effects.deliveries} servers told)"
    raise CommandError("unknown account command")
