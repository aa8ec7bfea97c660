"""What the instance endpoints of the client API report about this node."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

WEEK = 7 * 86400
_CHANGES_KEY = "instance_settings"


def instance_changes(db: sqlite_utils.Database) -> dict[str, Any]:
    """What the admin changed of the instance's settings (name, rules...)."""
    row = db.execute("SELECT value FROM instance_state WHERE key = ?", [_CHANGES_KEY]).fetchone()
    found = json.loads(row[0]) if row else {}
    return found if isinstance(found, dict) else {}


def put_instance_changes(db: sqlite_utils.Database, changes: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO instance_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [_CHANGES_KEY, json.dumps(changes)],
    )


def instance_stats(db: sqlite_utils.Database) -> tuple[int, int, int]:
    """(local accounts, local posts, other servers we know of)."""
    users = db.execute("SELECT count(*) FROM accounts WHERE deleted_at IS NULL").fetchone()[0]
    posts = db.execute(
        "SELECT count(*) FROM objects WHERE local = 1 AND deleted_at IS NULL AND boost_of IS NULL"
    ).fetchone()[0]
    domains = db.execute(
        "SELECT count(DISTINCT host) FROM actors WHERE deleted_at IS NULL AND host NOT IN "
        "(SELECT a.host FROM actors a JOIN accounts l ON l.actor_id = a.id)"
    ).fetchone()[0]
    return int(users), int(posts), int(domains)


def peer_domains(db: sqlite_utils.Database, limit: int = 10_000) -> list[str]:
    """The servers whose accounts we know, alphabetically."""
    rows = db.execute(
        "SELECT DISTINCT host FROM actors WHERE deleted_at IS NULL AND host NOT IN "
        "(SELECT a.host FROM actors a JOIN accounts l ON l.actor_id = a.id) "
        "ORDER BY host LIMIT ?",
        [limit],
    ).fetchall()
    return [str(r[0]) for r in rows]


def weekly_activity(
    db: sqlite_utils.Database, now: float, weeks: int = 12
) -> list[tuple[float, int, int, int]]:
    """(week start, local posts, accounts that signed in, new accounts) for the
    last ``weeks`` weeks, newest first. A sign-in is a token issued that week."""
    start = now - weeks * WEEK

    def per_week(sql: str) -> dict[int, int]:
        rows = db.execute(sql, {"start": start, "week": WEEK}).fetchall()
        return {int(r[0]): int(r[1]) for r in rows}

    posts = per_week(
        "SELECT CAST((published - :start) / :week AS INTEGER), count(*) FROM objects "
        "WHERE local = 1 AND boost_of IS NULL AND published >= :start GROUP BY 1"
    )
    logins = per_week(
        "SELECT CAST((created_at - :start) / :week AS INTEGER), count(DISTINCT account_id) "
        "FROM api_tokens WHERE created_at >= :start GROUP BY 1"
    )
    signups = per_week(
        "SELECT CAST((created_at - :start) / :week AS INTEGER), count(*) FROM accounts "
        "WHERE created_at >= :start GROUP BY 1"
    )
    return [
        (start + i * WEEK, posts.get(i, 0), logins.get(i, 0), signups.get(i, 0))
        for i in reversed(range(weeks))
    ]
