"""Moderation of actors, local and remote: suspended and silenced accounts.

An admin's suspension hides an actor's posts from everyone; a silence (what
Mastodon calls a limit) keeps them out of public listings (the public and
hashtag timelines, trends, the directory) for whoever does not follow the
actor. The rule is stated in ``processing/visibility.py``; the fragments
below are its SQL form, used by every listing in ``store/``.
"""

from __future__ import annotations

import sqlite_utils

# The actors an admin suspended: nobody sees their posts.
SUSPENDED_ACTORS = "SELECT uri FROM actors WHERE suspended_at IS NOT NULL"
# The actors an admin silenced: out of what the node recommends to anyone
# (trends, suggestions, the directory).
SILENCED_ACTORS = "SELECT uri FROM actors WHERE silenced_at IS NOT NULL"


def silenced_for(me: str) -> str:
    """SQL: the silenced actors whose posts stay out of ``me``'s public
    listings (public and hashtag timelines, trends): all of them but ``me``
    and those ``me`` follows."""
    return (
        f"SELECT uri FROM actors WHERE silenced_at IS NOT NULL AND uri <> {me} "
        f"AND uri NOT IN (SELECT followee_uri FROM follows WHERE follower_uri = {me} "
        "AND state = 'accepted')"
    )


def domain_blocked_by(me: str) -> str:
    """SQL: the actors on the servers ``me`` blocks for themselves."""
    return (
        "SELECT uri FROM actors WHERE host IN "
        f"(SELECT domain FROM user_domain_blocks WHERE actor_uri = {me})"
    )


def put_domain_block(db: sqlite_utils.Database, actor_uri: str, domain: str, now: float) -> None:
    db.execute(
        "INSERT INTO user_domain_blocks (actor_uri, domain, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (actor_uri, domain) DO NOTHING",
        [actor_uri, domain, now],
    )


def delete_domain_block(db: sqlite_utils.Database, actor_uri: str, domain: str) -> bool:
    cur = db.execute(
        "DELETE FROM user_domain_blocks WHERE actor_uri = ? AND domain = ?", [actor_uri, domain]
    )
    return cur.rowcount > 0


def domain_blocks_of(
    db: sqlite_utils.Database, actor_uri: str, lower: int, upper: int, limit: int, ascending: bool
) -> list[tuple[int, str]]:
    """(row id, domain) of one's domain blocks in a page, newest first unless ``ascending``."""
    rows = db.execute(
        "SELECT id, domain FROM user_domain_blocks WHERE actor_uri = ? AND id > ? AND id < ? "
        f"ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?",
        [actor_uri, lower, upper, limit],
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def relations_on_domain(
    db: sqlite_utils.Database, actor_uri: str, domain: str
) -> tuple[list[str], list[str]]:
    """(accounts on ``domain`` that ``actor_uri`` follows, its followers there)."""
    followed = db.execute(
        "SELECT f.followee_uri FROM follows f JOIN actors a ON a.uri = f.followee_uri "
        "WHERE f.follower_uri = ? AND a.host = ?",
        [actor_uri, domain],
    ).fetchall()
    followers = db.execute(
        "SELECT f.follower_uri FROM follows f JOIN actors a ON a.uri = f.follower_uri "
        "WHERE f.followee_uri = ? AND a.host = ?",
        [actor_uri, domain],
    ).fetchall()
    return [str(r[0]) for r in followed], [str(r[0]) for r in followers]


def set_actor_suspended(db: sqlite_utils.Database, uri: str, when: float | None) -> None:
    """Suspend an actor from ``when``, or lift its suspension (None)."""
    db.execute("UPDATE actors SET suspended_at = ? WHERE uri = ?", [when, uri])


def set_actor_silenced(db: sqlite_utils.Database, uri: str, when: float | None) -> None:
    """Silence an actor from ``when``, or lift the silence (None)."""
    db.execute("UPDATE actors SET silenced_at = ? WHERE uri = ?", [when, uri])


def moderation_of(db: sqlite_utils.Database, uri: str) -> tuple[float | None, float | None]:
    """(suspended at, silenced at) of an actor."""
    row = db.execute("SELECT suspended_at, silenced_at FROM actors WHERE uri = ?", [uri]).fetchone()
    return (row[0], row[1]) if row else (None, None)
