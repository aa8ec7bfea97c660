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
