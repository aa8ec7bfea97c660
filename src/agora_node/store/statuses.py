"""Single statuses and their threads, as a given viewer may read them.

``readable_by_me`` is the SQL form of ``processing.visibility.may_see`` (plus
the author's blocks), written once and used by every query here;
tests/processing/test_visibility.py checks that the two agree.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from agora_node.protocol.vocab import OPEN_VISIBILITIES
from agora_node.store.db import like_escaped
from agora_node.store.moderation import SUSPENDED_ACTORS
from agora_node.store.objects import OBJECT_COLUMNS_OF_O as _O_COLUMNS
from agora_node.store.objects import ObjectRow, object_from_row
from agora_node.store.timelines import Page, in_page_order

# The visibilities anyone may read, as SQL constants (the rule: processing/visibility.py).
_OPEN = ", ".join(f"'{v}'" for v in OPEN_VISIBILITIES)
# How far a thread is followed each way (Mastodon stops at similar depths).
MAX_ANCESTORS = 40
MAX_DESCENDANTS = 60


def readable_by_me(o: str) -> str:
    """Whether row ``o`` is a live post or boost the viewer ``:me`` ('' = anyone) may read.

    Public and unlisted to all; followers-only to accepted followers; direct to
    the recipients; everything to its author. Never to someone its author
    blocks, and to nobody while its author is suspended.
    """
    return f"""{o}.deleted_at IS NULL AND {o}.type <> 'Tombstone'
          AND ({o}.visibility IN ({_OPEN}) OR {o}.actor_uri = :me
               OR EXISTS (SELECT 1 FROM object_recipients r
                          WHERE r.object_id = {o}.id AND r.actor_uri = :me)
               OR ({o}.visibility = 'private' AND EXISTS (
                   SELECT 1 FROM follows f WHERE f.follower_uri = :me
                   AND f.followee_uri = {o}.actor_uri AND f.state = 'accepted')))
          AND NOT EXISTS (SELECT 1 FROM blocks k WHERE k.actor_uri = {o}.actor_uri
                          AND k.target_uri = :me)
          AND {o}.actor_uri NOT IN ({SUSPENDED_ACTORS})"""


def get_status_for(
    db: sqlite_utils.Database, object_id: int, viewer_uri: str | None
) -> ObjectRow | None:
    """A live post or boost if ``viewer_uri`` (None: anyone) may read it."""
    row = db.execute(
        f"SELECT {_O_COLUMNS} FROM objects o WHERE o.id = :id AND {readable_by_me('o')}",
        {"id": object_id, "me": viewer_uri or ""},
    ).fetchone()
    return object_from_row(row) if row else None


def ancestors(db: sqlite_utils.Database, object_id: int, viewer_uri: str | None) -> list[ObjectRow]:
    """The posts ``object_id`` replies to, up the thread, oldest first; the ones the
    viewer may not read (or we never saw) are left out."""
    rows = db.execute(
        f"""WITH RECURSIVE up(uri, depth) AS (
              SELECT in_reply_to, 1 FROM objects WHERE id = :id AND in_reply_to IS NOT NULL
              UNION ALL
              SELECT o.in_reply_to, up.depth + 1 FROM up JOIN objects o ON o.uri = up.uri
              WHERE o.in_reply_to IS NOT NULL AND up.depth < :limit)
            SELECT {_O_COLUMNS} FROM up JOIN objects o ON o.uri = up.uri
            WHERE {readable_by_me("o")} AND o.boost_of IS NULL
            ORDER BY up.depth DESC""",
        {"id": object_id, "me": viewer_uri or "", "limit": MAX_ANCESTORS},
    ).fetchall()
    return [object_from_row(r) for r in rows]


def descendants(
    db: sqlite_utils.Database, object_id: int, viewer_uri: str | None
) -> list[ObjectRow]:
    """The replies to ``object_id`` and theirs, oldest first, as far as the viewer
    may read them (a hidden reply hides its branch too)."""
    rows = db.execute(
        f"""WITH RECURSIVE down(id, uri, depth) AS (
              SELECT id, uri, 0 FROM objects WHERE id = :id
              UNION
              SELECT o.id, o.uri, down.depth + 1 FROM down
              JOIN objects o ON o.in_reply_to = down.uri
              WHERE down.depth < :limit AND o.boost_of IS NULL AND {readable_by_me("o")}
              LIMIT :limit)
            SELECT {_O_COLUMNS} FROM down JOIN objects o ON o.id = down.id
            WHERE down.depth > 0
            ORDER BY o.id""",
        {"id": object_id, "me": viewer_uri or "", "limit": MAX_DESCENDANTS},
    ).fetchall()
    return [object_from_row(r) for r in rows]


def account_statuses(
    db: sqlite_utils.Database,
    actor_uri: str,
    viewer_uri: str | None,
    page: Page,
    *,
    replies: bool = True,
    reblogs: bool = True,
    only_media: bool = False,
    pinned: bool = False,
    tagged: str | None = None,
) -> list[ObjectRow]:
    """An account's posts (and boosts) the viewer may read, newest first, as
    Mastodon's account statuses list filters them."""
    where = [f"o.actor_uri = :actor AND o.id > :lower AND o.id < :upper AND {readable_by_me('o')}"]
    params: dict[str, Any] = {"actor": actor_uri, "me": viewer_uri or "", **page.bounds()}
    if not replies:
        where.append("o.in_reply_to IS NULL")
    if not reblogs:
        where.append("o.boost_of IS NULL")
    if only_media:
        where.append("coalesce(json_extract(o.data, '$.attachment'), '[]') NOT IN ('[]', '{}')")
    if pinned:
        where.append(
            "EXISTS (SELECT 1 FROM featured f WHERE f.actor_uri = o.actor_uri "
            "AND f.object_uri = o.uri)"
        )
    if tagged:
        where.append(
            "EXISTS (SELECT 1 FROM tags t WHERE t.object_id = o.id AND t.kind = 'hashtag' "
            "AND lower(t.name) = :tag)"
        )
        params["tag"] = tagged.lower().lstrip("#")
    rows = db.execute(
        f"SELECT {_O_COLUMNS} FROM objects o INDEXED BY objects_actor_published "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY o.id {'ASC' if page.ascending else 'DESC'} LIMIT :limit",
        params,
    ).fetchall()
    return in_page_order([object_from_row(r) for r in rows], page)


# Tables of posts one actor marked: (table, what the listing is called).
_MARKS = {"bookmarks": "bookmarks", "favourites": "likes"}


def posts_marked_by(
    db: sqlite_utils.Database, kind: str, actor_uri: str, page: Page
) -> list[tuple[int, ObjectRow]]:
    """(mark id, post) pairs of ``kind`` (bookmarks, favourites) the actor may still
    read, newest mark first; paged by the mark's id, as Mastodon pages them."""
    table = _MARKS[kind]
    rows = db.execute(
        f"SELECT m.id, {_O_COLUMNS} FROM {table} m JOIN objects o ON o.uri = m.object_uri "
        f"WHERE m.actor_uri = :me AND m.id > :lower AND m.id < :upper "
        f"AND {readable_by_me('o')} "
        f"ORDER BY m.id {'ASC' if page.ascending else 'DESC'} LIMIT :limit",
        {"me": actor_uri, **page.bounds()},
    ).fetchall()
    return in_page_order([(int(r[0]), object_from_row(tuple(r[1:]))) for r in rows], page)


def search_statuses(
    db: sqlite_utils.Database, viewer_uri: str, text: str, limit: int, offset: int = 0
) -> list[ObjectRow]:
    """Posts containing ``text`` among those the viewer wrote, favourited, boosted,
    bookmarked or was addressed by (what Mastodon searches without a search
    engine), newest first."""
    escaped = like_escaped(text)
    rows = db.execute(
        f"""SELECT {_O_COLUMNS} FROM objects o WHERE o.id IN (
              SELECT id FROM objects WHERE actor_uri = :me
              UNION SELECT x.id FROM likes l JOIN objects x ON x.uri = l.object_uri
                    WHERE l.actor_uri = :me
              UNION SELECT x.id FROM bookmarks b JOIN objects x ON x.uri = b.object_uri
                    WHERE b.actor_uri = :me
              UNION SELECT x.id FROM objects mine JOIN objects x ON x.uri = mine.boost_of
                    WHERE mine.actor_uri = :me AND mine.boost_of IS NOT NULL
              UNION SELECT object_id FROM object_recipients WHERE actor_uri = :me)
            AND o.boost_of IS NULL AND (o.content LIKE :text ESCAPE '\\'
                                        OR o.summary LIKE :text ESCAPE '\\')
            AND {readable_by_me("o")}
            ORDER BY o.id DESC LIMIT :limit OFFSET :offset""",
        {"me": viewer_uri, "text": f"%{escaped}%", "limit": limit, "offset": offset},
    ).fetchall()
    return [object_from_row(r) for r in rows]
