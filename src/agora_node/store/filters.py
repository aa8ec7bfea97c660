"""People's keyword filters: each with its contexts, action and end, its
keywords and the posts it names (``processing/filters.py`` matches them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class KeywordRow:
    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True)
class FilterStatusRow:
    id: int
    filter_id: int
    object_uri: str
    object_id: int | None = None


@dataclass(frozen=True)
class FilterRow:
    id: int
    account_id: int
    title: str
    contexts: tuple[str, ...]
    action: str
    expires_at: float | None
    created_at: float
    keywords: tuple[KeywordRow, ...] = ()
    statuses: tuple[FilterStatusRow, ...] = ()


def _with_parts(db: sqlite_utils.Database, rows: list[tuple]) -> list[FilterRow]:  # type: ignore[type-arg]
    if not rows:
        return []
    ids = [int(r[0]) for r in rows]
    marks = ",".join("?" * len(ids))
    keywords: dict[int, list[KeywordRow]] = {}
    for k in db.execute(
        f"SELECT id, filter_id, keyword, whole_word FROM filter_keywords "
        f"WHERE filter_id IN ({marks}) ORDER BY id",
        ids,
    ):
        keywords.setdefault(int(k[1]), []).append(
            KeywordRow(int(k[0]), int(k[1]), k[2], bool(k[3]))
        )
    statuses: dict[int, list[FilterStatusRow]] = {}
    for s in db.execute(
        "SELECT s.id, s.filter_id, s.object_uri, o.id FROM filter_statuses s "
        f"LEFT JOIN objects o ON o.uri = s.object_uri WHERE s.filter_id IN ({marks}) "
        "ORDER BY s.id",
        ids,
    ):
        statuses.setdefault(int(s[1]), []).append(FilterStatusRow(int(s[0]), int(s[1]), s[2], s[3]))
    return [
        FilterRow(
            int(r[0]),
            int(r[1]),
            r[2],
            tuple(json.loads(r[3])),
            r[4],
            r[5],
            float(r[6]),
            tuple(keywords.get(int(r[0]), ())),
            tuple(statuses.get(int(r[0]), ())),
        )
        for r in rows
    ]


_COLUMNS = "id, account_id, title, contexts, action, expires_at, created_at"


def filters_of(db: sqlite_utils.Database, account_id: int) -> list[FilterRow]:
    """All of an account's filters, expired ones too (the list apps show)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM filters WHERE account_id = ? ORDER BY id", [account_id]
    ).fetchall()
    return _with_parts(db, rows)


def active_filters(db: sqlite_utils.Database, account_id: int, now: float) -> list[FilterRow]:
    """The filters in force now (what timelines, notifications and streams apply)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM filters WHERE account_id = ? "
        "AND (expires_at IS NULL OR expires_at > ?) ORDER BY id",
        [account_id, now],
    ).fetchall()
    return _with_parts(db, rows)


def active_filters_of_actor(
    db: sqlite_utils.Database, actor_uri: str, now: float
) -> list[FilterRow]:
    """:func:`active_filters` of the local account whose actor is ``actor_uri``."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM filters WHERE account_id = (SELECT a.id FROM accounts a "
        "JOIN actors x ON x.id = a.actor_id WHERE x.uri = ?) "
        "AND (expires_at IS NULL OR expires_at > ?) ORDER BY id",
        [actor_uri, now],
    ).fetchall()
    return _with_parts(db, rows)


def status_row(db: sqlite_utils.Database, status_row_id: int) -> FilterStatusRow | None:
    row = db.execute(
        "SELECT s.id, s.filter_id, s.object_uri, o.id FROM filter_statuses s "
        "LEFT JOIN objects o ON o.uri = s.object_uri WHERE s.id = ?",
        [status_row_id],
    ).fetchone()
    return FilterStatusRow(int(row[0]), int(row[1]), row[2], row[3]) if row else None


def get_filter(db: sqlite_utils.Database, account_id: int, filter_id: int) -> FilterRow | None:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM filters WHERE account_id = ? AND id = ?", [account_id, filter_id]
    ).fetchall()
    found = _with_parts(db, rows)
    return found[0] if found else None


def add_filter(
    db: sqlite_utils.Database,
    account_id: int,
    *,
    title: str,
    contexts: Iterable[str],
    action: str,
    expires_at: float | None,
    now: float,
) -> int:
    cur = db.execute(
        "INSERT INTO filters (account_id, title, contexts, action, expires_at, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [account_id, title, json.dumps(list(contexts)), action, expires_at, now],
    )
    return int(cur.lastrowid or 0)


def change_filter(
    db: sqlite_utils.Database,
    filter_id: int,
    *,
    title: str,
    contexts: Iterable[str],
    action: str,
    expires_at: float | None,
) -> None:
    db.execute(
        "UPDATE filters SET title = ?, contexts = ?, action = ?, expires_at = ? WHERE id = ?",
        [title, json.dumps(list(contexts)), action, expires_at, filter_id],
    )


def delete_filter(db: sqlite_utils.Database, filter_id: int) -> None:
    db.execute("DELETE FROM filters WHERE id = ?", [filter_id])


def add_keyword(db: sqlite_utils.Database, filter_id: int, keyword: str, whole_word: bool) -> int:
    cur = db.execute(
        "INSERT INTO filter_keywords (filter_id, keyword, whole_word) VALUES (?, ?, ?)",
        [filter_id, keyword, int(whole_word)],
    )
    return int(cur.lastrowid or 0)


def change_keyword(
    db: sqlite_utils.Database, keyword_id: int, keyword: str, whole_word: bool
) -> None:
    db.execute(
        "UPDATE filter_keywords SET keyword = ?, whole_word = ? WHERE id = ?",
        [keyword, int(whole_word), keyword_id],
    )


def delete_keyword(db: sqlite_utils.Database, keyword_id: int) -> None:
    db.execute("DELETE FROM filter_keywords WHERE id = ?", [keyword_id])


def keyword_owner(db: sqlite_utils.Database, keyword_id: int) -> tuple[int, int] | None:
    """(account id, filter id) of a keyword."""
    row = db.execute(
        "SELECT f.account_id, f.id FROM filter_keywords k JOIN filters f ON f.id = k.filter_id "
        "WHERE k.id = ?",
        [keyword_id],
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def add_status(db: sqlite_utils.Database, filter_id: int, object_uri: str) -> int | None:
    cur = db.execute(
        "INSERT INTO filter_statuses (filter_id, object_uri) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [filter_id, object_uri],
    )
    return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


def delete_status(db: sqlite_utils.Database, status_row_id: int) -> None:
    db.execute("DELETE FROM filter_statuses WHERE id = ?", [status_row_id])


def status_owner(db: sqlite_utils.Database, status_row_id: int) -> tuple[int, int] | None:
    row = db.execute(
        "SELECT f.account_id, f.id FROM filter_statuses s JOIN filters f ON f.id = s.filter_id "
        "WHERE s.id = ?",
        [status_row_id],
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else None


def count_of(db: sqlite_utils.Database, account_id: int) -> int:
    return int(
        db.execute("SELECT count(*) FROM filters WHERE account_id = ?", [account_id]).fetchone()[0]
    )
