"""Uploaded media: rows of ``media``, each naming its files in ``store/files.py``.

An upload is ``processing`` until its files are written, then ``ready`` (or
``failed``, with the reason). It belongs to its uploader until a post takes
it (``object_uri``, with its place among the post's attachments); an upload
no post took is removed after a while (``unattached_before``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

_COLUMNS = (
    "id, account_id, kind, mime, file_key, preview_key, size, width, height, preview_width, "
    "preview_height, blurhash, focus_x, focus_y, description, object_uri, position, state, "
    "error, created_at"
)


@dataclass(frozen=True)
class MediaRow:
    id: int
    account_id: int
    kind: str  # image | gifv | video | audio
    mime: str
    file_key: str | None
    preview_key: str | None
    size: int
    width: int | None
    height: int | None
    preview_width: int | None
    preview_height: int | None
    blurhash: str | None
    focus_x: float
    focus_y: float
    description: str
    object_uri: str | None
    position: int
    state: str  # processing | ready | failed
    error: str | None
    created_at: float


def _row(r: Sequence[Any]) -> MediaRow:
    return MediaRow(*r)


@dataclass(frozen=True)
class NewMedia:
    account_id: int
    kind: str
    mime: str
    description: str
    focus_x: float
    focus_y: float
    created_at: float
    state: str = "processing"


def insert_media(db: sqlite_utils.Database, new: NewMedia) -> int:
    cur = db.execute(
        "INSERT INTO media (account_id, kind, mime, description, focus_x, focus_y, state, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [new.account_id, new.kind, new.mime, new.description, new.focus_x, new.focus_y,
         new.state, new.created_at],
    )  # fmt: skip
    return int(cur.lastrowid or 0)


@dataclass(frozen=True)
class StoredFiles:
    kind: str
    mime: str
    file_key: str
    size: int
    width: int | None = None
    height: int | None = None
    preview_key: str | None = None
    preview_width: int | None = None
    preview_height: int | None = None
    blurhash: str | None = None


def mark_ready(db: sqlite_utils.Database, media_id: int, files: StoredFiles) -> None:
    db.execute(
        "UPDATE media SET kind = ?, mime = ?, file_key = ?, size = ?, width = ?, height = ?, "
        "preview_key = ?, preview_width = ?, preview_height = ?, blurhash = ?, "
        "state = 'ready', error = NULL WHERE id = ?",
        [files.kind, files.mime, files.file_key, files.size, files.width, files.height,
         files.preview_key, files.preview_width, files.preview_height, files.blurhash,
         media_id],
    )  # fmt: skip


def mark_failed(db: sqlite_utils.Database, media_id: int, error: str) -> None:
    db.execute("UPDATE media SET state = 'failed', error = ? WHERE id = ?", [error, media_id])


def get_media(db: sqlite_utils.Database, media_id: int) -> MediaRow | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM media WHERE id = ?", [media_id]).fetchone()
    return _row(row) if row else None


def media_of_account(
    db: sqlite_utils.Database, account_id: int, ids: Sequence[int]
) -> dict[int, MediaRow]:
    """The account's own uploads among ``ids``."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM media WHERE account_id = ? AND id IN ({marks})",
        [account_id, *ids],
    ).fetchall()
    return {r[0]: _row(r) for r in rows}


def update_description(
    db: sqlite_utils.Database,
    media_id: int,
    description: str | None,
    focus: tuple[float, float] | None,
) -> None:
    if description is not None:
        db.execute("UPDATE media SET description = ? WHERE id = ?", [description, media_id])
    if focus is not None:
        db.execute("UPDATE media SET focus_x = ?, focus_y = ? WHERE id = ?", [*focus, media_id])


def attach(db: sqlite_utils.Database, object_uri: str, media_ids: Sequence[int]) -> None:
    """Make ``media_ids`` (in this order) the attachments of a post, and only them."""
    db.execute(
        "UPDATE media SET object_uri = NULL WHERE object_uri = ? AND id NOT IN "
        f"({','.join('?' * len(media_ids)) or 'NULL'})",
        [object_uri, *media_ids],
    )
    for position, media_id in enumerate(media_ids):
        db.execute(
            "UPDATE media SET object_uri = ?, position = ? WHERE id = ?",
            [object_uri, position, media_id],
        )


def media_of_posts(db: sqlite_utils.Database, uris: Sequence[str]) -> dict[str, list[MediaRow]]:
    """The attachments of each of ``uris`` (local posts), in order."""
    out: dict[str, list[MediaRow]] = {}
    for start in range(0, len(uris), 500):
        chunk = list(uris[start : start + 500])
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM media WHERE object_uri IN ({','.join('?' * len(chunk))}) "
            "ORDER BY object_uri, position",
            chunk,
        ).fetchall()
        for r in rows:
            row = _row(r)
            out.setdefault(str(row.object_uri), []).append(row)
    return out


def bytes_of_account(db: sqlite_utils.Database, account_id: int) -> int:
    row = db.execute(
        "SELECT coalesce(sum(size), 0) FROM media WHERE account_id = ? AND state <> 'failed'",
        [account_id],
    ).fetchone()
    return int(row[0])


def unattached_before(db: sqlite_utils.Database, when: float, limit: int) -> list[MediaRow]:
    """Uploads no post took, made before ``when`` (and not an avatar or header)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM media WHERE object_uri IS NULL AND created_at < ? "
        "AND kind <> 'profile' ORDER BY created_at LIMIT ?",
        [when, limit],
    ).fetchall()
    return [_row(r) for r in rows]


def of_deleted(db: sqlite_utils.Database, limit: int) -> list[MediaRow]:
    """Uploads whose post was deleted, or whose account was (avatars too)."""
    columns = ", ".join(f"m.{c}" for c in _COLUMNS.split(", "))
    rows = db.execute(
        f"SELECT {columns} FROM media m WHERE EXISTS (SELECT 1 FROM accounts a "
        "WHERE a.id = m.account_id AND a.deleted_at IS NOT NULL) OR EXISTS ("
        "SELECT 1 FROM objects o WHERE o.uri = m.object_uri AND o.deleted_at IS NOT NULL) "
        "LIMIT ?",
        [limit],
    ).fetchall()
    return [_row(r) for r in rows]


def delete_media(db: sqlite_utils.Database, media_id: int) -> list[str]:
    """Remove one upload's row; the file keys no other row still names (to delete)."""
    row = get_media(db, media_id)
    if row is None:
        return []
    db.execute("DELETE FROM media WHERE id = ?", [media_id])
    unused = []
    for key in (row.file_key, row.preview_key):
        if key and not key_in_use(db, key):
            unused.append(key)
    return unused


def key_in_use(db: sqlite_utils.Database, key: str) -> bool:
    """Whether an upload or a cached remote copy still names the file ``key``
    (files are content-addressed: the same bytes are one file for all of them)."""
    row = db.execute(
        "SELECT 1 FROM media WHERE file_key = ? UNION ALL SELECT 1 FROM media "
        "WHERE preview_key = ? UNION ALL SELECT 1 FROM media_cache WHERE file_key = ? LIMIT 1",
        [key, key, key],
    ).fetchone()
    return row is not None


def fail_interrupted(db: sqlite_utils.Database) -> int:
    """Uploads whose processing a stop cut short (their incoming file is gone)."""
    cur = db.execute(
        "UPDATE media SET state = 'failed', error = 'the server stopped while processing it' "
        "WHERE state = 'processing'"
    )
    return int(cur.rowcount)


# An avatar or header is an upload "attached" to its actor, at these places.
PICTURE_PLACES = {"avatar": 0, "header": 1}


def replace_picture(
    db: sqlite_utils.Database,
    account_id: int,
    actor_uri: str,
    kind: str,
    files: StoredFiles | None,
    now: float,
) -> list[str]:
    """Make ``files`` the actor's avatar or header (None: none); the file keys of
    the one it replaces that no row names any more (to delete)."""
    place = PICTURE_PLACES[kind]
    old = db.execute(
        "SELECT id FROM media WHERE object_uri = ? AND position = ?", [actor_uri, place]
    ).fetchall()
    unused: list[str] = []
    for (media_id,) in old:
        unused += delete_media(db, int(media_id))
    if files is not None:
        cur = db.execute(
            "INSERT INTO media (account_id, kind, mime, file_key, size, width, height, "
            "object_uri, position, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "'ready', ?)",
            [account_id, files.kind, files.mime, files.file_key, files.size, files.width,
             files.height, actor_uri, place, now],
        )  # fmt: skip
        assert cur.lastrowid
    return [k for k in unused if files is None or k != files.file_key]
