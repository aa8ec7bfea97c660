"""The cache of remote media: rows of ``media_cache`` naming files of ``store/files.py``.

A row is ``ready`` (its copy is stored under ``file_key``) or ``failed`` (the
reason kept, so the address is not tried again until the row ages out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from agora_node.store.media import key_in_use


@dataclass(frozen=True)
class CachedFile:
    url: str
    file_key: str | None
    size: int
    state: str
    fetched_at: float


def cached_among(db: sqlite_utils.Database, urls: Sequence[str]) -> dict[str, str | None]:
    """The addresses among ``urls`` the cache knows: the file key of a copy, or
    None for one that failed."""
    out: dict[str, str | None] = {}
    unique = list(dict.fromkeys(urls))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = db.execute(
            f"SELECT url, file_key FROM media_cache WHERE url IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
        out.update((str(u), k) for u, k in rows)
    return out


def put_cached(
    db: sqlite_utils.Database,
    url: str,
    *,
    file_key: str | None,
    mime: str | None,
    size: int,
    error: str | None,
    now: float,
) -> None:
    db.execute(
        "INSERT INTO media_cache (url, file_key, mime, size, state, error, fetched_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET file_key = excluded.file_key, "
        "mime = excluded.mime, size = excluded.size, state = excluded.state, "
        "error = excluded.error, fetched_at = excluded.fetched_at",
        [url, file_key, mime, size, "failed" if error else "ready", error, now],
    )


def cache_size(db: sqlite_utils.Database) -> tuple[int, int]:
    """(files, bytes) the cache holds."""
    row = db.execute(
        "SELECT count(*), coalesce(sum(size), 0) FROM media_cache WHERE state = 'ready'"
    ).fetchone()
    return int(row[0]), int(row[1])


def oldest(db: sqlite_utils.Database, limit: int) -> list[CachedFile]:
    rows = db.execute(
        "SELECT url, file_key, size, state, fetched_at FROM media_cache "
        "ORDER BY fetched_at, url LIMIT ?",
        [limit],
    ).fetchall()
    return [CachedFile(str(r[0]), r[1], int(r[2]), str(r[3]), float(r[4])) for r in rows]


def forget(db: sqlite_utils.Database, url: str) -> str | None:
    """Drop one entry; its file key if no other entry or upload still names it."""
    row = db.execute("SELECT file_key FROM media_cache WHERE url = ?", [url]).fetchone()
    db.execute("DELETE FROM media_cache WHERE url = ?", [url])
    key = row[0] if row else None
    if key is None or key_in_use(db, key):
        return None
    return str(key)
