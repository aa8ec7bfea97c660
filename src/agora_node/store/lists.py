"""Lists: named sets of accounts one follows, each read as its own timeline
(``store.timelines.list_timeline``). A list belongs to one actor; every
function takes the owner so that one's lists are never reachable by another.
When a follow ends, a trigger takes its account out of the follower's lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

REPLIES_POLICIES = ("followed", "list", "none")


@dataclass(frozen=True)
class ListRow:
    id: int
    title: str
    replies_policy: str
    exclusive: bool


_COLUMNS = "id, title, replies_policy, exclusive"


def _row(r: Sequence[Any]) -> ListRow:
    return ListRow(int(r[0]), str(r[1]), str(r[2]), bool(r[3]))


def create_list(
    db: sqlite_utils.Database, owner: str, title: str, policy: str, exclusive: bool, now: float
) -> ListRow:
    cur = db.execute(
        "INSERT INTO lists (owner_uri, title, replies_policy, exclusive, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [owner, title, policy, int(exclusive), now],
    )
    return ListRow(int(cur.lastrowid or 0), title, policy, exclusive)


def get_list(db: sqlite_utils.Database, owner: str, list_id: int) -> ListRow | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM lists WHERE id = ? AND owner_uri = ?", [list_id, owner]
    ).fetchone()
    return _row(row) if row else None


def lists_of(db: sqlite_utils.Database, owner: str) -> list[ListRow]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM lists WHERE owner_uri = ? ORDER BY id", [owner]
    ).fetchall()
    return [_row(r) for r in rows]


def lists_with(db: sqlite_utils.Database, owner: str, member: str) -> list[ListRow]:
    """The owner's lists that hold ``member``."""
    rows = db.execute(
        f"SELECT {', '.join('l.' + c for c in _COLUMNS.split(', '))} FROM lists l "
        "JOIN list_members m ON m.list_id = l.id WHERE l.owner_uri = ? AND m.actor_uri = ? "
        "ORDER BY l.id",
        [owner, member],
    ).fetchall()
    return [_row(r) for r in rows]


def update_list(
    db: sqlite_utils.Database, owner: str, list_id: int, title: str, policy: str, exclusive: bool
) -> None:
    db.execute(
        "UPDATE lists SET title = ?, replies_policy = ?, exclusive = ? "
        "WHERE id = ? AND owner_uri = ?",
        [title, policy, int(exclusive), list_id, owner],
    )


def delete_list(db: sqlite_utils.Database, owner: str, list_id: int) -> bool:
    cur = db.execute("DELETE FROM lists WHERE id = ? AND owner_uri = ?", [list_id, owner])
    return cur.rowcount > 0


def add_members(db: sqlite_utils.Database, list_id: int, members: Sequence[str]) -> None:
    db.conn.executemany(
        "INSERT INTO list_members (list_id, actor_uri) VALUES (?, ?) "
        "ON CONFLICT (list_id, actor_uri) DO NOTHING",
        [(list_id, m) for m in members],
    )


def remove_members(db: sqlite_utils.Database, list_id: int, members: Sequence[str]) -> None:
    db.conn.executemany(
        "DELETE FROM list_members WHERE list_id = ? AND actor_uri = ?",
        [(list_id, m) for m in members],
    )


def lists_listening(db: sqlite_utils.Database, author_uri: str) -> list[tuple[int, str]]:
    """(list id, owner) of every list that holds ``author_uri`` (for the list streams)."""
    rows = db.execute(
        "SELECT l.id, l.owner_uri FROM list_members m JOIN lists l ON l.id = m.list_id "
        "WHERE m.actor_uri = ?",
        [author_uri],
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]
