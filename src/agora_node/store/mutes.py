"""Mutes: accounts and conversations one has asked not to hear from.

A mute is the muter's own business: nothing is sent to the muted account.
A muted account's posts and boosts leave the muter's timelines (home,
public, hashtag, lists) and streams; with ``notifications`` on, its
notifications go too. A mute may run out (``expires_at``): it counts only
until then, by the database's own clock, so every query that honours mutes
agrees on the moment it lifts. A muted conversation (keyed by
``conversation_key``) keeps a thread's notifications away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

# Now, in seconds since the epoch, as SQLite tells it (fixed within a statement).
_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
# Whether a row of ``mutes`` still counts.
ACTIVE_MUTE = f"(expires_at IS NULL OR expires_at > {_NOW})"


def muted_by(me: str, *, notifications: bool = False) -> str:
    """SQL: the accounts ``me`` (an SQL expression) mutes now (for notifications, if set)."""
    extra = " AND notifications = 1" if notifications else ""
    return f"SELECT target_uri FROM mutes WHERE actor_uri = {me}{extra} AND {ACTIVE_MUTE}"


def conversation_key(o: str) -> str:
    """SQL: the thread post ``o`` belongs to (its conversation, or itself for a root)."""
    return f"coalesce({o}.conversation, {o}.uri)"


@dataclass(frozen=True)
class Mute:
    notifications: bool
    expires_at: float | None


def put_mute(
    db: sqlite_utils.Database,
    actor_uri: str,
    target_uri: str,
    *,
    notifications: bool,
    expires_at: float | None,
    now: float,
) -> None:
    """Mute ``target_uri`` (again: the new settings replace the old)."""
    db.execute(
        "INSERT INTO mutes (actor_uri, target_uri, notifications, expires_at, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (actor_uri, target_uri) DO UPDATE SET "
        "notifications = excluded.notifications, expires_at = excluded.expires_at",
        [actor_uri, target_uri, int(notifications), expires_at, now],
    )


def delete_mute(db: sqlite_utils.Database, actor_uri: str, target_uri: str) -> bool:
    cur = db.execute(
        "DELETE FROM mutes WHERE actor_uri = ? AND target_uri = ?", [actor_uri, target_uri]
    )
    return cur.rowcount > 0


def mutes_among(db: sqlite_utils.Database, me: str, uris: Sequence[str]) -> dict[str, Mute]:
    """``me``'s live mutes of any of ``uris``."""
    out: dict[str, Mute] = {}
    unique = list(dict.fromkeys(uris))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = db.execute(
            "SELECT target_uri, notifications, expires_at FROM mutes WHERE actor_uri = ? "
            f"AND target_uri IN ({','.join('?' * len(chunk))}) AND {ACTIVE_MUTE}",
            [me, *chunk],
        )
        for uri, notifications, expires_at in rows:
            out[str(uri)] = Mute(bool(notifications), expires_at)
    return out


def muters_among(
    db: sqlite_utils.Database, viewers: Sequence[str], authors: Sequence[str]
) -> set[str]:
    """Which of ``viewers`` mute any of ``authors`` now."""
    if not viewers or not authors:
        return set()
    people, named = list(dict.fromkeys(viewers)), list(dict.fromkeys(authors))
    rows = db.execute(
        f"SELECT DISTINCT actor_uri FROM mutes WHERE actor_uri IN ({','.join('?' * len(people))}) "
        f"AND target_uri IN ({','.join('?' * len(named))}) AND {ACTIVE_MUTE}",
        [*people, *named],
    )
    return {str(r[0]) for r in rows}


# -- conversations -----------------------------------------------------------------


def put_conversation_mute(db: sqlite_utils.Database, actor_uri: str, key: str, now: float) -> None:
    db.execute(
        "INSERT INTO conversation_mutes (actor_uri, conversation, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (actor_uri, conversation) DO NOTHING",
        [actor_uri, key, now],
    )


def delete_conversation_mute(db: sqlite_utils.Database, actor_uri: str, key: str) -> None:
    db.execute(
        "DELETE FROM conversation_mutes WHERE actor_uri = ? AND conversation = ?", [actor_uri, key]
    )


def muted_conversations_among(
    db: sqlite_utils.Database, actor_uri: str, keys: Sequence[str]
) -> set[str]:
    unique = list(dict.fromkeys(keys))
    out: set[str] = set()
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = db.execute(
            "SELECT conversation FROM conversation_mutes WHERE actor_uri = ? "
            f"AND conversation IN ({','.join('?' * len(chunk))})",
            [actor_uri, *chunk],
        )
        out.update(str(r[0]) for r in rows)
    return out
