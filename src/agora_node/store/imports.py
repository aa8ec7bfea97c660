"""Imports of a person's relations from a file, row by row.

An import is written whole in one transaction (its rows ``pending``); the
importer takes pending rows one at a time and marks each ``done`` or
``failed`` with the reason. The import is finished when no row is pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class ImportRow:
    id: int
    import_id: int
    account_id: int
    address: str
    show_reblogs: bool | None
    notify: bool | None


@dataclass(frozen=True)
class ImportProgress:
    id: int
    kind: str
    total: int
    done: int
    failed: int
    created_at: float
    finished_at: float | None
    # (address, why) of the rows that failed, the first ones
    failures: tuple[tuple[str, str], ...]

    @property
    def pending(self) -> int:
        return self.total - self.done - self.failed


def _opt(value: bool | None) -> int | None:
    return None if value is None else int(value)


def insert_import(
    db: sqlite_utils.Database,
    account_id: int,
    kind: str,
    rows: Sequence[tuple[str, bool | None, bool | None]],
    now: float,
) -> int:
    """A new import of ``rows`` (address, show boosts, notify); its id."""
    cur = db.execute(
        "INSERT INTO imports (account_id, kind, total, created_at) VALUES (?, ?, ?, ?)",
        [account_id, kind, len(rows), now],
    )
    import_id = int(cur.lastrowid or 0)
    db.conn.executemany(
        "INSERT INTO import_rows (import_id, address, show_reblogs, notify) VALUES (?, ?, ?, ?)",
        [(import_id, address, _opt(boosts), _opt(notify)) for address, boosts, notify in rows],
    )
    return import_id


def next_pending_rows(db: sqlite_utils.Database, limit: int) -> list[ImportRow]:
    """The oldest pending rows of any import."""
    rows = db.execute(
        "SELECT r.id, r.import_id, i.account_id, r.address, r.show_reblogs, r.notify "
        "FROM import_rows r JOIN imports i ON i.id = r.import_id "
        "WHERE r.state = 'pending' ORDER BY r.id LIMIT ?",
        [limit],
    ).fetchall()
    return [
        ImportRow(
            int(r[0]),
            int(r[1]),
            int(r[2]),
            str(r[3]),
            None if r[4] is None else bool(r[4]),
            None if r[5] is None else bool(r[5]),
        )
        for r in rows
    ]


def finish_row(
    db: sqlite_utils.Database, row_id: int, import_id: int, error: str | None, now: float
) -> None:
    """Mark a row done (or failed, with ``error``); the import ends with its last row."""
    db.execute(
        "UPDATE import_rows SET state = ?, error = ? WHERE id = ? AND state = 'pending'",
        ["failed" if error else "done", error, row_id],
    )
    db.execute(
        "UPDATE imports SET finished_at = ? WHERE id = ? AND finished_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM import_rows WHERE import_id = ? AND state = 'pending')",
        [now, import_id, import_id],
    )


def imports_of(
    db: sqlite_utils.Database, account_id: int, limit: int = 5, failures: int = 20
) -> list[ImportProgress]:
    """The account's latest imports, newest first, with counts and the first failures."""
    found = db.execute(
        "SELECT id, kind, total, created_at, finished_at FROM imports WHERE account_id = ? "
        "ORDER BY id DESC LIMIT ?",
        [account_id, limit],
    ).fetchall()
    out = []
    for import_id, kind, total, created_at, finished_at in found:
        counts = dict(
            db.execute(
                "SELECT state, count(*) FROM import_rows WHERE import_id = ? GROUP BY state",
                [import_id],
            ).fetchall()
        )
        failed = db.execute(
            "SELECT address, error FROM import_rows WHERE import_id = ? AND state = 'failed' "
            "ORDER BY id LIMIT ?",
            [import_id, failures],
        ).fetchall()
        out.append(
            ImportProgress(
                id=int(import_id),
                kind=str(kind),
                total=int(total),
                done=int(counts.get("done", 0)),
                failed=int(counts.get("failed", 0)),
                created_at=float(created_at),
                finished_at=finished_at,
                failures=tuple((str(a), str(e)) for a, e in failed),
            )
        )
    return out


def has_unfinished_import(db: sqlite_utils.Database, account_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM imports WHERE account_id = ? AND finished_at IS NULL LIMIT 1", [account_id]
    ).fetchone()
    return row is not None
