"""What the client API keeps for one person: read markers, bookmarks, and the
posts created under an Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

MARKER_TIMELINES = ("home", "notifications")
# How long a key stands for the post it created (Mastodon keeps them an hour).
IDEMPOTENCY_SECONDS = 3600


@dataclass(frozen=True)
class MarkerRow:
    timeline: str
    last_read_id: int
    version: int
    updated_at: float


def get_markers(
    db: sqlite_utils.Database, account_id: int, timelines: tuple[str, ...]
) -> list[MarkerRow]:
    marks = ",".join("?" * len(timelines))
    rows = db.execute(
        f"SELECT timeline, last_read_id, version, updated_at FROM markers "
        f"WHERE account_id = ? AND timeline IN ({marks})",
        [account_id, *timelines],
    ).fetchall()
    return [MarkerRow(str(r[0]), int(r[1]), int(r[2]), float(r[3])) for r in rows]


def set_marker(
    db: sqlite_utils.Database, account_id: int, timeline: str, last_read_id: int, now: float
) -> None:
    """Move a read marker (a new one starts at version 1, each move adds one)."""
    db.execute(
        "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) "
        "VALUES (?, ?, ?, 1, ?) ON CONFLICT(account_id, timeline) DO UPDATE SET "
        "last_read_id = excluded.last_read_id, version = version + 1, "
        "updated_at = excluded.updated_at",
        [account_id, timeline, last_read_id, now],
    )


def add_bookmark(db: sqlite_utils.Database, actor_uri: str, object_uri: str, now: float) -> None:
    db.execute(
        "INSERT INTO bookmarks (actor_uri, object_uri, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT(actor_uri, object_uri) DO NOTHING",
        [actor_uri, object_uri, now],
    )


def remove_bookmark(db: sqlite_utils.Database, actor_uri: str, object_uri: str) -> None:
    db.execute(
        "DELETE FROM bookmarks WHERE actor_uri = ? AND object_uri = ?", [actor_uri, object_uri]
    )


def bookmarked_among(db: sqlite_utils.Database, actor_uri: str, uris: list[str]) -> set[str]:
    if not uris:
        return set()
    marks = ",".join("?" * len(uris))
    rows = db.execute(
        f"SELECT object_uri FROM bookmarks WHERE actor_uri = ? AND object_uri IN ({marks})",
        [actor_uri, *uris],
    ).fetchall()
    return {str(r[0]) for r in rows}


def post_for_key(db: sqlite_utils.Database, account_id: int, key: str, now: float) -> str | None:
    """The post already created with this Idempotency-Key, if it is recent."""
    row = db.execute(
        "SELECT object_uri FROM idempotency_keys WHERE account_id = ? AND key = ? "
        "AND created_at > ?",
        [account_id, key, now - IDEMPOTENCY_SECONDS],
    ).fetchone()
    return str(row[0]) if row else None


def remember_key(
    db: sqlite_utils.Database, account_id: int, key: str, object_uri: str, now: float
) -> None:
    db.execute(
        "INSERT INTO idempotency_keys (account_id, key, object_uri, created_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(account_id, key) DO UPDATE SET "
        "object_uri = excluded.object_uri, created_at = excluded.created_at",
        [account_id, key, object_uri, now],
    )
    db.execute(
        "DELETE FROM idempotency_keys WHERE account_id = ? AND created_at <= ?",
        [account_id, now - IDEMPOTENCY_SECONDS],
    )
