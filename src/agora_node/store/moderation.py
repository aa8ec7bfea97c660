"""Moderation of actors, local and remote: suspended and silenced accounts.

An admin's suspension hides an actor's posts from everyone; a silence (what
Mastodon calls a limit) keeps them out of public listings (the public and
hashtag timelines, trends, the directory) for whoever does not follow the
actor. The rule is stated in ``processing/visibility.py``; the fragments
below are its SQL form, used by every listing in ``store/``.
"""

from __future__ import annotations

import sqlite_utils

from agora_node.store.db import like_escaped

# The actors an admin suspended: nobody sees their posts.
SUSPENDED_ACTORS = "SELECT uri FROM actors WHERE suspended_at IS NOT NULL"
# The actors an admin silenced: out of what the node recommends to anyone
# (trends, suggestions, the directory).
SILENCED_ACTORS = "SELECT uri FROM actors WHERE silenced_at IS NOT NULL"
# The actors an admin force-unlisted: their public posts stay out of the
# public and hashtag timelines (as if posted unlisted), for everyone.
UNLISTED_ACTORS = "SELECT uri FROM actors WHERE unlisted_at IS NOT NULL"


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


def set_actor_unlisted(db: sqlite_utils.Database, uri: str, when: float | None) -> None:
    db.execute("UPDATE actors SET unlisted_at = ? WHERE uri = ?", [when, uri])


def suspended_before(db: sqlite_utils.Database, when: float) -> list[tuple[str, bool]]:
    """(uri, local) of the live actors suspended before ``when``."""
    rows = db.execute(
        "SELECT uri, local FROM actors WHERE suspended_at IS NOT NULL AND suspended_at < ? "
        "AND deleted_at IS NULL",
        [when],
    )
    return [(r[0], bool(r[1])) for r in rows]


def set_actor_sensitized(db: sqlite_utils.Database, uri: str, when: float | None) -> None:
    """Show an actor's media as sensitive from ``when`` on, or no longer (None)."""
    db.execute("UPDATE actors SET sensitized_at = ? WHERE uri = ?", [when, uri])


def moderation_of(db: sqlite_utils.Database, uri: str) -> tuple[float | None, float | None]:
    """(suspended at, silenced at) of an actor."""
    row = db.execute("SELECT suspended_at, silenced_at FROM actors WHERE uri = ?", [uri]).fetchone()
    return (row[0], row[1]) if row else (None, None)


ACCOUNT_STATUSES = ("active", "pending", "disabled", "silenced", "suspended")


def admin_accounts(
    db: sqlite_utils.Database,
    *,
    origin: str | None,
    status: str | None,
    username: str,
    display_name: str,
    domain: str,
    lower: int,
    upper: int,
    limit: int,
    ascending: bool,
) -> list[int]:
    """Actor ids for the admin's account list, newest first unless ``ascending``."""
    where = ["x.deleted_at IS NULL", "x.username <> ''", "x.id > :lower", "x.id < :upper"]
    params: dict[str, object] = {"lower": lower, "upper": upper, "limit": limit}
    if origin == "local":
        where.append("x.local = 1")
    elif origin == "remote":
        where.append("x.local = 0")
    disabled = "EXISTS (SELECT 1 FROM accounts a WHERE a.actor_id = x.id AND a.disabled_at > 0)"
    if status == "active":
        where.append(f"x.suspended_at IS NULL AND x.silenced_at IS NULL AND NOT {disabled}")
    elif status == "pending":
        where.append("0")  # accounts here exist only once approved (store/signups.py)
    elif status == "disabled":
        where.append(disabled)
    elif status == "silenced":
        where.append("x.silenced_at IS NOT NULL")
    elif status == "suspended":
        where.append("x.suspended_at IS NOT NULL")
    for column, value in (("username", username), ("display_name", display_name)):
        if value:
            where.append(f"x.{column} LIKE :{column} ESCAPE '\\'")
            escaped = like_escaped(value)
            params[column] = f"%{escaped}%"
    if domain:
        where.append("(x.host = :domain OR x.host LIKE :domain_port)")
        params["domain"] = domain
        params["domain_port"] = f"{domain}:%"
    rows = db.execute(
        f"SELECT x.id FROM actors x WHERE {' AND '.join(where)} "
        f"ORDER BY x.id {'ASC' if ascending else 'DESC'} LIMIT :limit",
        params,
    )
    return [int(r[0]) for r in rows]
