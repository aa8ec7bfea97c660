"""The durable job table (inbox processing and other background work).

A job is claimed by setting a lease (``locked_until``); a worker that dies
leaves the lease to expire and the job is claimed again. ``dedupe_key`` makes
enqueueing idempotent: the same inbound activity id is queued once, ever.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.leases import take_leases

SPOOL_CURSOR_KEEP_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


_INSERT_JOB = (
    "INSERT INTO jobs (kind, dedupe_key, payload, state, run_at, created_at) "
    "VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT(dedupe_key) DO NOTHING"
)


def enqueue_job(
    db: sqlite_utils.Database,
    kind: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    run_at: float | None = None,
) -> bool:
    """Queue a job; returns False when one with the same dedupe key exists."""
    now = time.time()
    payload_json = json.dumps(payload, separators=(",", ":"))
    cur = db.execute(_INSERT_JOB, [kind, dedupe_key, payload_json, run_at or now, now])
    return cur.rowcount == 1


def move_spooled(
    db: sqlite_utils.Database,
    kind: str,
    generation: str,
    rows: Sequence[tuple[int, str, str, float]],
) -> int:
    """Queue spooled activities (``store/spool.py``) and advance the cursor past
    them, in the caller's transaction; a key queued before is skipped. Returns
    how many were queued."""
    if not rows:
        return 0
    cur = db.conn.executemany(
        _INSERT_JOB,
        [(kind, key, payload, received_at, received_at) for _, key, payload, received_at in rows],
    )
    db.execute(
        "INSERT INTO spool_cursor (generation, last_id) VALUES (?, ?) "
        "ON CONFLICT(generation) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
        [generation, rows[-1][0]],
    )
    return cur.rowcount


def finish_spool_segment(db: sqlite_utils.Database, generation: str, now: float) -> None:
    """Every row of that (sealed) spool segment is queued: the segment may go.

    Cursors of segments finished long ago are dropped here too; should such a
    segment still be on disk, reading it again queues nothing new."""
    db.execute(
        "INSERT INTO spool_cursor (generation, last_id, finished_at) VALUES (?, 0, ?) "
        "ON CONFLICT(generation) DO UPDATE SET finished_at = excluded.finished_at",
        [generation, now],
    )
    db.execute("DELETE FROM spool_cursor WHERE finished_at < ?", [now - SPOOL_CURSOR_KEEP_SECONDS])


def spool_cursors(db: sqlite_utils.Database) -> tuple[dict[str, int], set[str]]:
    """The last row queued from each spool segment, and the finished segments."""
    cursors: dict[str, int] = {}
    finished: set[str] = set()
    for generation, last_id, finished_at in db.execute(
        "SELECT generation, last_id, finished_at FROM spool_cursor"
    ).fetchall():
        cursors[str(generation)] = int(last_id)
        if finished_at is not None:
            finished.add(str(generation))
    return cursors, finished


def finished_spool_segments(db: sqlite_utils.Database, generations: list[str]) -> set[str]:
    marks = ",".join("?" * len(generations))
    rows = db.execute(
        "SELECT generation FROM spool_cursor "
        f"WHERE finished_at IS NOT NULL AND generation IN ({marks})",
        generations,
    ).fetchall()
    return {str(r[0]) for r in rows}


def claim_due_jobs(
    db: sqlite_utils.Database, kind: str, now: float, limit: int, lease_seconds: float
) -> list[Job]:
    """Claim up to ``limit`` due jobs (pending, or running with an expired lease)."""
    rows = db.execute(
        "SELECT id, kind, payload, attempts FROM jobs WHERE kind = ? AND "
        "((state = 'pending' AND run_at <= ?) OR (state = 'running' AND locked_until < ?)) "
        "ORDER BY run_at, id LIMIT ?",
        [kind, now, now, limit],
    ).fetchall()
    if not rows:
        return []
    take_leases(db, "jobs", [r[0] for r in rows], now + lease_seconds)
    return [Job(r[0], r[1], json.loads(r[2]), r[3] + 1) for r in rows]


def next_job_due_at(db: sqlite_utils.Database, kind: str) -> float | None:
    row = db.execute(
        "SELECT min(CASE WHEN state = 'pending' THEN run_at ELSE locked_until END) FROM jobs "
        "WHERE kind = ? AND state IN ('pending', 'running')",
        [kind],
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def complete_job(db: sqlite_utils.Database, job_id: int) -> None:
    db.execute(
        "UPDATE jobs SET state = 'done', finished_at = ?, locked_until = NULL, last_error = NULL "
        "WHERE id = ?",
        [time.time(), job_id],
    )


def retry_job(db: sqlite_utils.Database, job_id: int, run_at: float, error: str) -> None:
    db.execute(
        "UPDATE jobs SET state = 'pending', run_at = ?, locked_until = NULL, last_error = ? "
        "WHERE id = ?",
        [run_at, error[:2000], job_id],
    )


def fail_job(db: sqlite_utils.Database, job_id: int, error: str) -> None:
    db.execute(
        "UPDATE jobs SET state = 'failed', finished_at = ?, locked_until = NULL, last_error = ? "
        "WHERE id = ?",
        [time.time(), error[:2000], job_id],
    )


def release_running_jobs(db: sqlite_utils.Database, kind: str) -> int:
    """On graceful shutdown: hand claimed jobs back without counting an attempt."""
    cur = db.execute(
        "UPDATE jobs SET state = 'pending', locked_until = NULL, attempts = max(attempts - 1, 0) "
        "WHERE kind = ? AND state = 'running'",
        [kind],
    )
    return cur.rowcount


def job_counts(db: sqlite_utils.Database, kind: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT state, count(*) FROM jobs WHERE kind = ? GROUP BY state", [kind]
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
