"""Leases on queued rows (jobs, deliveries): claimed rows run until ``locked_until``.

A worker that dies leaves its lease to expire and the row is claimed again.
"""

from __future__ import annotations

import sqlite_utils

LEASED_TABLES = frozenset({"jobs", "deliveries"})


def take_leases(db: sqlite_utils.Database, table: str, ids: list[int], locked_until: float) -> None:
    """Mark rows running until ``locked_until`` and count one more attempt each."""
    if table not in LEASED_TABLES:
        raise ValueError(f"{table} has no leases")
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    db.execute(
        f"UPDATE {table} SET state = 'running', locked_until = ?, attempts = attempts + 1 "
        f"WHERE id IN ({marks})",
        [locked_until, *ids],
    )
