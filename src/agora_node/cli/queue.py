"""``agora-node queue ...``: the outgoing delivery queue per host, retried or
purged, and one line for inbound activities not processed yet."""

from __future__ import annotations

import argparse

from agora_node.cli.common import load, open_db
from agora_node.errors import CommandError
from agora_node.protocol.hosts import normalise_host
from agora_node.store import deliveries as deliveries_store
from agora_node.store import jobs as jobs_store
from agora_node.store import spool as spool_store
from agora_node.workers.inbox import INBOX_JOB

_QUEUE_COLUMNS = ("pending", "retrying", "sending", "failed")
_PURGE_STATES = {
    "failed": ("failed",),
    "pending": ("pending",),
    "done": ("done",),
    "all": ("pending", "failed", "done"),
}


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    queue = sub.add_parser("queue", help="show, retry or purge outgoing deliveries")
    queue_sub = queue.add_subparsers(dest="queue_cmd")
    retry = queue_sub.add_parser("retry", help="send failed deliveries again")
    retry.add_argument("--host", help="only deliveries to this host (and revive it)")
    purge = queue_sub.add_parser("purge", help="delete deliveries from the queue")
    purge.add_argument("--host", help="only deliveries to this host")
    purge.add_argument("--state", default="failed", choices=sorted(_PURGE_STATES))


def _host_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_host(value)
    except ValueError:
        raise CommandError(f"not a host name: {value!r}") from None


def _print_queue(rows: list[tuple[str, str, int]]) -> None:
    if not rows:
        print("the delivery queue is empty")
        return
    table: dict[str, dict[str, int]] = {}
    for host, state, count in rows:
        column = "sending" if state == "running" else state
        table.setdefault(host, dict.fromkeys(_QUEUE_COLUMNS, 0))[column] = count
    width = max(len("host"), *(len(h) for h in table))
    print("host".ljust(width), *(c.rjust(8) for c in _QUEUE_COLUMNS))
    for host, counts in table.items():
        print(host.ljust(width), *(str(counts.get(c, 0)).rjust(8) for c in _QUEUE_COLUMNS))


def cmd_queue(args: argparse.Namespace) -> int:
    settings = load(args.config)
    host = _host_option(getattr(args, "host", None))
    to_host = f" for {host}" if host else ""
    db = open_db(settings)
    try:
        if args.queue_cmd == "retry":
            count = db.write_sync(lambda c: deliveries_store.retry_failed_deliveries(c, host))
            print(f"requeued {count} failed deliveries{to_host}")
            if count and host is None:
                print("hosts marked unavailable stay paused: retry with --host to revive one")
            return 0
        if args.queue_cmd == "purge":
            states = _PURGE_STATES[args.state]
            count = db.write_sync(lambda c: deliveries_store.purge_deliveries(c, host, states))
            print(f"purged {count} {args.state} deliveries{to_host}")
            return 0
        _print_queue(db.read_sync(deliveries_store.delivery_summary))
        cursors, finished = db.read_sync(jobs_store.spool_cursors)
        spooled = spool_store.count_waiting(settings.database.path, cursors, finished)
        jobs = db.read_sync(lambda c: jobs_store.job_counts(c, INBOX_JOB))
        print(
            f"inbox: {spooled} spooled, {jobs.get('pending', 0)} pending, "
            f"{jobs.get('running', 0)} running, {jobs.get('failed', 0)} failed"
        )
        return 0
    finally:
        db.close()
