"""The social graph and its traces: follows, likes, blocks, notifications,
reports and featured posts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class Follow:
    id: int
    follower_uri: str
    followee_uri: str
    activity_uri: str | None
    state: str


def _follow(row: tuple[object, ...]) -> Follow:
    return Follow(int(row[0]), str(row[1]), str(row[2]), row[3], str(row[4]))  # type: ignore[arg-type,call-overload]


def put_follow(
    db: sqlite_utils.Database,
    follower_uri: str,
    followee_uri: str,
    activity_uri: str | None,
    state: str,
    now: float,
) -> None:
    """Create or refresh a follow (a repeated Follow updates the activity id)."""
    db.execute(
        "INSERT INTO follows (follower_uri, followee_uri, activity_uri, state, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(follower_uri, followee_uri) DO UPDATE SET "
        "activity_uri = excluded.activity_uri, "
        "state = CASE WHEN follows.state = 'accepted' THEN 'accepted' ELSE excluded.state END",
        [follower_uri, followee_uri, activity_uri, state, now],
    )


def get_follow(db: sqlite_utils.Database, follower_uri: str, followee_uri: str) -> Follow | None:
    row = db.execute(
        "SELECT id, follower_uri, followee_uri, activity_uri, state FROM follows "
        "WHERE follower_uri = ? AND followee_uri = ?",
        [follower_uri, followee_uri],
    ).fetchone()
    return _follow(row) if row else None


def get_follow_by_activity(db: sqlite_utils.Database, activity_uri: str) -> Follow | None:
    row = db.execute(
        "SELECT id, follower_uri, followee_uri, activity_uri, state FROM follows "
        "WHERE activity_uri = ?",
        [activity_uri],
    ).fetchone()
    return _follow(row) if row else None


def set_follow_state(db: sqlite_utils.Database, follow_id: int, state: str) -> None:
    db.execute("UPDATE follows SET state = ? WHERE id = ?", [state, follow_id])


def delete_follow(db: sqlite_utils.Database, follower_uri: str, followee_uri: str) -> bool:
    cur = db.execute(
        "DELETE FROM follows WHERE follower_uri = ? AND followee_uri = ?",
        [follower_uri, followee_uri],
    )
    return cur.rowcount > 0


def delete_follows_between(db: sqlite_utils.Database, a: str, b: str) -> int:
    cur = db.execute(
        "DELETE FROM follows WHERE (follower_uri = ? AND followee_uri = ?) "
        "OR (follower_uri = ? AND followee_uri = ?)",
        [a, b, b, a],
    )
    return cur.rowcount


def delete_follows_of_actor(db: sqlite_utils.Database, actor_uri: str) -> int:
    cur = db.execute(
        "DELETE FROM follows WHERE follower_uri = ? OR followee_uri = ?", [actor_uri, actor_uri]
    )
    return cur.rowcount


def follower_inboxes(db: sqlite_utils.Database, followee_uri: str) -> list[tuple[str, str]]:
    """(inbox, host) of every remote follower, shared inboxes deduplicated."""
    rows = db.execute(
        "SELECT DISTINCT coalesce(a.shared_inbox, a.inbox), a.host FROM follows f "
        "JOIN actors a ON a.uri = f.follower_uri "
        "WHERE f.followee_uri = ? AND f.state = 'accepted' AND a.local = 0 "
        "AND a.deleted_at IS NULL AND coalesce(a.shared_inbox, a.inbox) IS NOT NULL",
        [followee_uri],
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def set_follow_options(
    db: sqlite_utils.Database,
    follower_uri: str,
    followee_uri: str,
    *,
    show_reblogs: bool | None,
    notify: bool | None,
) -> None:
    """Change what the follower asked of a follow (None leaves an option as it is)."""
    db.execute(
        "UPDATE follows SET show_reblogs = coalesce(?, show_reblogs), notify = coalesce(?, notify) "
        "WHERE follower_uri = ? AND followee_uri = ?",
        [
            None if show_reblogs is None else int(show_reblogs),
            None if notify is None else int(notify),
            follower_uri,
            followee_uri,
        ],
    )


def local_followers_to_notify(db: sqlite_utils.Database, followee_uri: str) -> list[str]:
    """Local accepted followers who asked to hear of each new post of ``followee_uri``."""
    rows = db.execute(
        "SELECT f.follower_uri FROM follows f JOIN actors a ON a.uri = f.follower_uri "
        "WHERE f.followee_uri = ? AND f.state = 'accepted' AND f.notify = 1 AND a.local = 1",
        [followee_uri],
    ).fetchall()
    return [str(r[0]) for r in rows]


def local_followers_of(db: sqlite_utils.Database, followee_uri: str) -> list[str]:
    rows = db.execute(
        "SELECT f.follower_uri FROM follows f JOIN actors a ON a.uri = f.follower_uri "
        "WHERE f.followee_uri = ? AND f.state = 'accepted' AND a.local = 1",
        [followee_uri],
    ).fetchall()
    return [str(r[0]) for r in rows]


def move_local_follows(db: sqlite_utils.Database, old_uri: str, new_uri: str) -> list[str]:
    """Point local followers of ``old_uri`` at ``new_uri``; returns their actor URIs."""
    movers = local_followers_of(db, old_uri)
    for follower in movers:
        db.execute(
            "DELETE FROM follows WHERE follower_uri = ? AND followee_uri = ?", [follower, old_uri]
        )
    return movers


# -- likes ------------------------------------------------------------------------


def put_like(
    db: sqlite_utils.Database, actor_uri: str, object_uri: str, activity_uri: str, now: float
) -> bool:
    cur = db.execute(
        "INSERT INTO likes (actor_uri, object_uri, activity_uri, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [actor_uri, object_uri, activity_uri, now],
    )
    return cur.rowcount == 1


def delete_like(db: sqlite_utils.Database, actor_uri: str, object_uri: str) -> bool:
    cur = db.execute(
        "DELETE FROM likes WHERE actor_uri = ? AND object_uri = ?", [actor_uri, object_uri]
    )
    return cur.rowcount > 0


def delete_like_by_activity(db: sqlite_utils.Database, activity_uri: str, actor_uri: str) -> bool:
    cur = db.execute(
        "DELETE FROM likes WHERE activity_uri = ? AND actor_uri = ?", [activity_uri, actor_uri]
    )
    return cur.rowcount > 0


def get_like_activity(db: sqlite_utils.Database, actor_uri: str, object_uri: str) -> str | None:
    row = db.execute(
        "SELECT activity_uri FROM likes WHERE actor_uri = ? AND object_uri = ?",
        [actor_uri, object_uri],
    ).fetchone()
    return str(row[0]) if row else None


# -- blocks -----------------------------------------------------------------------


def put_block(
    db: sqlite_utils.Database, actor_uri: str, target_uri: str, activity_uri: str | None, now: float
) -> None:
    db.execute(
        "INSERT INTO blocks (actor_uri, target_uri, activity_uri, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(actor_uri, target_uri) DO UPDATE SET activity_uri = excluded.activity_uri",
        [actor_uri, target_uri, activity_uri, now],
    )


def delete_block(db: sqlite_utils.Database, actor_uri: str, target_uri: str) -> bool:
    cur = db.execute(
        "DELETE FROM blocks WHERE actor_uri = ? AND target_uri = ?", [actor_uri, target_uri]
    )
    return cur.rowcount > 0


def get_block_activity(db: sqlite_utils.Database, actor_uri: str, target_uri: str) -> str | None:
    row = db.execute(
        "SELECT activity_uri FROM blocks WHERE actor_uri = ? AND target_uri = ?",
        [actor_uri, target_uri],
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def is_blocked(db: sqlite_utils.Database, actor_uri: str, target_uri: str) -> bool:
    """True when ``actor_uri`` blocks ``target_uri``."""
    row = db.execute(
        "SELECT 1 FROM blocks WHERE actor_uri = ? AND target_uri = ?", [actor_uri, target_uri]
    ).fetchone()
    return row is not None


# -- notifications, reports, featured ---------------------------------------------


def add_notification(
    db: sqlite_utils.Database,
    account_id: int,
    type: str,
    from_actor_uri: str,
    object_uri: str | None,
    activity_uri: str | None,
    now: float,
) -> int:
    cur = db.execute(
        "INSERT INTO notifications (account_id, type, from_actor_uri, object_uri, activity_uri, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [account_id, type, from_actor_uri, object_uri, activity_uri, now],
    )
    return int(cur.lastrowid or 0)


def delete_notifications_for_activity(db: sqlite_utils.Database, activity_uri: str) -> None:
    db.execute("DELETE FROM notifications WHERE activity_uri = ?", [activity_uri])


def add_featured(db: sqlite_utils.Database, actor_uri: str, object_uri: str, now: float) -> None:
    db.execute(
        "INSERT INTO featured (actor_uri, object_uri, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [actor_uri, object_uri, now],
    )


def remove_featured(db: sqlite_utils.Database, actor_uri: str, object_uri: str) -> None:
    db.execute(
        "DELETE FROM featured WHERE actor_uri = ? AND object_uri = ?", [actor_uri, object_uri]
    )


def delete_likes_by_actor(db: sqlite_utils.Database, actor_uri: str) -> int:
    cur = db.execute("DELETE FROM likes WHERE actor_uri = ?", [actor_uri])
    return cur.rowcount


def delete_notifications_from_actor(db: sqlite_utils.Database, from_actor_uri: str) -> int:
    cur = db.execute("DELETE FROM notifications WHERE from_actor_uri = ?", [from_actor_uri])
    return cur.rowcount


def delete_notifications_for_object(
    db: sqlite_utils.Database, object_uri: str, from_actor_uri: str
) -> int:
    """Notifications ``from_actor_uri`` caused about ``object_uri`` (a post they deleted)."""
    cur = db.execute(
        "DELETE FROM notifications WHERE object_uri = ? AND from_actor_uri = ?",
        [object_uri, from_actor_uri],
    )
    return cur.rowcount
