"""Objects (notes, boosts, tombstones) and the activities we have seen."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class ObjectRow:
    id: int
    uri: str
    type: str
    actor_uri: str
    local: bool
    visibility: str
    content: str
    summary: str
    sensitive: bool
    name: str
    url: str | None
    in_reply_to: str | None
    conversation: str | None
    boost_of: str | None
    activity_uri: str | None
    published: float
    updated: float | None
    data: dict[str, Any]
    deleted_at: float | None

    @property
    def is_tombstone(self) -> bool:
        return self.deleted_at is not None


# How many edits and deletions the change log keeps: far more than a stream
# falls behind between two polls.
KEEP_CHANGES = 10_000

OBJECT_COLUMNS = (
    "id, uri, type, actor_uri, local, visibility, content, summary, sensitive, name, url, "
    "in_reply_to, conversation, boost_of, activity_uri, published, updated, data, deleted_at"
)


# The same columns read through the alias ``o`` (``objects o`` in joins).
OBJECT_COLUMNS_OF_O = ", ".join(f"o.{c.strip()}" for c in OBJECT_COLUMNS.split(","))


def object_from_row(row: tuple[Any, ...]) -> ObjectRow:
    return ObjectRow(
        row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], row[7], bool(row[8]),
        row[9], row[10], row[11], row[12], row[13], row[14], row[15], row[16],
        json.loads(row[17] or "{}"), row[18],
    )  # fmt: skip


def get_object(db: sqlite_utils.Database, uri: str) -> ObjectRow | None:
    row = db.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE uri = ?", [uri]).fetchone()
    return object_from_row(row) if row else None


def get_object_by_url(db: sqlite_utils.Database, url: str) -> ObjectRow | None:
    """A post by the page address people copy (its ``url``), the oldest if several claim it."""
    row = db.execute(
        f"SELECT {OBJECT_COLUMNS} FROM objects WHERE url = ? ORDER BY id LIMIT 1", [url]
    ).fetchone()
    return object_from_row(row) if row else None


def get_object_by_id(db: sqlite_utils.Database, object_id: int) -> ObjectRow | None:
    row = db.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE id = ?", [object_id]).fetchone()
    return object_from_row(row) if row else None


def get_objects_by_ids(db: sqlite_utils.Database, ids: list[int]) -> list[ObjectRow]:
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = db.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE id IN ({marks})", ids).fetchall()
    return [object_from_row(r) for r in rows]


def get_objects_by_uris(db: sqlite_utils.Database, uris: list[str]) -> dict[str, ObjectRow]:
    out: dict[str, ObjectRow] = {}
    for start in range(0, len(uris), 500):
        chunk = uris[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {OBJECT_COLUMNS} FROM objects WHERE uri IN ({marks})"
        for row in db.execute(sql, chunk):
            obj = object_from_row(row)
            out[obj.uri] = obj
    return out


def insert_object(db: sqlite_utils.Database, values: dict[str, Any]) -> int | None:
    """Insert a new object; returns its id, or None if the uri is already known
    (including as a tombstone, so a late Create never resurrects a deleted note)."""
    record = dict(values)
    record["data"] = json.dumps(record.get("data", {}), separators=(",", ":"))
    cols = list(record)
    cur = db.execute(
        f"INSERT INTO objects ({','.join(cols)}) VALUES ({','.join('?' * len(cols))}) "
        "ON CONFLICT(uri) DO NOTHING",
        [record[c] for c in cols],
    )
    if cur.rowcount != 1:
        return None
    return int(cur.lastrowid or 0)


def update_object(
    db: sqlite_utils.Database,
    uri: str,
    values: dict[str, Any],
    previous_data: dict[str, Any],
    edited_at: float,
) -> None:
    """Apply an edit, keeping the previous version in the history."""
    db.execute(
        "INSERT INTO object_edits (object_uri, data, edited_at) VALUES (?, ?, ?)",
        [uri, json.dumps(previous_data, separators=(",", ":")), edited_at],
    )
    record = dict(values)
    if "data" in record:
        record["data"] = json.dumps(record["data"], separators=(",", ":"))
    sets = ",".join(f"{c} = ?" for c in record)
    db.execute(f"UPDATE objects SET {sets} WHERE uri = ?", [*record.values(), uri])
    _log_change(db, "update", "uri = ?", [uri], edited_at)


def _log_change(
    db: sqlite_utils.Database, kind: str, where: str, params: list[Any], when: float
) -> None:
    """Record an edit or deletion for the streaming API (read by store/stream.py);
    only the newest ``KEEP_CHANGES`` are kept, so the log stays small."""
    db.execute(
        f"INSERT INTO object_changes (object_id, kind, at) SELECT id, ?, ? FROM objects "
        f"WHERE {where}",
        [kind, when, *params],
    )
    db.execute(
        "DELETE FROM object_changes WHERE id <= (SELECT max(id) FROM object_changes) - ?",
        [KEEP_CHANGES],
    )


def object_history(db: sqlite_utils.Database, uri: str) -> list[dict[str, Any]]:
    rows = db.execute(
        "SELECT data FROM object_edits WHERE object_uri = ? ORDER BY id", [uri]
    ).fetchall()
    return [json.loads(r[0]) for r in rows]


def tombstone_object(db: sqlite_utils.Database, uri: str, actor_uri: str, when: float) -> bool:
    """Mark an object deleted, or remember the tombstone of one never seen.

    Returns True when an existing, live object was deleted.
    """
    cur = db.execute(
        "UPDATE objects SET deleted_at = ?, content = '', summary = '', name = '', data = '{}' "
        "WHERE uri = ? AND deleted_at IS NULL",
        [when, uri],
    )
    if cur.rowcount:
        db.execute(
            "DELETE FROM tags WHERE object_id = (SELECT id FROM objects WHERE uri = ?)", [uri]
        )
        _log_change(db, "delete", "uri = ?", [uri], when)
        return True
    db.execute(
        "INSERT INTO objects (uri, type, actor_uri, published, deleted_at, visibility) "
        "VALUES (?, 'Tombstone', ?, ?, ?, 'direct') ON CONFLICT(uri) DO NOTHING",
        [uri, actor_uri, when, when],
    )
    return False


def tombstone_objects_by_actor(db: sqlite_utils.Database, actor_uri: str, when: float) -> int:
    _log_change(db, "delete", "actor_uri = ? AND deleted_at IS NULL", [actor_uri], when)
    cur = db.execute(
        "UPDATE objects SET deleted_at = ?, content = '', summary = '', name = '', data = '{}' "
        "WHERE actor_uri = ? AND deleted_at IS NULL",
        [when, actor_uri],
    )
    return cur.rowcount


def delete_boost(db: sqlite_utils.Database, activity_uri: str, actor_uri: str, when: float) -> bool:
    where = "uri = ? AND actor_uri = ? AND boost_of IS NOT NULL"
    _log_change(db, "delete", where, [activity_uri, actor_uri], when)
    cur = db.execute(
        "DELETE FROM objects WHERE uri = ? AND actor_uri = ? AND boost_of IS NOT NULL",
        [activity_uri, actor_uri],
    )
    return cur.rowcount > 0


def set_recipients(db: sqlite_utils.Database, object_id: int, actor_uris: list[str]) -> None:
    db.conn.executemany(
        "INSERT INTO object_recipients (object_id, actor_uri) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(object_id, uri) for uri in actor_uris],
    )


def set_tags(
    db: sqlite_utils.Database, object_id: int, tags: list[tuple[str, str, str | None]]
) -> None:
    db.execute("DELETE FROM tags WHERE object_id = ?", [object_id])
    db.conn.executemany(
        "INSERT INTO tags (object_id, kind, name, href) VALUES (?, ?, ?, ?)",
        [(object_id, kind, name, href) for kind, name, href in tags],
    )


# -- activities -----------------------------------------------------------------


def put_activity(
    db: sqlite_utils.Database,
    *,
    uri: str,
    type: str,
    actor_uri: str,
    object_uri: str | None,
    local: bool,
    visibility: str,
    data: dict[str, Any],
    created_at: float,
) -> bool:
    """Record an activity once; False when its id was already seen."""
    cur = db.execute(
        "INSERT INTO activities (uri, type, actor_uri, object_uri, local, visibility, data, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uri) DO NOTHING",
        [uri, type, actor_uri, object_uri, int(local), visibility,
         json.dumps(data, separators=(",", ":")), created_at],
    )  # fmt: skip
    return cur.rowcount == 1


def get_activity(db: sqlite_utils.Database, uri: str) -> dict[str, Any] | None:
    row = db.execute("SELECT data FROM activities WHERE uri = ?", [uri]).fetchone()
    return json.loads(row[0]) if row else None


def activities_of_posts(
    db: sqlite_utils.Database, rows: list[ObjectRow]
) -> dict[str, dict[str, Any]]:
    """The activity that brought each post or boost: by the row's uri.

    A boost is its Announce; a post is the Create by its author (the first
    one seen). A post fetched rather than delivered has none.
    """
    boosts = [r.activity_uri or r.uri for r in rows if r.boost_of is not None]
    notes = {r.uri: r.actor_uri for r in rows if r.boost_of is None}
    found: dict[str, dict[str, Any]] = {}
    if boosts:
        marks = ",".join("?" * len(boosts))
        for uri, data in db.execute(
            f"SELECT uri, data FROM activities WHERE uri IN ({marks})", boosts
        ).fetchall():
            found[uri] = json.loads(data)
    if notes:
        marks = ",".join("?" * len(notes))
        for object_uri, actor_uri, data in db.execute(
            f"SELECT object_uri, actor_uri, data FROM activities WHERE type = 'Create' "
            f"AND object_uri IN ({marks}) ORDER BY id DESC",
            list(notes),
        ).fetchall():
            if notes[object_uri] == actor_uri:
                found[object_uri] = json.loads(data)
    by_row: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = (r.activity_uri or r.uri) if r.boost_of is not None else r.uri
        if key in found:
            by_row[r.uri] = found[key]
    return by_row


def get_activity_row(db: sqlite_utils.Database, uri: str) -> tuple[str, str, str | None] | None:
    """(type, actor_uri, object_uri) of a known activity."""
    row = db.execute(
        "SELECT type, actor_uri, object_uri FROM activities WHERE uri = ?", [uri]
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def undo_recorded(db: sqlite_utils.Database, activity_uri: str, actor_uri: str) -> bool:
    """Whether ``actor_uri`` already sent an Undo of ``activity_uri``."""
    row = db.execute(
        "SELECT 1 FROM activities WHERE type = 'Undo' AND object_uri = ? AND actor_uri = ?",
        [activity_uri, actor_uri],
    ).fetchone()
    return row is not None


def boost_of_by_actor(db: sqlite_utils.Database, actor_uri: str, object_uri: str) -> str | None:
    """The uri of ``actor_uri``'s boost of ``object_uri``, if they boosted it."""
    row = db.execute(
        "SELECT uri FROM objects WHERE actor_uri = ? AND boost_of = ? AND deleted_at IS NULL",
        [actor_uri, object_uri],
    ).fetchone()
    return str(row[0]) if row else None


def remove_actor_content(db: sqlite_utils.Database, actor_uri: str, when: float) -> int:
    """Everything a deleted actor posted: boosts go, posts become tombstones.

    Tombstones stay so that a late Create of one of their posts is refused.
    Returns how many posts were tombstoned.
    """
    db.execute("DELETE FROM objects WHERE actor_uri = ? AND boost_of IS NOT NULL", [actor_uri])
    db.execute(
        "DELETE FROM tags WHERE object_id IN (SELECT id FROM objects WHERE actor_uri = ?)",
        [actor_uri],
    )
    return tombstone_objects_by_actor(db, actor_uri, when)


def refresh_object(db: sqlite_utils.Database, uri: str, values: dict[str, Any]) -> None:
    """Change stored fields without an edit-history entry (poll counts, links)."""
    record = dict(values)
    if "data" in record:
        record["data"] = json.dumps(record["data"], separators=(",", ":"))
    if not record:
        return
    sets = ",".join(f"{c} = ?" for c in record)
    db.execute(f"UPDATE objects SET {sets} WHERE uri = ?", [*record.values(), uri])
