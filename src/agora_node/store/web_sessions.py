"""Browser sessions of the web pages, stored by the SHA-256 hash of their cookie.

A session row names its account and carries the session's CSRF token; it
lives until ``expires_at``, which every use pushes forward (a remembered
session for weeks, another for hours). The clear cookie value never reaches
this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class WebSessionRow:
    id_hash: str
    account_id: int
    csrf: str
    created_at: float
    seen_at: float
    expires_at: float
    remember: bool
    user_agent: str
    ip: str


_COLUMNS = "id_hash, account_id, csrf, created_at, seen_at, expires_at, remember, user_agent, ip"


def _row(row: tuple[Any, ...]) -> WebSessionRow:
    return WebSessionRow(
        row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7], row[8]
    )


def insert_session(db: sqlite_utils.Database, row: WebSessionRow) -> None:
    db.execute(
        f"INSERT INTO web_sessions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            row.id_hash, row.account_id, row.csrf, row.created_at, row.seen_at,
            row.expires_at, int(row.remember), row.user_agent, row.ip,
        ],
    )  # fmt: skip


def get_live_session(db: sqlite_utils.Database, id_hash: str, now: float) -> WebSessionRow | None:
    """The session with this hash, unless it has expired or its account is deleted."""
    row = db.execute(
        f"SELECT {', '.join('s.' + c.strip() for c in _COLUMNS.split(','))}"
        " FROM web_sessions s JOIN accounts a ON a.id = s.account_id"
        " WHERE s.id_hash = ? AND s.expires_at > ?"
        " AND a.deleted_at IS NULL AND a.suspended_at IS NULL",
        [id_hash, now],
    ).fetchone()
    return _row(row) if row else None


def touch_session(
    db: sqlite_utils.Database, id_hash: str, seen_at: float, expires_at: float
) -> None:
    db.execute(
        "UPDATE web_sessions SET seen_at = ?, expires_at = ? WHERE id_hash = ?",
        [seen_at, expires_at, id_hash],
    )


def delete_session(db: sqlite_utils.Database, id_hash: str) -> None:
    db.execute("DELETE FROM web_sessions WHERE id_hash = ?", [id_hash])


def delete_sessions_of(
    db: sqlite_utils.Database, account_id: int, *, keep: str | None = None
) -> int:
    """End every session of an account (but ``keep``, the one asking); how many ended."""
    cur = db.execute(
        "DELETE FROM web_sessions WHERE account_id = ? AND id_hash != ?",
        [account_id, keep or ""],
    )
    return cur.rowcount


def delete_session_of(db: sqlite_utils.Database, account_id: int, id_hash: str) -> bool:
    """End one session of an account (only one of its own); whether there was one."""
    cur = db.execute(
        "DELETE FROM web_sessions WHERE account_id = ? AND id_hash = ?", [account_id, id_hash]
    )
    return cur.rowcount == 1


def sessions_of(db: sqlite_utils.Database, account_id: int, now: float) -> list[WebSessionRow]:
    """The account's live sessions, the most recently used first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM web_sessions WHERE account_id = ? AND expires_at > ?"
        " ORDER BY seen_at DESC",
        [account_id, now],
    ).fetchall()
    return [_row(r) for r in rows]


def delete_sessions_expired_before(db: sqlite_utils.Database, when: float) -> int:
    return db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", [when]).rowcount
