"""The home timeline of a local actor, as its inbox collection lists it (C2S).

Create and Announce activities, newest first, whose post (and boost) is
still live: the actor's own, those of the accounts it follows (anything but
direct messages), and those addressed to it; never from an account it blocks.
"""

from __future__ import annotations

import json

import sqlite_utils

from agora_node.store.collections import Page, count_rows, page_rows

_WHERE = " ".join(
    [
        "a.type IN ('Create', 'Announce')",
        # The post (for a Create) or the boost (for an Announce) is still there...
        "AND EXISTS (SELECT 1 FROM objects o WHERE o.deleted_at IS NULL",
        "AND o.uri = CASE WHEN a.type = 'Create' THEN a.object_uri ELSE a.uri END)",
        # ...and so is the boosted post.
        "AND (a.type = 'Create' OR a.object_uri NOT IN",
        "(SELECT uri FROM objects WHERE deleted_at IS NOT NULL))",
        "AND a.actor_uri NOT IN (SELECT target_uri FROM blocks WHERE actor_uri = ?)",
        "AND (a.actor_uri = ?",
        "OR (a.visibility != 'direct' AND a.actor_uri IN",
        "(SELECT followee_uri FROM follows WHERE follower_uri = ? AND state = 'accepted'))",
        "OR a.object_uri IN (SELECT o.uri FROM objects o",
        "JOIN object_recipients r ON r.object_id = o.id WHERE r.actor_uri = ?))",
    ]
)


def count_home_timeline(db: sqlite_utils.Database, actor_uri: str) -> int:
    return count_rows(db, "activities a", _WHERE, [actor_uri] * 4)


def home_timeline_page(
    db: sqlite_utils.Database,
    actor_uri: str,
    max_id: int | None,
    min_id: int | None,
    limit: int,
) -> Page:
    """(row id, activity JSON) pairs, newest first, keyed like the other collections."""
    return page_rows(
        db,
        "SELECT a.id, a.data FROM activities a",
        _WHERE,
        [actor_uri] * 4,
        max_id,
        min_id,
        limit,
        json.loads,
    )
