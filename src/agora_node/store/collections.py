"""Collections of a local actor: outbox, followers, following, featured.

Pages are keyed by row id, newest first: ``max_id`` gives the page of items
older than it, ``min_id`` the page of items just newer than it (for ``prev``
links). Links stay stable while new items arrive.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlite_utils

# (row id, item) pairs of one collection page, newest first.
Rows = list[tuple[int, Any]]

_NOT_DELETED = " ".join(
    [
        "(object_uri IS NULL OR object_uri NOT IN",
        "(SELECT uri FROM objects WHERE deleted_at IS NOT NULL))",
    ]
)


def page_rows(
    db: sqlite_utils.Database,
    select: str,
    where: str,
    params: list[Any],
    max_id: int | None,
    min_id: int | None,
    limit: int,
    convert: Callable[[Any], Any] = lambda v: v,
) -> Rows:
    if min_id is not None:
        rows = db.execute(
            f"{select} WHERE {where} AND id > ? ORDER BY id ASC LIMIT ?", [*params, min_id, limit]
        ).fetchall()
        rows.reverse()
    else:
        upper = max_id if max_id is not None else 2**62
        rows = db.execute(
            f"{select} WHERE {where} AND id < ? ORDER BY id DESC LIMIT ?", [*params, upper, limit]
        ).fetchall()
    return [(int(r[0]), convert(r[1])) for r in rows]


def count_rows(db: sqlite_utils.Database, table: str, where: str, params: list[Any]) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0])


def _outbox_where(visibilities: tuple[str, ...]) -> str:
    marks = ",".join("?" * len(visibilities))
    return (
        "actor_uri = ? AND local = 1 AND type IN ('Create','Announce') "
        f"AND visibility IN ({marks}) AND {_NOT_DELETED} "
        # An undone boost leaves its activity behind but not its boost row.
        "AND (type <> 'Announce' OR uri IN (SELECT uri FROM objects))"
    )


def count_outbox(db: sqlite_utils.Database, actor_uri: str, visibilities: tuple[str, ...]) -> int:
    return count_rows(db, "activities", _outbox_where(visibilities), [actor_uri, *visibilities])


def outbox_page(
    db: sqlite_utils.Database,
    actor_uri: str,
    visibilities: tuple[str, ...],
    max_id: int | None,
    min_id: int | None,
    limit: int,
) -> Rows:
    return page_rows(
        db,
        "SELECT id, data FROM activities",
        _outbox_where(visibilities),
        [actor_uri, *visibilities],
        max_id,
        min_id,
        limit,
        json.loads,
    )


def count_followers(db: sqlite_utils.Database, actor_uri: str) -> int:
    return count_rows(db, "follows", "followee_uri = ? AND state = 'accepted'", [actor_uri])


def followers_page(
    db: sqlite_utils.Database, actor_uri: str, max_id: int | None, min_id: int | None, limit: int
) -> Rows:
    return page_rows(
        db,
        "SELECT id, follower_uri FROM follows",
        "followee_uri = ? AND state = 'accepted'",
        [actor_uri],
        max_id,
        min_id,
        limit,
    )


def count_following(db: sqlite_utils.Database, actor_uri: str) -> int:
    return count_rows(db, "follows", "follower_uri = ? AND state = 'accepted'", [actor_uri])


def following_page(
    db: sqlite_utils.Database, actor_uri: str, max_id: int | None, min_id: int | None, limit: int
) -> Rows:
    return page_rows(
        db,
        "SELECT id, followee_uri FROM follows",
        "follower_uri = ? AND state = 'accepted'",
        [actor_uri],
        max_id,
        min_id,
        limit,
    )


def count_featured(db: sqlite_utils.Database, actor_uri: str) -> int:
    return count_rows(db, "featured", "actor_uri = ?", [actor_uri])


def featured_page(
    db: sqlite_utils.Database, actor_uri: str, max_id: int | None, min_id: int | None, limit: int
) -> Rows:
    return page_rows(
        db,
        "SELECT id, object_uri FROM featured",
        "actor_uri = ?",
        [actor_uri],
        max_id,
        min_id,
        limit,
    )
