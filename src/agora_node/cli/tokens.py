"""``agora-node token ...``: personal API tokens for scripts.

Made here, shown once, stored hashed; the same rules as tokens issued
through OAuth (``processing/oauth.py``).
"""

from __future__ import annotations

import argparse
import sys
import time

from agora_node.cli.common import load, open_db
from agora_node.errors import AgoraError, CommandError
from agora_node.processing import oauth as oauth_rules
from agora_node.store import accounts as accounts_store
from agora_node.store import tokens as tokens_store
from agora_node.store.db import Database


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    token = sub.add_parser("token", help="manage personal API tokens")
    tok_sub = token.add_subparsers(dest="tokens_cmd", required=True)
    tok_create = tok_sub.add_parser("create", help="make a token and print it once")
    tok_create.add_argument("name", help="the account's username")
    tok_create.add_argument("--scope", action="append", help="a scope (repeat); default read")
    tok_create.add_argument("--label", default="cli", help="a name to recognise the token by")
    tok_create.add_argument("--days", type=int, default=None, help="expire after N days")
    tok_list = tok_sub.add_parser("list", help="list an account's tokens")
    tok_list.add_argument("name")
    tok_revoke = tok_sub.add_parser("revoke", help="revoke a token by id")
    tok_revoke.add_argument("id", type=int)


def _token_state(token: tokens_store.TokenRow, now: float) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def _revoke(db: Database, token_id: int, now: float) -> None:
    found = db.read_sync(lambda c: tokens_store.get_token_by_id(c, token_id))
    if found is None:
        raise CommandError(f"no token with id {token_id}")
    if not db.write_sync(lambda c: tokens_store.revoke_token(c, token_id, now)):
        raise CommandError(f"token {token_id} was already revoked")
    print(f"revoked token {token_id}")


def _create(db: Database, args: argparse.Namespace, account_id: int, now: float) -> None:
    try:
        scopes = oauth_rules.parse_scopes(" ".join(args.scope or []))
    except AgoraError as exc:
        raise CommandError(str(exc.details.get("error_description", exc))) from None
    if args.days is not None and args.days <= 0:
        raise CommandError("--days must be a positive number of days")
    ttl = args.days * 86400 if args.days is not None else None
    issued = db.write_sync(
        lambda c: oauth_rules.issue_token(
            c,
            account_id=account_id,
            app=None,
            scopes=scopes,
            now=now,
            name=args.label,
            ttl=ttl,
            refreshable=False,
        )
    )
    print(issued.access_token)
    print(
        f"token {issued.token_id} for @{args.name} ({oauth_rules.scope_string(scopes)}); "
        "it is shown only this once",
        file=sys.stderr,
    )


def cmd_token(args: argparse.Namespace) -> int:
    settings = load(args.config)
    db = open_db(settings)
    try:
        now = time.time()
        if args.tokens_cmd == "revoke":
            _revoke(db, args.id, now)
            return 0
        account = db.read_sync(lambda c: accounts_store.get_account_by_username(c, args.name))
        if account is None or account.deleted_at is not None:
            raise CommandError(f"no account named {args.name!r}")
        if args.tokens_cmd == "list":
            for t in db.read_sync(lambda c: tokens_store.list_tokens_for_account(c, account.id)):
                print(f"{t.id}\t{_token_state(t, now)}\t{t.name}\t{' '.join(t.scopes)}")
            return 0
        if args.tokens_cmd == "create":
            _create(db, args, account.id, now)
            return 0
    finally:
        db.close()
    raise CommandError("unknown token command")
