"""``agora-node report ...``: the reports queue from the command line.

The same actions as the admin API (``actions/reports.py``); the moderation
log names the command line as the one who acted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime

from agora_node.actions import reports
from agora_node.actions.signups import Node
from agora_node.cli.common import load, open_db
from agora_node.errors import CommandError
from agora_node.protocol.urls import LocalUrls
from agora_node.store import reports as store
from agora_node.store.reports import ReportRow

BY = "cli"


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    report = sub.add_parser("report", help="work the reports queue")
    rsub = report.add_subparsers(dest="report_cmd", required=True)
    lst = rsub.add_parser("list", help="open reports, newest first")
    lst.add_argument("--resolved", action="store_true", help="resolved ones instead")
    lst.add_argument("--json", action="store_true")
    show = rsub.add_parser("show", help="one report with its notes")
    show.add_argument("id", type=int)
    note = rsub.add_parser("note", help="add a note for the other moderators")
    note.add_argument("id", type=int)
    note.add_argument("text")
    res = rsub.add_parser("resolve", help="close a report, acting on it first")
    res.add_argument("id", type=int)
    res.add_argument(
        "--action",
        choices=reports.ACTIONS,
        default="none",
        help="silence or suspend the reported account, or delete the reported posts",
    )
    res.add_argument("--comment", default="", help="for the reporter")
    reo = rsub.add_parser("reopen", help="reopen a resolved report")
    reo.add_argument("id", type=int)


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts else "-"


def _line(r: ReportRow) -> str:
    state = f"resolved ({r.action_taken})" if r.resolved_at else "open"
    posts = f", {len(r.status_uris)} posts" if r.status_uris else ""
    origin = "" if r.local else " [from another server]"
    return f"#{r.id} {_when(r.created_at)} {r.category}{posts}: {r.target_uri} {state}{origin}"


def cmd_report(args: argparse.Namespace) -> int:
    settings = load(args.config)
    db = open_db(settings)
    node = Node(db, LocalUrls(settings.base_url), settings.domain)
    try:
        print(asyncio.run(_run(node, args)))
    finally:
        db.close()
    return 0


async def _run(node: Node, args: argparse.Namespace) -> str:
    now = time.time()
    cmd = args.report_cmd
    if cmd == "list":
        rows = await node.db.read(
            lambda c: store.page_of_reports(
                c, resolved=args.resolved, lower=0, upper=2**62, limit=1000
            )
        )
        if args.json:
            return json.dumps([r.__dict__ for r in rows], indent=2)
        return "\n".join(_line(r) for r in rows) or "no reports"
    if cmd == "show":
        r = await reports.find(node, args.id)
        notes = await node.db.read(lambda c: store.notes_of(c, r.id))
        lines = [
            _line(r),
            f"reported by: {r.reporter_uri}",
            f"comment: {r.comment or '-'}",
            *(f"post: {u}" for u in r.status_uris),
            *(f"rule: {i}" for i in r.rule_ids),
        ]
        if r.resolved_at:
            lines.append(f"resolved by {r.action_taken_by} at {_when(r.resolved_at)}")
        lines += [f"note by {n.author} at {_when(n.created_at)}: {n.content}" for n in notes]
        return "\n".join(lines)
    if cmd == "note":
        await reports.note(node, args.id, args.text, by=BY, now=now)
        return f"noted on report #{args.id}"
    if cmd == "resolve":
        r, sent = await reports.resolve(
            node, args.id, action=args.action, by=None, comment=args.comment, now=now
        )
        told = f", {sent} deliveries queued" if sent else ""
        return f"resolved report #{r.id} ({args.action}){told}"
    if cmd == "reopen":
        await reports.reopen(node, args.id, by=BY, now=now)
        return f"reopened report #{args.id}"
    raise CommandError("unknown report command")
