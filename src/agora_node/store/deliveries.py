"""Outgoing deliveries: one row per (activity, inbox), and per-host health.

Rows are written in the same transaction as the activity they deliver, so a
post is never stored without its deliveries (nor the reverse).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.leases import take_leases


@dataclass(frozen=True)
class Delivery:
    id: int
    activity_uri: str
    inbox: str
    host: str
    signer_account_id: int | None
    attempts: int


@dataclass(frozen=True)
class HostState:
    host: str
    failure_days: tuple[str, ...]
    unavailable: bool
    consecutive_failures: int
    circuit_open_until: float | None
    signature_scheme: str | None


def add_deliveries(
    db: sqlite_utils.Database,
    activity_uri: str,
    inboxes: list[tuple[str, str]],
    signer_account_id: int | None,
    now: float | None = None,
) -> int:
    """Queue ``(inbox, host)`` pairs for one activity; duplicates are ignored."""
    when = now or time.time()
    cur = db.conn.executemany(
        "INSERT INTO deliveries (activity_uri, inbox, host, signer_account_id, state, "
        "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?) "
        "ON CONFLICT(activity_uri, inbox) DO NOTHING",
        [(activity_uri, inbox, host, signer_account_id, when, when) for inbox, host in inboxes],
    )
    return cur.rowcount


def claim_due_deliveries(
    db: sqlite_utils.Database, now: float, limit: int, lease_seconds: float
) -> list[Delivery]:
    rows = db.execute(
        "SELECT d.id, d.activity_uri, d.inbox, d.host, d.signer_account_id, d.attempts "
        "FROM deliveries d LEFT JOIN hosts h ON h.host = d.host "
        "WHERE ((d.state = 'pending' AND d.next_attempt_at <= ?) "
        "OR (d.state = 'running' AND d.locked_until < ?)) "
        "AND coalesce(h.unavailable, 0) = 0 AND coalesce(h.circuit_open_until, 0) <= ? "
        "ORDER BY d.next_attempt_at, d.id LIMIT ?",
        [now, now, now, limit],
    ).fetchall()
    if not rows:
        return []
    take_leases(db, "deliveries", [r[0] for r in rows], now + lease_seconds)
    return [Delivery(r[0], r[1], r[2], r[3], r[4], r[5] + 1) for r in rows]


def next_delivery_due_at(db: sqlite_utils.Database) -> float | None:
    row = db.execute(
        "SELECT min(CASE WHEN state = 'pending' THEN next_attempt_at ELSE locked_until END) "
        "FROM deliveries WHERE state IN ('pending', 'running')"
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def finish_delivery(
    db: sqlite_utils.Database, delivery_id: int, state: str, status: int | None, error: str | None
) -> None:
    """``state`` is 'done' or 'failed' (given up)."""
    db.execute(
        "UPDATE deliveries SET state = ?, last_status = ?, last_error = ?, finished_at = ?, "
        "locked_until = NULL WHERE id = ?",
        [state, status, error, time.time(), delivery_id],
    )


def retry_delivery(
    db: sqlite_utils.Database,
    delivery_id: int,
    next_attempt_at: float,
    status: int | None,
    error: str | None,
) -> None:
    db.execute(
        "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, last_status = ?, "
        "last_error = ?, locked_until = NULL WHERE id = ?",
        [next_attempt_at, status, error, delivery_id],
    )


def release_running_deliveries(db: sqlite_utils.Database) -> int:
    cur = db.execute(
        "UPDATE deliveries SET state = 'pending', locked_until = NULL, "
        "attempts = max(attempts - 1, 0) WHERE state = 'running'"
    )
    return cur.rowcount


def release_orphaned_deliveries(db: sqlite_utils.Database) -> int:
    """At start-up, free the leases a killed predecessor left on 'running' rows.

    A node owns its database file, so before its worker claims anything every
    'running' row belongs to a process that is gone; waiting for the lease to
    expire would only delay the rest of a fan-out. ``attempts`` is kept (the
    dead process may have sent the request).
    """
    cur = db.execute(
        "UPDATE deliveries SET state = 'pending', locked_until = NULL WHERE state = 'running'"
    )
    return cur.rowcount


def delivery_summary(db: sqlite_utils.Database) -> list[tuple[str, str, int]]:
    """(host, state, count) for the queue command; 'retrying' = pending with attempts."""
    rows = db.execute(
        "SELECT host, CASE WHEN state = 'pending' AND attempts > 0 THEN 'retrying' ELSE state END "
        "AS s, count(*) FROM deliveries WHERE state != 'done' GROUP BY host, s ORDER BY host, s"
    ).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def troubled_hosts(db: sqlite_utils.Database, limit: int = 50) -> list[dict[str, Any]]:
    """Hosts deliveries are failing to: marked unavailable, or failing now."""
    rows = db.execute(
        "SELECT host, consecutive_failures, unavailable, circuit_open_until, last_success_at "
        "FROM hosts WHERE unavailable = 1 OR consecutive_failures > 0 "
        "ORDER BY unavailable DESC, consecutive_failures DESC, host LIMIT ?",
        [limit],
    ).fetchall()
    keys = ("host", "failures", "unavailable", "circuit_open_until", "last_success_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def retry_failed_deliveries(db: sqlite_utils.Database, host: str | None) -> int:
    where = "state = 'failed'" + (" AND host = ?" if host else "")
    cur = db.execute(
        f"UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = ? WHERE {where}",
        [time.time(), *([host] if host else [])],
    )
    if host:
        revive_host(db, host)
    return cur.rowcount


def purge_deliveries(db: sqlite_utils.Database, host: str | None, states: tuple[str, ...]) -> int:
    marks = ",".join("?" * len(states))
    where = f"state IN ({marks})" + (" AND host = ?" if host else "")
    cur = db.execute(f"DELETE FROM deliveries WHERE {where}", [*states, *([host] if host else [])])
    return cur.rowcount


# -- hosts ------------------------------------------------------------------


def get_host_state(db: sqlite_utils.Database, host: str) -> HostState | None:
    row = db.execute(
        "SELECT host, failure_days, unavailable, consecutive_failures, circuit_open_until, "
        "signature_scheme FROM hosts WHERE host = ?",
        [host],
    ).fetchone()
    if not row:
        return None
    return HostState(row[0], tuple(json.loads(row[1])), bool(row[2]), int(row[3]), row[4], row[5])


def _ensure_host(db: sqlite_utils.Database, host: str) -> None:
    db.execute("INSERT INTO hosts (host) VALUES (?) ON CONFLICT(host) DO NOTHING", [host])


def record_host_success(db: sqlite_utils.Database, host: str, now: float) -> None:
    _ensure_host(db, host)
    db.execute(
        "UPDATE hosts SET failure_days = '[]', unavailable = 0, consecutive_failures = 0, "
        "circuit_open_until = NULL, last_success_at = ? WHERE host = ?",
        [now, host],
    )


def record_host_failure(
    db: sqlite_utils.Database,
    host: str,
    day: str,
    *,
    unavailable_after_days: int,
    circuit_failures: int,
    circuit_open_until: float,
) -> HostState:
    """Count one failure: a distinct-day tally and a circuit breaker."""
    _ensure_host(db, host)
    state = get_host_state(db, host)
    assert state is not None
    days = list(state.failure_days)
    if day not in days:
        days.append(day)
    failures = state.consecutive_failures + 1
    unavailable = len(days) >= unavailable_after_days
    open_until = circuit_open_until if failures >= circuit_failures else state.circuit_open_until
    db.execute(
        "UPDATE hosts SET failure_days = ?, unavailable = ?, consecutive_failures = ?, "
        "circuit_open_until = ? WHERE host = ?",
        [json.dumps(days[-30:]), int(unavailable), failures, open_until, host],
    )
    return HostState(host, tuple(days), unavailable, failures, open_until, state.signature_scheme)


def revive_host(db: sqlite_utils.Database, host: str) -> None:
    """Any success or valid inbound request from a host makes it available again."""
    db.execute(
        "UPDATE hosts SET failure_days = '[]', unavailable = 0, consecutive_failures = 0, "
        "circuit_open_until = NULL "
        "WHERE host = ? AND (unavailable = 1 OR consecutive_failures > 0)",
        [host],
    )


def set_host_signature_scheme(db: sqlite_utils.Database, host: str, scheme: str) -> None:
    _ensure_host(db, host)
    db.execute("UPDATE hosts SET signature_scheme = ? WHERE host = ?", [scheme, host])


def activity_json(db: sqlite_utils.Database, activity_uri: str) -> dict[str, Any] | None:
    row = db.execute("SELECT data FROM activities WHERE uri = ?", [activity_uri]).fetchone()
    return json.loads(row[0]) if row else None
