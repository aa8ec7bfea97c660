"""What the streaming API reads: rows committed since it last looked.

New posts and boosts are new ``objects`` rows (their ids only grow); edits
and deletions are ``object_changes`` rows written in the same transaction as
the change; notifications are new ``notifications`` rows. Any process that
serves streams can follow all three by id, whichever process wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agora_node.store.notifications import (
    NOTIFICATION_COLUMNS,
    NotificationRow,
    notification_from_row,
    shown_notification,
)
from agora_node.store.objects import OBJECT_COLUMNS_OF_O as _O_COLUMNS
from agora_node.store.objects import ObjectRow, object_from_row


@dataclass(frozen=True)
class Marks:
    """The newest ids seen so far: objects, changes, notifications."""

    objects: int
    changes: int
    notifications: int


def current_marks(db: sqlite_utils.Database) -> Marks:
    row = db.execute(
        "SELECT (SELECT coalesce(max(id), 0) FROM objects), "
        "(SELECT coalesce(max(id), 0) FROM object_changes), "
        "(SELECT coalesce(max(id), 0) FROM notifications)"
    ).fetchone()
    return Marks(int(row[0]), int(row[1]), int(row[2]))


def new_posts(db: sqlite_utils.Database, after: int, upto: int, limit: int) -> list[ObjectRow]:
    """Live posts and boosts stored in rows (``after``, ``upto``], oldest first."""
    rows = db.execute(
        f"SELECT {_O_COLUMNS} FROM objects o WHERE o.id > ? AND o.id <= ? "
        "AND o.deleted_at IS NULL AND o.type <> 'Tombstone' ORDER BY o.id LIMIT ?",
        [after, upto, limit],
    ).fetchall()
    return [object_from_row(r) for r in rows]


def changes(
    db: sqlite_utils.Database, after: int, upto: int, limit: int
) -> list[tuple[int, int, str]]:
    """(change id, object id, 'update' | 'delete') in (``after``, ``upto``], oldest first."""
    rows = db.execute(
        "SELECT id, object_id, kind FROM object_changes WHERE id > ? AND id <= ? "
        "ORDER BY id LIMIT ?",
        [after, upto, limit],
    ).fetchall()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


# The actor uri of the account a notification row belongs to, as SQL.
_ACCOUNT_ACTOR = (
    "(SELECT ac.uri FROM accounts a JOIN actors ac ON ac.id = a.actor_id WHERE a.id = n.account_id)"
)


def new_notifications(
    db: sqlite_utils.Database, after: int, upto: int, account_ids: list[int], limit: int
) -> list[tuple[int, NotificationRow]]:
    """(account id, notification) for ``account_ids`` in rows (``after``, ``upto``],
    those the account's notification list would show."""
    if not account_ids:
        return []
    marks = ",".join("?" * len(account_ids))
    rows = db.execute(
        f"SELECT n.account_id, {NOTIFICATION_COLUMNS} FROM notifications n "
        f"WHERE n.id > ? AND n.id <= ? AND n.account_id IN ({marks}) "
        f"AND {shown_notification(_ACCOUNT_ACTOR)} ORDER BY n.id LIMIT ?",
        [after, upto, *account_ids, limit],
    ).fetchall()
    return [(int(r[0]), notification_from_row(tuple(r[1:]))) for r in rows]


def followers_among(db: sqlite_utils.Database, author_uri: str, uris: list[str]) -> set[str]:
    """Which of ``uris`` follow ``author_uri`` (accepted)."""
    if not uris:
        return set()
    marks = ",".join("?" * len(uris))
    rows = db.execute(
        f"SELECT follower_uri FROM follows WHERE followee_uri = ? AND state = 'accepted' "
        f"AND follower_uri IN ({marks})",
        [author_uri, *uris],
    ).fetchall()
    return {str(r[0]) for r in rows}


def addressed_to(db: sqlite_utils.Database, object_id: int, actor_uri: str) -> bool:
    """Whether the post names ``actor_uri`` among its recipients."""
    row = db.execute(
        "SELECT 1 FROM object_recipients WHERE object_id = ? AND actor_uri = ?",
        [object_id, actor_uri],
    ).fetchone()
    return row is not None
