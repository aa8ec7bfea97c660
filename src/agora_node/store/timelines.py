"""Timelines (home, local, federated), one query each.

Every page is keyed by row id, newest first, the way Mastodon pages: ``max_id``
gives what is older than it, ``since_id`` the newest items newer than it, and
``min_id`` the items immediately newer than it (read oldest first, returned
newest first), which is how a client catches up on a gap without skipping.

The home query is the one that has to stay fast on a big node, see
``home_sql``. Besides the timelines, this module answers the batch questions
a page of statuses raises (tags, counts, what the viewer liked or boosted),
so rendering a page costs a fixed number of queries, not one per status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

# The row shape of ``objects`` is owned by store.objects; timelines return the same rows.
from agora_node.store.moderation import (
    SUSPENDED_ACTORS,
    UNLISTED_ACTORS,
    domain_blocked_by,
    silenced_for,
)
from agora_node.store.mutes import muted_by
from agora_node.store.objects import OBJECT_COLUMNS_OF_O as _O_COLUMNS
from agora_node.store.objects import ObjectRow, activities_of_posts
from agora_node.store.objects import object_from_row as _object_row

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
_NO_UPPER = 2**62

# Above this many followed authors the home query walks the newest rows of the
# whole table (a few hundred rows when one follows that many people); at or
# below it, it reads the newest rows of each author from an index, which stays
# cheap however quiet those authors are. Measured with bench/timeline.py.
HOME_SCAN_FANOUT = 200


@dataclass(frozen=True)
class Page:
    """Which slice of a timeline: ids are object (or notification) row ids."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def ascending(self) -> bool:
        """``min_id`` pages are read oldest first (then reversed)."""
        return self.min_id is not None

    def bounds(self) -> dict[str, int]:
        lower = self.min_id if self.min_id is not None else self.since_id
        return {
            "lower": lower if lower is not None else 0,
            "upper": self.max_id if self.max_id is not None else _NO_UPPER,
            "limit": max(1, min(self.limit, MAX_LIMIT)),
        }


def in_page_order(rows: list[Any], page: Page) -> list[Any]:
    """Rows read for ``page`` in the order a client gets them (newest first)."""
    if page.ascending:
        rows.reverse()
    return rows


def _visible_at_home(o: str) -> str:
    """Whether row ``o`` (already from a source of the home timeline) may be shown.

    Direct posts only to the author and their recipients; boosts only while the
    boosted post is alive and its author is neither blocked nor muted, and not
    by someone whose boosts the viewer turned off. Written as point
    lookups so it costs the same in every branch of the home query.
    """
    return f"""{o}.deleted_at IS NULL
      AND ({o}.visibility <> 'direct' OR {o}.actor_uri = :me OR EXISTS (
            SELECT 1 FROM object_recipients r WHERE r.object_id = {o}.id AND r.actor_uri = :me))
      AND ({o}.boost_of IS NULL OR NOT EXISTS (
            SELECT 1 FROM follows h WHERE h.follower_uri = :me AND h.followee_uri = {o}.actor_uri
            AND h.show_reblogs = 0) AND EXISTS (
            SELECT 1 FROM objects b WHERE b.uri = {o}.boost_of AND b.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM blocks k
                            WHERE k.actor_uri = :me AND k.target_uri = b.actor_uri)
            AND b.actor_uri NOT IN ({muted_by(":me")})
            AND b.actor_uri NOT IN ({SUSPENDED_ACTORS})
            AND b.actor_uri NOT IN ({domain_blocked_by(":me")})))"""


# Whose posts and boosts make up a home timeline: the accepted followees and
# oneself, minus the blocked, the muted and the members of one's exclusive lists
# (they are read in their list instead). Shared by the page query and its count.
_HOME_AUTHORS = f"""authors(uri) AS MATERIALIZED (
           SELECT followee_uri FROM follows WHERE follower_uri = :me AND state = 'accepted'
           UNION SELECT :me
           EXCEPT SELECT target_uri FROM blocks WHERE actor_uri = :me
           EXCEPT {muted_by(":me")}
           EXCEPT {SUSPENDED_ACTORS}
           EXCEPT {domain_blocked_by(":me")}
           EXCEPT SELECT m.actor_uri FROM lists l CROSS JOIN list_members m ON m.list_id = l.id
                  WHERE l.owner_uri = :me AND l.exclusive = 1)"""


def _addressing_me(bounds: str) -> str:
    """The home timeline's third source: posts that name the account."""
    return f"""SELECT r.object_id
      FROM object_recipients r CROSS JOIN objects o ON o.id = r.object_id
      WHERE r.actor_uri = :me AND {bounds}
        AND {_visible_at_home("o")} AND NOT EXISTS (
          SELECT 1 FROM blocks k WHERE k.actor_uri = :me AND k.target_uri = o.actor_uri)
        AND o.actor_uri NOT IN ({muted_by(":me")})
        AND o.actor_uri NOT IN ({SUSPENDED_ACTORS})
        AND o.actor_uri NOT IN ({domain_blocked_by(":me")})"""


def public_to_me(o: str) -> str:
    """A public, live, original post whose author the viewer (``:me``) neither
    blocks nor mutes, who does not block the viewer, and whom moderation
    leaves in public listings (not suspended; silenced only if followed)."""
    return f"""{o}.visibility = 'public' AND {o}.boost_of IS NULL AND {o}.deleted_at IS NULL
      AND {o}.actor_uri NOT IN (SELECT target_uri FROM blocks WHERE actor_uri = :me)
      AND {o}.actor_uri NOT IN ({muted_by(":me")})
      AND {o}.actor_uri NOT IN ({SUSPENDED_ACTORS})
      AND {o}.actor_uri NOT IN ({UNLISTED_ACTORS})
      AND {o}.actor_uri NOT IN ({silenced_for(":me")})
      AND {o}.actor_uri NOT IN ({domain_blocked_by(":me")})
      AND NOT EXISTS (SELECT 1 FROM blocks k WHERE k.actor_uri = {o}.actor_uri
                      AND k.target_uri = :me)"""


def _followed_tags_branch(ascending: bool) -> str:
    """The home timeline's fourth source: public posts with a hashtag the account
    follows. Like the per-author branch, each tag contributes only the rows
    within its ``limit`` newest visible ones, read from ``tags_hashtag_object``."""
    order = "ASC" if ascending else "DESC"
    cutoff_row = f"""SELECT t2.object_id FROM tags t2 INDEXED BY tags_hashtag_object
            CROSS JOIN objects o2 ON o2.id = t2.object_id
            WHERE t2.kind = 'hashtag' AND t2.name = f.name
              AND t2.object_id > :lower AND t2.object_id < :upper AND {public_to_me("o2")}
            ORDER BY t2.object_id {order} LIMIT 1 OFFSET :limit - 1"""
    if ascending:
        cut = (
            f"t.object_id > :lower AND t.object_id <= min(:upper - 1, "
            f"coalesce(({cutoff_row}), :upper))"
        )
    else:
        cut = (
            f"t.object_id < :upper AND t.object_id >= max(:lower + 1, coalesce(({cutoff_row}), 0))"
        )
    return f"""SELECT o.id FROM followed_tags f
        CROSS JOIN tags t INDEXED BY tags_hashtag_object ON t.kind = 'hashtag' AND t.name = f.name
        CROSS JOIN objects o ON o.id = t.object_id
      WHERE f.actor_uri = :me AND {cut} AND {public_to_me("o")}"""


# A list timeline's authors: the list's members (the list must be :me's), minus
# the blocked and the muted.
_LIST_AUTHORS = f"""authors(uri) AS MATERIALIZED (
           SELECT m.actor_uri FROM list_members m CROSS JOIN lists l ON l.id = m.list_id
           WHERE l.id = :list AND l.owner_uri = :me
           EXCEPT SELECT target_uri FROM blocks WHERE actor_uri = :me
           EXCEPT {muted_by(":me")})"""


def _list_replies(o: str) -> str:
    """Which replies a list shows, by its ``:policy``: replies to its members
    (``list``), to anyone one follows (``followed``), or none (``none``)."""
    return f"""({o}.in_reply_to IS NULL
      OR (:policy = 'list' AND EXISTS (SELECT 1 FROM objects p WHERE p.uri = {o}.in_reply_to
            AND (p.actor_uri IN authors OR p.actor_uri = :me)))
      OR (:policy = 'followed' AND EXISTS (SELECT 1 FROM objects p WHERE p.uri = {o}.in_reply_to
            AND (p.actor_uri = :me OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_uri = :me
                 AND f.followee_uri = p.actor_uri AND f.state = 'accepted')))))"""


def home_sql(ascending: bool, scan_fanout: int = HOME_SCAN_FANOUT, *, of_list: bool = False) -> str:
    """The home timeline as one statement with two strategies for its main source.

    ``authors`` are the accepted followees plus the account itself, minus the
    blocked. With many authors (``mode.scan``) the first branch walks the table
    by rowid, newest first, keeping rows by those authors: with a thousand
    followees that stops after a few hundred rows. With few authors that walk
    could cross the whole table, so the second branch takes, per author, the
    rows from the ``objects_live_by_actor`` index that fall within that
    author's ``limit`` newest visible rows (at most authors x limit rows, read
    from the index alone). Only one of the two does any work: the walk's rowid
    range collapses to nothing when it is not chosen, and the per-author branch
    stops at its guard, author by author. The third branch adds the posts that
    address the account, the fourth the public posts with a hashtag it follows.
    ``CROSS JOIN`` and ``NOT INDEXED`` pin the plans that
    tests/store/test_timelines.py checks; bench/timeline.py measures both
    strategies forced against the chosen one.

    ``of_list`` makes it a list's timeline: the authors are the list's
    members, replies are kept by the list's policy, and the third and fourth
    branches go.
    """
    order = "ASC" if ascending else "DESC"

    def visible(o: str) -> str:
        return f"{_visible_at_home(o)} AND {_list_replies(o)}" if of_list else _visible_at_home(o)

    cutoff_row = f"""SELECT o2.id FROM objects o2 WHERE o2.actor_uri = a.uri
            AND o2.id > :lower AND o2.id < :upper AND {visible("o2")}
            ORDER BY o2.id {order} LIMIT 1 OFFSET :limit - 1"""
    # One bound per side, so that SQLite seeks the index on the per-author cut-off.
    if ascending:
        cut = f"o.id > :lower AND o.id <= min(:upper - 1, coalesce(({cutoff_row}), :upper))"
    else:
        cut = f"o.id < :upper AND o.id >= max(:lower + 1, coalesce(({cutoff_row}), 0))"
    others = (
        ""
        if of_list
        else f"""UNION
      {_addressing_me("r.object_id > :lower AND r.object_id < :upper")}
      UNION
      {_followed_tags_branch(ascending)}"""
    )
    return f"""
    WITH {_LIST_AUTHORS if of_list else _HOME_AUTHORS},
         mode(scan) AS MATERIALIZED (SELECT count(*) > {int(scan_fanout)} FROM authors)
    SELECT {_O_COLUMNS} FROM (
      SELECT o.id FROM objects o NOT INDEXED
      WHERE o.id > CASE WHEN (SELECT scan FROM mode) THEN :lower ELSE :upper END
        AND o.id < :upper AND o.actor_uri IN authors AND {visible("o")}
      UNION
      SELECT o.id FROM authors a CROSS JOIN objects o ON o.actor_uri = a.uri
      WHERE NOT (SELECT scan FROM mode) AND {cut}
        AND {visible("o")}
      {others}
      ORDER BY 1 {order} LIMIT :limit
    ) AS page CROSS JOIN objects o ON o.id = page.id
    ORDER BY o.id {order}
    """


HOME_SQL = {False: home_sql(False), True: home_sql(True)}
_LIST_SQL = {False: home_sql(False, of_list=True), True: home_sql(True, of_list=True)}


def home_params(actor_uri: str, page: Page) -> dict[str, Any]:
    """The bound values of ``HOME_SQL[page.ascending]`` (shared with the benchmark)."""
    return {"me": actor_uri, **page.bounds()}


def home(db: sqlite_utils.Database, actor_uri: str, page: Page) -> list[ObjectRow]:
    """Posts and boosts by the followed and oneself, and posts addressing oneself."""
    rows = db.execute(HOME_SQL[page.ascending], home_params(actor_uri, page)).fetchall()
    return in_page_order([_object_row(r) for r in rows], page)


_COUNT_HOME_SQL = f"""
    WITH {_HOME_AUTHORS}
    SELECT count(*) FROM (
      SELECT o.id FROM authors a CROSS JOIN objects o ON o.actor_uri = a.uri
      WHERE {_visible_at_home("o")}
      UNION
      {_addressing_me("1")}
      UNION
      SELECT o.id FROM followed_tags f
        CROSS JOIN tags t ON t.kind = 'hashtag' AND t.name = f.name
        CROSS JOIN objects o ON o.id = t.object_id
      WHERE f.actor_uri = :me AND {public_to_me("o")})"""


def count_home(db: sqlite_utils.Database, actor_uri: str) -> int:
    """How many posts and boosts the home timeline holds (what ``home`` pages through)."""
    return int(db.execute(_COUNT_HOME_SQL, {"me": actor_uri}).fetchone()[0])


def list_timeline(
    db: sqlite_utils.Database, actor_uri: str, list_id: int, policy: str, page: Page
) -> list[ObjectRow]:
    """Posts and boosts by the members of ``actor_uri``'s list ``list_id``."""
    params = {**home_params(actor_uri, page), "list": list_id, "policy": policy}
    rows = db.execute(_LIST_SQL[page.ascending], params).fetchall()
    return in_page_order([_object_row(r) for r in rows], page)


def home_with_activities(
    db: sqlite_utils.Database, actor_uri: str, page: Page
) -> list[tuple[ObjectRow, dict[str, Any] | None]]:
    """A home page with the activity that brought each row (None for a fetched post)."""
    rows = home(db, actor_uri, page)
    activities = activities_of_posts(db, rows)
    return [(row, activities.get(row.uri)) for row in rows]


def public_sql(page: Page, local: bool | None) -> str:
    """Public posts, no boosts: all (``local=None``), local only, or remote only.

    Walks ``objects_public`` / ``objects_local_public`` in id order (the unary
    ``+`` keeps SQLite from walking ``objects_boost_of`` instead, which crosses
    the whole table when, say, there are no local posts yet). Authors the
    viewer blocks or mutes, or who block the viewer, are left out, and those
    moderation keeps out (suspended; silenced and not followed).
    """
    where = ("" if local is None else "o.local = :local AND ") + "o.visibility = 'public'"
    return f"""SELECT {_O_COLUMNS} FROM objects o
        WHERE {where} AND o.id > :lower AND o.id < :upper
          AND +o.boost_of IS NULL AND +o.deleted_at IS NULL
          AND o.actor_uri NOT IN (SELECT target_uri FROM blocks WHERE actor_uri = :me)
          AND o.actor_uri NOT IN ({muted_by(":me")})
          AND o.actor_uri NOT IN ({SUSPENDED_ACTORS})
          AND o.actor_uri NOT IN ({UNLISTED_ACTORS})
          AND o.actor_uri NOT IN ({silenced_for(":me")})
          AND o.actor_uri NOT IN ({domain_blocked_by(":me")})
          AND NOT EXISTS (SELECT 1 FROM blocks k WHERE k.actor_uri = o.actor_uri
                          AND k.target_uri = :me)
        ORDER BY o.id {"ASC" if page.ascending else "DESC"} LIMIT :limit"""


def public(
    db: sqlite_utils.Database,
    page: Page,
    *,
    local: bool | None = None,
    viewer_uri: str | None = None,
) -> list[ObjectRow]:
    """The federated timeline ("town square"), or its local or remote part."""
    params = {"me": viewer_uri or "", "local": int(bool(local)), **page.bounds()}
    rows = db.execute(public_sql(page, local), params).fetchall()
    return in_page_order([_object_row(r) for r in rows], page)


# -- what a page of statuses needs ------------------------------------------------


@dataclass(frozen=True)
class TagRow:
    kind: str
    name: str
    href: str | None


@dataclass(frozen=True)
class StatusCounts:
    replies: int = 0
    reblogs: int = 0
    favourites: int = 0


@dataclass(frozen=True)
class ActorCounts:
    followers: int = 0
    following: int = 0
    statuses: int = 0
    last_status_at: float | None = None


def _chunks(values: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def tags_of(db: sqlite_utils.Database, object_ids: Sequence[int]) -> dict[int, list[TagRow]]:
    out: dict[int, list[TagRow]] = {}
    for chunk in _chunks(object_ids):
        rows = db.execute(
            f"SELECT object_id, kind, name, href FROM tags WHERE object_id IN ({_marks(chunk)}) "
            "ORDER BY rowid",
            list(chunk),
        )
        for object_id, kind, name, href in rows:
            out.setdefault(int(object_id), []).append(TagRow(kind, name, href))
    return out


def _grouped_counts(db: sqlite_utils.Database, sql: str, keys: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(keys):
        for key, count in db.execute(sql.format(marks=_marks(chunk)), list(chunk)):
            out[str(key)] = int(count)
    return out


def status_counts(db: sqlite_utils.Database, uris: Sequence[str]) -> dict[str, StatusCounts]:
    """Replies, boosts and likes per post uri, three grouped index reads."""
    replies = _grouped_counts(
        db,
        "SELECT in_reply_to, count(*) FROM objects WHERE in_reply_to IN ({marks}) "
        "AND deleted_at IS NULL GROUP BY in_reply_to",
        uris,
    )
    reblogs = _grouped_counts(
        db,
        "SELECT boost_of, count(*) FROM objects WHERE boost_of IN ({marks}) GROUP BY boost_of",
        uris,
    )
    likes = _grouped_counts(
        db,
        "SELECT object_uri, count(*) FROM likes WHERE object_uri IN ({marks}) GROUP BY object_uri",
        uris,
    )
    return {
        uri: StatusCounts(replies.get(uri, 0), reblogs.get(uri, 0), likes.get(uri, 0))
        for uri in uris
    }


def actor_counts(db: sqlite_utils.Database, uris: Sequence[str]) -> dict[str, ActorCounts]:
    """Followers, followings, live posts and the last post's time, per actor uri.

    Read from the counters the database's triggers keep (migration 7).
    """
    out = {uri: ActorCounts() for uri in uris}
    for chunk in _chunks(uris):
        rows = db.execute(
            "SELECT actor_uri, followers, following, statuses, last_status_at FROM actor_stats "
            f"WHERE actor_uri IN ({_marks(chunk)})",
            list(chunk),
        )
        for uri, followers, following, statuses, last in rows:
            out[str(uri)] = ActorCounts(
                int(followers), int(following), int(statuses), None if last is None else float(last)
            )
    return out


def object_refs(db: sqlite_utils.Database, uris: Sequence[str]) -> dict[str, tuple[int, str]]:
    """(row id, author uri) of the known posts among ``uris`` (for reply links)."""
    out: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(uris):
        rows = db.execute(
            f"SELECT uri, id, actor_uri FROM objects WHERE uri IN ({_marks(chunk)})", list(chunk)
        )
        for uri, object_id, actor_uri in rows:
            out[str(uri)] = (int(object_id), str(actor_uri))
    return out


def liked_among(db: sqlite_utils.Database, actor_uri: str, uris: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(uris):
        rows = db.execute(
            f"SELECT object_uri FROM likes WHERE actor_uri = ? AND object_uri IN ({_marks(chunk)})",
            [actor_uri, *chunk],
        )
        out.update(str(r[0]) for r in rows)
    return out


def boosted_among(db: sqlite_utils.Database, actor_uri: str, uris: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for chunk in _chunks(uris):
        rows = db.execute(
            f"SELECT boost_of FROM objects WHERE actor_uri = ? AND boost_of IN ({_marks(chunk)}) "
            "AND deleted_at IS NULL",
            [actor_uri, *chunk],
        )
        out.update(str(r[0]) for r in rows)
    return out


def featured_among(db: sqlite_utils.Database, actor_uri: str, uris: Sequence[str]) -> set[str]:
    """Which of ``uris`` ``actor_uri`` has pinned to its profile."""
    out: set[str] = set()
    for chunk in _chunks(uris):
        rows = db.execute(
            "SELECT object_uri FROM featured WHERE actor_uri = ? "
            f"AND object_uri IN ({_marks(chunk)})",
            [actor_uri, *chunk],
        )
        out.update(str(r[0]) for r in rows)
    return out
