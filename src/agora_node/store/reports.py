"""Reports: people's (local, or a remote server's ``Flag``) about an account and
its posts, and the moderators' work on them (who took one, notes, outcome)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlite_utils

CATEGORIES = ("spam", "legal", "violation", "other")


@dataclass(frozen=True)
class ReportRow:
    id: int
    activity_uri: str
    reporter_uri: str
    target_uri: str
    status_uris: tuple[str, ...]
    category: str
    rule_ids: tuple[int, ...]
    comment: str
    local: bool
    forwarded: bool
    assigned_account_id: int | None
    action_taken: str | None
    action_taken_by: str | None
    action_comment: str
    created_at: float
    updated_at: float
    resolved_at: float | None


@dataclass(frozen=True)
class ReportNote:
    id: int
    report_id: int
    author: str
    content: str
    created_at: float


_COLUMNS = (
    "id, activity_uri, reporter_uri, target_uri, status_uris, category, rule_ids, content, "
    "local, forwarded, assigned_account_id, action_taken, action_taken_by, action_comment, "
    "created_at, coalesce(updated_at, created_at), resolved_at"
)


def _report(r: tuple) -> ReportRow:  # type: ignore[type-arg]
    return ReportRow(
        int(r[0]), r[1], r[2], r[3], tuple(json.loads(r[4])), r[5],
        tuple(int(i) for i in json.loads(r[6])), r[7], bool(r[8]), bool(r[9]), r[10], r[11],
        r[12], r[13], float(r[14]), float(r[15]), r[16],
    )  # fmt: skip


def add_report(
    db: sqlite_utils.Database,
    *,
    activity_uri: str,
    reporter_uri: str,
    target_uri: str,
    status_uris: list[str],
    comment: str,
    now: float,
    category: str = "other",
    rule_ids: list[int] | None = None,
    local: bool = False,
    forwarded: bool = False,
) -> int | None:
    """The new report's id; None when a report with that activity id exists."""
    cur = db.execute(
        "INSERT INTO reports (activity_uri, reporter_uri, target_uris, content, created_at, "
        "target_uri, status_uris, category, rule_ids, local, forwarded, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(activity_uri) DO NOTHING",
        [activity_uri, reporter_uri, json.dumps([target_uri, *status_uris]), comment, now,
         target_uri, json.dumps(status_uris), category, json.dumps(rule_ids or []), int(local),
         int(forwarded), now],
    )  # fmt: skip
    return int(cur.lastrowid) if cur.rowcount == 1 and cur.lastrowid else None


def get_report(db: sqlite_utils.Database, report_id: int) -> ReportRow | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM reports WHERE id = ?", [report_id]).fetchone()
    return _report(row) if row else None


def page_of_reports(
    db: sqlite_utils.Database,
    *,
    resolved: bool | None,
    lower: int,
    upper: int,
    limit: int,
    ascending: bool = False,
    target_uri: str | None = None,
    reporter_uri: str | None = None,
) -> list[ReportRow]:
    """Reports with ids between the bounds, newest first; open, resolved or all."""
    where = ["id > ?", "id < ?"]
    params: list[object] = [lower, upper]
    if resolved is not None:
        where.append("resolved_at IS NOT NULL" if resolved else "resolved_at IS NULL")
    if target_uri is not None:
        where.append("target_uri = ?")
        params.append(target_uri)
    if reporter_uri is not None:
        where.append("reporter_uri = ?")
        params.append(reporter_uri)
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM reports WHERE {' AND '.join(where)} "
        f"ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?",
        [*params, limit],
    )
    return [_report(r) for r in rows]


def assign(db: sqlite_utils.Database, report_id: int, account_id: int | None, now: float) -> None:
    db.execute(
        "UPDATE reports SET assigned_account_id = ?, updated_at = ? WHERE id = ?",
        [account_id, now, report_id],
    )


def set_category(
    db: sqlite_utils.Database, report_id: int, category: str, rule_ids: list[int], now: float
) -> None:
    db.execute(
        "UPDATE reports SET category = ?, rule_ids = ?, updated_at = ? WHERE id = ?",
        [category, json.dumps(rule_ids), now, report_id],
    )


def resolve(
    db: sqlite_utils.Database,
    report_id: int,
    *,
    action: str,
    by: str,
    comment: str,
    now: float,
) -> None:
    db.execute(
        "UPDATE reports SET resolved_at = ?, action_taken = ?, action_taken_by = ?, "
        "action_comment = ?, updated_at = ? WHERE id = ?",
        [now, action, by, comment, now, report_id],
    )


def reopen(db: sqlite_utils.Database, report_id: int, now: float) -> None:
    db.execute(
        "UPDATE reports SET resolved_at = NULL, action_taken = NULL, action_taken_by = NULL, "
        "action_comment = '', updated_at = ? WHERE id = ?",
        [now, report_id],
    )


def add_note(
    db: sqlite_utils.Database, report_id: int, author: str, content: str, now: float
) -> int:
    cur = db.execute(
        "INSERT INTO report_notes (report_id, author, content, created_at) VALUES (?, ?, ?, ?)",
        [report_id, author, content, now],
    )
    db.execute("UPDATE reports SET updated_at = ? WHERE id = ?", [now, report_id])
    return int(cur.lastrowid or 0)


def notes_of(db: sqlite_utils.Database, report_id: int) -> list[ReportNote]:
    rows = db.execute(
        "SELECT id, report_id, author, content, created_at FROM report_notes "
        "WHERE report_id = ? ORDER BY id",
        [report_id],
    )
    return [ReportNote(int(r[0]), int(r[1]), r[2], r[3], float(r[4])) for r in rows]


def open_count(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM reports WHERE resolved_at IS NULL").fetchone()[0])
