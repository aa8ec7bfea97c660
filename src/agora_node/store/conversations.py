"""Conversations: one's direct posts (written or received) grouped by thread.

A conversation is the set of live direct posts of one thread
(``mutes.conversation_key``) that the account wrote or is addressed by. Its
id is the row id of the thread's first direct post the account ever had
(tombstones stay as rows, so the id holds even when that post is deleted);
it pages by its newest post. Per account the database keeps only how far
one has read and up to where one has removed it (``conversation_marks``): a
removed conversation comes back when a newer post arrives, as on Mastodon.
It is unread while someone else wrote in it after one last read or wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.mutes import conversation_key
from agora_node.store.objects import OBJECT_COLUMNS_OF_O as _O_COLUMNS
from agora_node.store.objects import ObjectRow
from agora_node.store.objects import object_from_row as _object_row
from agora_node.store.timelines import Page, in_page_order


@dataclass(frozen=True)
class Conversation:
    id: int
    key: str
    last: ObjectRow
    unread: bool
    # Everyone in it but the account: authors and recipients of its posts.
    others: tuple[str, ...]


# The account's direct posts (all rows, tombstones too) with their thread key.
_MINE = f"""mine(id, key, live, author) AS MATERIALIZED (
      SELECT o.id, {conversation_key("o")}, o.deleted_at IS NULL, o.actor_uri FROM objects o
      WHERE o.actor_uri = :me AND o.visibility = 'direct' AND o.boost_of IS NULL
      UNION ALL
      SELECT o.id, {conversation_key("o")}, o.deleted_at IS NULL, o.actor_uri
      FROM object_recipients r CROSS JOIN objects o ON o.id = r.object_id
      WHERE r.actor_uri = :me AND o.visibility = 'direct' AND o.actor_uri <> :me)"""

_GROUPS = f"""WITH {_MINE},
    groups(cid, key, last_id) AS (
      SELECT min(m.id), m.key, max(CASE WHEN m.live THEN m.id END) FROM mine m GROUP BY m.key)
    SELECT g.cid, g.key, g.last_id,
           EXISTS (SELECT 1 FROM mine u WHERE u.key = g.key AND u.live AND u.author <> :me
                   AND u.id > max(coalesce(k.read_upto, 0), coalesce((
                       SELECT max(w.id) FROM mine w WHERE w.key = g.key AND w.author = :me), 0))
           ) AS unread
    FROM groups g LEFT JOIN conversation_marks k ON k.actor_uri = :me AND k.conversation = g.key
    WHERE g.last_id IS NOT NULL AND g.last_id > coalesce(k.hidden_upto, 0)"""


def _load(db: sqlite_utils.Database, me: str, rows: list[Any]) -> list[Conversation]:
    if not rows:
        return []
    last_ids = [int(r[2]) for r in rows]
    posts = {
        int(r[0]): _object_row(r)
        for r in db.execute(
            f"SELECT {_O_COLUMNS} FROM objects o WHERE o.id IN ({','.join('?' * len(last_ids))})",
            last_ids,
        )
    }
    keys = [str(r[1]) for r in rows]
    people: dict[str, set[str]] = {k: set() for k in keys}
    marks = ",".join(f":k{i}" for i in range(len(keys)))
    for key, who in db.execute(
        f"""WITH {_MINE}
            SELECT m.key, m.author FROM mine m WHERE m.key IN ({marks})
            UNION SELECT m.key, r.actor_uri FROM mine m
            CROSS JOIN object_recipients r ON r.object_id = m.id WHERE m.key IN ({marks})""",
        {"me": me, **{f"k{i}": k for i, k in enumerate(keys)}},
    ):
        people[str(key)].add(str(who))
    return [
        Conversation(
            int(r[0]),
            str(r[1]),
            posts[int(r[2])],
            bool(r[3]),
            tuple(sorted(people[str(r[1])] - {me})),
        )
        for r in rows
        if int(r[2]) in posts
    ]


def conversations(db: sqlite_utils.Database, me: str, page: Page) -> list[Conversation]:
    """A page of the account's conversations, by their newest post, newest first."""
    order = "ASC" if page.ascending else "DESC"
    rows = db.execute(
        f"""SELECT * FROM ({_GROUPS}) WHERE last_id > :lower AND last_id < :upper
            ORDER BY last_id {order} LIMIT :limit""",
        {"me": me, **page.bounds()},
    ).fetchall()
    return in_page_order(_load(db, me, rows), page)


def conversation(db: sqlite_utils.Database, me: str, conversation_id: int) -> Conversation | None:
    rows = db.execute(
        f"SELECT * FROM ({_GROUPS}) WHERE cid = :cid", {"me": me, "cid": conversation_id}
    ).fetchall()
    found = _load(db, me, rows)
    return found[0] if found else None


def conversation_of_post(db: sqlite_utils.Database, me: str, object_id: int) -> Conversation | None:
    """The account's conversation that the direct post ``object_id`` belongs to."""
    rows = db.execute(
        f"""SELECT * FROM ({_GROUPS}) WHERE key = (
              SELECT {conversation_key("o")} FROM objects o WHERE o.id = :post)""",
        {"me": me, "post": object_id},
    ).fetchall()
    found = _load(db, me, rows)
    return found[0] if found else None


def _mark(db: sqlite_utils.Database, me: str, key: str, column: str, upto: int) -> None:
    db.execute(
        f"INSERT INTO conversation_marks (actor_uri, conversation, {column}) VALUES (?, ?, ?) "
        f"ON CONFLICT (actor_uri, conversation) DO UPDATE SET {column} = excluded.{column}",
        [me, key, upto],
    )


def mark_read(db: sqlite_utils.Database, me: str, found: Conversation) -> None:
    _mark(db, me, found.key, "read_upto", found.last.id)


def hide(db: sqlite_utils.Database, me: str, found: Conversation) -> None:
    """Remove the conversation from the account's list until a newer post comes."""
    _mark(db, me, found.key, "hidden_upto", found.last.id)
