"""Hashtags: their timelines, their use over the last days, search, and the
hashtags people follow (whose public posts join their home timeline).

Tag names are stored lower-cased without ``#`` (``tags.name``), so a name is
normalised the same way before it is looked up. A hashtag timeline holds the
public, live, original posts carrying the tag, minus authors the viewer
blocks or mutes, or who block the viewer; it walks the ``tags_hashtag_object``
index newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.db import like_escaped
from agora_node.store.objects import OBJECT_COLUMNS_OF_O as _O_COLUMNS
from agora_node.store.objects import ObjectRow
from agora_node.store.objects import object_from_row as _object_row
from agora_node.store.timelines import Page, in_page_order, public_to_me

DAY = 86400.0
HISTORY_DAYS = 7


def normal_name(name: str) -> str:
    """How a hashtag is stored: without ``#``, lower case."""
    return name.strip().lstrip("#").lower()


def tag_timeline(
    db: sqlite_utils.Database,
    name: str,
    page: Page,
    *,
    local: bool | None = None,
    viewer_uri: str | None = None,
    any_of: Sequence[str] = (),
    all_of: Sequence[str] = (),
    none_of: Sequence[str] = (),
) -> list[ObjectRow]:
    """Public posts tagged ``name`` or any of ``any_of``, with every one of ``all_of``
    and none of ``none_of``: all of them, or only local or only remote ones."""
    names = [normal_name(n) for n in dict.fromkeys([name, *any_of]) if normal_name(n)]
    marks = {f"n{i}": n for i, n in enumerate(names)}
    where = "" if local is None else "AND o.local = :local "
    for prefix, wanted, test in (("a", all_of, "EXISTS"), ("x", none_of, "NOT EXISTS")):
        for i, other in enumerate(wanted):
            marks[f"{prefix}{i}"] = normal_name(other)
            where += (
                f"AND {test} (SELECT 1 FROM tags u WHERE u.object_id = o.id "
                f"AND u.kind = 'hashtag' AND u.name = :{prefix}{i}) "
            )
    order = "ASC" if page.ascending else "DESC"
    first = ", ".join(":" + k for k in marks if k.startswith("n"))
    rows = db.execute(
        f"""SELECT {_O_COLUMNS} FROM tags t INDEXED BY tags_hashtag_object
            CROSS JOIN objects o ON o.id = t.object_id
            WHERE t.kind = 'hashtag' AND t.name IN ({first})
              AND t.object_id > :lower AND t.object_id < :upper
              {where}AND {public_to_me("o")}
            GROUP BY o.id ORDER BY t.object_id {order} LIMIT :limit""",
        {"me": viewer_uri or "", "local": int(bool(local)), **marks, **page.bounds()},
    ).fetchall()
    return in_page_order([_object_row(r) for r in rows], page)


@dataclass(frozen=True)
class TagDay:
    day: float  # midnight UTC, seconds since the epoch
    uses: int
    accounts: int


def history(
    db: sqlite_utils.Database, names: Sequence[str], now: float, days: int = HISTORY_DAYS
) -> dict[str, list[TagDay]]:
    """Per tag, newest day first: how many posts carried it and by how many accounts."""
    today = (now // DAY) * DAY
    start = today - (days - 1) * DAY
    wanted = list(dict.fromkeys(normal_name(n) for n in names))
    counts: dict[tuple[str, float], tuple[int, int]] = {}
    for chunk_start in range(0, len(wanted), 200):
        chunk = wanted[chunk_start : chunk_start + 200]
        rows = db.execute(
            f"""SELECT t.name, CAST(o.published / {DAY} AS INTEGER) * {DAY} AS day, count(*),
                       count(DISTINCT o.actor_uri)
                FROM tags t CROSS JOIN objects o ON o.id = t.object_id
                WHERE t.kind = 'hashtag' AND t.name IN ({",".join("?" * len(chunk))})
                  AND o.published >= ? AND o.deleted_at IS NULL AND o.boost_of IS NULL
                GROUP BY t.name, day""",
            [*chunk, start],
        )
        for tag, day, uses, accounts in rows:
            counts[(str(tag), float(day))] = (int(uses), int(accounts))
    out: dict[str, list[TagDay]] = {}
    for tag in wanted:
        out[tag] = [
            TagDay(day, *counts.get((tag, day), (0, 0)))
            for day in (today - i * DAY for i in range(days))
        ]
    return out


def search_hashtags(
    db: sqlite_utils.Database, prefix: str, limit: int, offset: int = 0
) -> list[str]:
    """Known hashtags starting with ``prefix``, the most used first."""
    name = normal_name(prefix)
    if not name:
        return []
    escaped = like_escaped(name)
    rows = db.execute(
        "SELECT name FROM tags WHERE kind = 'hashtag' AND name LIKE ? ESCAPE '\\' "
        "GROUP BY name ORDER BY name = ? DESC, count(*) DESC, name LIMIT ? OFFSET ?",
        [f"{escaped}%", name, limit, offset],
    ).fetchall()
    return [str(r[0]) for r in rows]


def is_known(db: sqlite_utils.Database, name: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM tags WHERE kind = 'hashtag' AND name = ? LIMIT 1", [normal_name(name)]
    ).fetchone()
    return row is not None


# -- followed hashtags ------------------------------------------------------------


def follow_tag(db: sqlite_utils.Database, actor_uri: str, name: str, now: float) -> None:
    db.execute(
        "INSERT INTO followed_tags (actor_uri, name, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (actor_uri, name) DO NOTHING",
        [actor_uri, normal_name(name), now],
    )


def unfollow_tag(db: sqlite_utils.Database, actor_uri: str, name: str) -> None:
    db.execute(
        "DELETE FROM followed_tags WHERE actor_uri = ? AND name = ?",
        [actor_uri, normal_name(name)],
    )


def followed_among(db: sqlite_utils.Database, actor_uri: str, names: Sequence[str]) -> set[str]:
    wanted = list(dict.fromkeys(normal_name(n) for n in names))
    if not wanted:
        return set()
    rows = db.execute(
        f"SELECT name FROM followed_tags WHERE actor_uri = ? "
        f"AND name IN ({','.join('?' * len(wanted))})",
        [actor_uri, *wanted],
    ).fetchall()
    return {str(r[0]) for r in rows}


def tag_followers(db: sqlite_utils.Database, names: Sequence[str]) -> set[str]:
    """Who follows any of the hashtags ``names`` (for the user streams)."""
    wanted = list(dict.fromkeys(normal_name(n) for n in names))
    if not wanted:
        return set()
    rows = db.execute(
        f"SELECT DISTINCT actor_uri FROM followed_tags "
        f"WHERE name IN ({','.join('?' * len(wanted))})",
        wanted,
    ).fetchall()
    return {str(r[0]) for r in rows}


def followed_tags(db: sqlite_utils.Database, actor_uri: str, page: Page) -> list[tuple[int, str]]:
    """(row id, name) of the hashtags ``actor_uri`` follows, newest first."""
    params: dict[str, Any] = {"me": actor_uri, **page.bounds()}
    rows = db.execute(
        "SELECT id, name FROM followed_tags WHERE actor_uri = :me "
        "AND id > :lower AND id < :upper "
        f"ORDER BY id {'ASC' if page.ascending else 'DESC'} LIMIT :limit",
        params,
    ).fetchall()
    return in_page_order([(int(r[0]), str(r[1])) for r in rows], page)
