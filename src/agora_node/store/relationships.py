"""How one account stands with others: follows both ways, requests, blocks,
mutes and private notes, and the lists of accounts behind them (followers,
following, requests, blocks, mutes).

Lists page by the row id of the follow or block, newest first, with the
timelines' ``Page``; each row comes with the actor it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.accounts import ActorRow, get_actors_by_uris
from agora_node.store.mutes import ACTIVE_MUTE, mutes_among
from agora_node.store.timelines import Page, in_page_order


@dataclass(frozen=True)
class Standing:
    """What ``me`` and one other actor are to each other."""

    following: bool = False
    requested: bool = False
    followed_by: bool = False
    requested_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    muting: bool = False
    muting_notifications: bool = False
    note: str = ""


def standings(db: sqlite_utils.Database, me: str, uris: Sequence[str]) -> dict[str, Standing]:
    """``me``'s standing with each of ``uris`` in four queries, however many."""
    out: dict[str, dict[str, bool]] = {u: {} for u in uris}
    for start in range(0, len(uris), 500):
        chunk = list(uris[start : start + 500])
        marks = ",".join("?" * len(chunk))
        for other, state, reblogs, notify in db.execute(
            f"SELECT followee_uri, state, show_reblogs, notify FROM follows WHERE follower_uri = ? "
            f"AND followee_uri IN ({marks})",
            [me, *chunk],
        ).fetchall():
            out[other]["following" if state == "accepted" else "requested"] = True
            out[other]["showing_reblogs"] = bool(reblogs)
            out[other]["notifying"] = bool(notify)
        for other, state in db.execute(
            f"SELECT follower_uri, state FROM follows WHERE followee_uri = ? "
            f"AND follower_uri IN ({marks})",
            [me, *chunk],
        ).fetchall():
            out[other]["followed_by" if state == "accepted" else "requested_by"] = True
        for (other,) in db.execute(
            f"SELECT target_uri FROM blocks WHERE actor_uri = ? AND target_uri IN ({marks})",
            [me, *chunk],
        ).fetchall():
            out[other]["blocking"] = True
        for (other,) in db.execute(
            f"SELECT actor_uri FROM blocks WHERE target_uri = ? AND actor_uri IN ({marks})",
            [me, *chunk],
        ).fetchall():
            out[other]["blocked_by"] = True
    muted = mutes_among(db, me, uris)
    notes = notes_among(db, me, uris)
    return {
        u: Standing(
            **facts,
            muting=u in muted,
            muting_notifications=u in muted and muted[u].notifications,
            note=notes.get(u, ""),
        )
        for u, facts in out.items()
    }


def set_note(db: sqlite_utils.Database, me: str, target_uri: str, comment: str, now: float) -> None:
    """``me``'s private note on an account; an empty one is removed."""
    if not comment:
        db.execute(
            "DELETE FROM account_notes WHERE actor_uri = ? AND target_uri = ?", [me, target_uri]
        )
        return
    db.execute(
        "INSERT INTO account_notes (actor_uri, target_uri, comment, updated_at) "
        "VALUES (?, ?, ?, ?) "
        "ON CONFLICT (actor_uri, target_uri) DO UPDATE SET comment = excluded.comment, "
        "updated_at = excluded.updated_at",
        [me, target_uri, comment, now],
    )


def notes_among(db: sqlite_utils.Database, me: str, uris: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for start in range(0, len(uris), 500):
        chunk = list(uris[start : start + 500])
        rows = db.execute(
            "SELECT target_uri, comment FROM account_notes WHERE actor_uri = ? "
            f"AND target_uri IN ({','.join('?' * len(chunk))})",
            [me, *chunk],
        )
        out.update((str(u), str(c)) for u, c in rows)
    return out


_LISTS = {
    # name: (table, the column naming the key, the column naming the actor, extra condition)
    "followers": ("follows", "followee_uri", "follower_uri", "AND state = 'accepted'"),
    "following": ("follows", "follower_uri", "followee_uri", "AND state = 'accepted'"),
    "requests": ("follows", "followee_uri", "follower_uri", "AND state = 'pending'"),
    "blocks": ("blocks", "actor_uri", "target_uri", ""),
    "mutes": ("mutes", "actor_uri", "target_uri", f"AND {ACTIVE_MUTE}"),
    # keyed by a post's uri: who favourited, who boosted it
    "favourited_by": ("likes", "object_uri", "actor_uri", ""),
    "reblogged_by": ("objects", "boost_of", "actor_uri", "AND deleted_at IS NULL"),
    # keyed by a list's id: its members
    "list_members": ("list_members", "list_id", "actor_uri", ""),
}


def actors_listed(
    db: sqlite_utils.Database, kind: str, key: str | int, page: Page
) -> list[tuple[int, ActorRow]]:
    """A page of the actors of list ``kind`` of ``key`` (an actor's followers,
    following, requests, blocks, mutes; a post's favouriters and boosters; a
    list's members): (row id, actor) pairs, newest first; actors we never
    stored are left out."""
    table, mine, theirs, extra = _LISTS[kind]
    params: dict[str, Any] = {"me": key, **page.bounds()}
    rows = db.execute(
        f"SELECT id, {theirs} FROM {table} WHERE {mine} = :me {extra} "
        f"AND id > :lower AND id < :upper "
        f"ORDER BY id {'ASC' if page.ascending else 'DESC'} LIMIT :limit",
        params,
    ).fetchall()
    ordered = in_page_order([(int(r[0]), str(r[1])) for r in rows], page)
    actors = get_actors_by_uris(db, [uri for _, uri in ordered])
    return [(row_id, actors[uri]) for row_id, uri in ordered if uri in actors]


_EXPORTS = {
    # kind: (the query's columns and tables, who the account is in it, extra condition)
    "following": (
        "a.username, a.host, f.show_reblogs, f.notify FROM follows f "
        "JOIN actors a ON a.uri = f.followee_uri",
        "f.follower_uri",
        "AND f.state = 'accepted'",
    ),
    "followers": (
        "a.username, a.host FROM follows f JOIN actors a ON a.uri = f.follower_uri",
        "f.followee_uri",
        "AND f.state = 'accepted'",
    ),
    "blocks": (
        "a.username, a.host FROM blocks b JOIN actors a ON a.uri = b.target_uri",
        "b.actor_uri",
        "",
    ),
    "mutes": (
        "a.username, a.host, m.notifications FROM mutes m JOIN actors a ON a.uri = m.target_uri",
        "m.actor_uri",
        f"AND {ACTIVE_MUTE.replace('expires_at', 'm.expires_at')}",
    ),
}


def exported_relations(db: sqlite_utils.Database, kind: str, me: str) -> list[tuple[Any, ...]]:
    """Every ``kind`` relation of ``me`` for an export, oldest first: (username,
    host) and, for follows, whether boosts show and new posts notify; for mutes,
    whether notifications are muted too."""
    columns, who, extra = _EXPORTS[kind]
    table = who.split(".")[0]
    sql = f"SELECT {columns} WHERE {who} = ? {extra} ORDER BY {table}.id"
    return [tuple(r) for r in db.execute(sql, [me]).fetchall()]


def count_follow_requests(db: sqlite_utils.Database, actor_uri: str) -> int:
    """How many follow requests wait for ``actor_uri``'s answer."""
    row = db.execute(
        "SELECT count(*) FROM follows WHERE followee_uri = ? AND state = 'pending'", [actor_uri]
    ).fetchone()
    return int(row[0])
