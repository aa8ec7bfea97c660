"""``agora-node domain ...`` and ``agora-node audit``: other servers, and the record.

Each command is one call of ``actions/domains.py`` over the node's database;
a running node takes a change made here within seconds (its rules are
re-read), and every change is in the moderation log, which ``audit`` shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from agora_node.actions import domains
from agora_node.actions.domains import Moderation
from agora_node.cli.common import load, open_db
from agora_node.config import Settings
from agora_node.errors import CommandError
from agora_node.processing.domain_lists import BlockSpec, to_csv
from agora_node.services import running_services
from agora_node.store import audit
from agora_node.store.db import Database
from agora_node.store.domain_blocks import DomainBlockRow

BY = "cli"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    domain = sub.add_parser("domain", help="block, limit or allow other servers")
    dsub = domain.add_subparsers(dest="domain_cmd", required=True)
    blk = dsub.add_parser("block", help="block a domain and its subdomains (or change its block)")
    blk.add_argument("domain")
    blk.add_argument(
        "--severity",
        choices=domains.SEVERITIES,
        default="suspend",
        help="suspend: cut off; silence: followers only; noop: the flags alone",
    )
    blk.add_argument("--reject-media", action="store_true", help="do not copy or show its media")
    blk.add_argument("--reject-reports", action="store_true", help="drop its reports")
    blk.add_argument("--obfuscate", action="store_true", help="hide the name in the public list")
    blk.add_argument("--private-comment", default="", help="for the admins (the log's reason)")
    blk.add_argument("--public-comment", default="", help="shown in the public list")
    unb = dsub.add_parser("unblock", help="lift a domain's block")
    unb.add_argument("domain")
    lst = dsub.add_parser("list", help="the domain blocks (and allows)")
    lst.add_argument("--json", action="store_true")
    imp = dsub.add_parser(
        "import", help="apply a block list (Mastodon CSV, plain list or JSON; '-' for stdin)"
    )
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="show the changes, change nothing")
    imp.add_argument(
        "--remove-missing", action="store_true", help="also lift blocks the list does not name"
    )
    exp = dsub.add_parser("export", help="the blocks as Mastodon's CSV (to a file or stdout)")
    exp.add_argument("file", nargs="?", default="-")
    pur = dsub.add_parser(
        "purge", help="forget everything stored from a suspended domain (cannot be undone)"
    )
    pur.add_argument("domain")
    pur.add_argument("--yes", action="store_true", help="confirm")
    alw = dsub.add_parser("allow", help="federate with a domain in allowlist mode")
    alw.add_argument("domain")
    dis = dsub.add_parser("disallow", help="withdraw a domain's allow")
    dis.add_argument("domain")
    sub_ = dsub.add_parser(
        "subscribe", help="follow a published block list (CSV or JSON at an address)"
    )
    sub_.add_argument("url")
    dsub.add_parser("subscriptions", help="the block lists followed, and their last refresh")
    ref = dsub.add_parser("refresh", help="fetch the lists now and apply what changed")
    ref.add_argument(
        "subscription", nargs="?", help="one list (its id or address); all when left out"
    )
    ref.add_argument("--dry-run", action="store_true", help="show the changes, change nothing")
    uns = dsub.add_parser("unsubscribe", help="stop following a list and lift its blocks")
    uns.add_argument("subscription", help="its id or address")
    log = sub.add_parser("audit", help="the moderation log, newest first")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--action", default="", help="only actions starting with this")
    log.add_argument("--json", action="store_true")


def _read_list(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None


def _flags(b: DomainBlockRow) -> str:
    on = [n for n, v in (("reject_media", b.reject_media), ("reject_reports", b.reject_reports),
                         ("obfuscate", b.obfuscate)) if v]  # fmt: skip
    return f" [{', '.join(on)}]" if on else ""


def cmd_domain(args: argparse.Namespace) -> int:
    settings = load(args.config)
    db = open_db(settings)
    m = Moderation(db, None, settings.domain)
    try:
        if args.domain_cmd == "export":
            text = to_csv(domains.spec_of(b) for b in reversed(asyncio.run(domains.blocks(m))))
            print(_export(text, args.file))
            return 0
        if args.domain_cmd == "refresh":
            print(asyncio.run(_refresh(settings, m, args)))
            return 0
        listed = _read_list(args.file) if args.domain_cmd == "import" else ""
        print(asyncio.run(_run(m, args, listed)))
    finally:
        db.close()
    return 0


def _export(text: str, path: str) -> str:
    if path == "-":
        return text.rstrip("\n")
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc}") from None
    return f"wrote {text.count(chr(10)) - 1} blocks to {path}"


async def _run(m: Moderation, args: argparse.Namespace, listed: str) -> str:
    now = time.time()
    cmd = args.domain_cmd
    if cmd == "block":
        spec = BlockSpec(
            domain=args.domain,
            severity=args.severity,
            reject_media=args.reject_media,
            reject_reports=args.reject_reports,
            obfuscate=args.obfuscate,
            private_comment=args.private_comment,
            public_comment=args.public_comment,
        )
        r = await domains.block(m, spec, by=BY, now=now)
        verb = "blocked" if r.created else "changed the block of"
        return (
            f"{verb} {r.block.domain} ({r.block.severity}{_flags(r.block)}): "
            f"{r.accounts_marked} accounts marked, {r.follows_severed} follows ended, "
            f"{r.deliveries_dropped} deliveries dropped"
        )
    if cmd == "unblock":
        cleared = await domains.unblock(m, args.domain, by=BY, now=now)
        return f"unblocked {args.domain.strip().lower()}: {cleared} accounts unmarked"
    if cmd == "list":
        return await _list(m, as_json=args.json)
    if cmd == "import":
        changes = await domains.plan_import(m, listed, remove_missing=args.remove_missing)
        lines = [c.describe() for c in changes] or ["nothing to change"]
        if args.dry_run:
            return "\n".join(["dry run, nothing changed:", *lines])
        await domains.apply_changes(m, changes, by=BY, now=now, source=args.file)
        return "\n".join([*lines, f"{len(changes)} changes applied"])
    if cmd == "purge":
        if not args.yes:
            raise CommandError(
                "purging deletes what is stored from the domain for good; add --yes to confirm"
            )
        count = await domains.purge(m, args.domain, by=BY, now=now)
        return f"purged {count} accounts of {args.domain.strip().lower()}"
    if cmd == "allow":
        row = await domains.allow(m, args.domain, by=BY, now=now)
        return f"allowed {row.domain}"
    if cmd == "disallow":
        found = await domains.find_allow(m, args.domain)
        await domains.disallow(m, found.id, by=BY, now=now)
        return f"no longer allowed: {found.domain}"
    if cmd == "subscribe":
        made = await domains.subscribe(m, args.url, by=BY, now=now)
        return f"subscribed to {made.url} (#{made.id}); `agora-node domain refresh` fetches it now"
    if cmd == "subscriptions":
        rows = await domains.subscriptions(m)
        lines = [
            f"#{r.id} {r.url} last fetched {_when(r.fetched_at) if r.fetched_at else 'never'}"
            + (f" (failed: {r.last_error})" if r.last_error else "")
            for r in rows
        ]
        return "\n".join(lines) or "no subscriptions"
    if cmd == "unsubscribe":
        sub = await domains.find_subscription(m, args.subscription)
        lifted = await domains.unsubscribe(m, sub, by=BY, now=now)
        return f"unsubscribed from {sub.url}: {lifted} blocks lifted"
    raise CommandError("unknown domain command")


async def _refresh(settings: Settings, m: Moderation, args: argparse.Namespace) -> str:
    """``domain refresh``: fetched through the node's own guarded client."""
    rows = (
        [await domains.find_subscription(m, args.subscription)]
        if args.subscription
        else await domains.subscriptions(m)
    )
    if not rows:
        return "no subscriptions"
    lines = []
    async with running_services(settings, m.db) as services:
        fetch = domains.list_fetcher(services.session, services.policy)
        for row in rows:
            if args.dry_run:
                changes = await domains.plan_refresh(m, row, fetch)
                lines.append(f"{row.url}: dry run, nothing changed")
            else:
                changes = await domains.refresh(m, row, fetch, by=BY, now=time.time())
                lines.append(f"{row.url}: {len(changes)} changes applied")
            lines += [f"  {c.describe()}" for c in changes] or ["  nothing to change"]
    return "\n".join(lines)


async def _list(m: Moderation, *, as_json: bool) -> str:
    rows = await domains.blocks(m)
    allows = await domains.allows(m)
    if as_json:
        return json.dumps(
            {
                "blocks": [
                    {
                        "domain": b.domain,
                        "severity": b.severity,
                        "reject_media": b.reject_media,
                        "reject_reports": b.reject_reports,
                        "obfuscate": b.obfuscate,
                        "private_comment": b.private_comment,
                        "public_comment": b.public_comment,
                        "created_at": b.created_at,
                    }
                    for b in rows
                ],
                "allows": [a.domain for a in allows],
            },
            indent=2,
        )
    lines = [f"{b.domain} {b.severity}{_flags(b)}" for b in rows] or ["no domain blocks"]
    lines += [f"{a.domain} allowed" for a in allows]
    return "\n".join(lines)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def cmd_audit(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 10_000:
        raise CommandError("--limit must be between 1 and 10000")
    settings = load(args.config)
    db: Database = open_db(settings)
    try:
        rows = db.read_sync(lambda c: audit.entries(c, limit=args.limit, action_prefix=args.action))
    finally:
        db.close()
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
        return 0
    if not rows:
        print("the moderation log is empty")
    for r in rows:
        why = f" because {r.reason!r}" if r.reason else ""
        print(f"{_when(r.created_at)} {r.by}: {r.action} {r.target}{why}")
    return 0
