"""Local accounts and actors: query-named functions over one connection."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from agora_node.store import domain_blocks
from agora_node.store.db import like_escaped


@dataclass(frozen=True)
class ActorRow:
    """An actor (local or remote) as stored."""

    id: int
    uri: str
    local: bool
    type: str
    username: str
    host: str
    display_name: str
    summary: str
    url: str | None
    inbox: str | None
    outbox: str | None
    shared_inbox: str | None
    followers_uri: str | None
    following_uri: str | None
    featured_uri: str | None
    manually_approves: bool
    discoverable: bool
    also_known_as: tuple[str, ...]
    moved_to: str | None
    fields: tuple[dict[str, str], ...]
    fetched_at: float | None
    published: float | None
    deleted_at: float | None
    last_move_at: float | None
    # Custom emoji its name and bio use: (shortcode, image url).
    emojis: tuple[tuple[str, str], ...] = ()
    # Moderation (store/moderation.py): suspended, silenced, since when.
    suspended_at: float | None = None
    silenced_at: float | None = None
    # Its profile pictures (an address of ours for a local actor).
    avatar_url: str | None = None
    header_url: str | None = None
    # An admin marked its media sensitive, since when.
    sensitized_at: float | None = None

    @property
    def acct(self) -> str:
        return f"{self.username}@{self.host}"

    @property
    def delivery_inbox(self) -> str | None:
        return self.shared_inbox or self.inbox


@dataclass(frozen=True)
class AccountRow:
    """A local account joined with its actor. Private keys are not in repr."""

    id: int
    username: str
    is_admin: bool
    password_hash: str = field(repr=False)
    rsa_private_pem: str = field(repr=False)
    ed25519_private_pem: str = field(repr=False)
    created_at: float = 0.0
    deleted_at: float | None = None
    actor: ActorRow | None = None
    suspended_at: float | None = None
    # Sign-in disabled by an admin (the profile and posts stay visible).
    disabled_at: float | None = None


_ACTOR_COLUMNS = (
    "id, uri, local, type, username, host, display_name, summary, url, inbox, outbox, "
    "shared_inbox, followers_uri, following_uri, featured_uri, manually_approves, discoverable, "
    "also_known_as, moved_to, fields, fetched_at, published, deleted_at, last_move_at, emojis, "
    "suspended_at, silenced_at, avatar_url, header_url, sensitized_at"
)


def _listed(value: str | None) -> tuple[Any, ...]:
    """A JSON list column; most are empty, and reading those is most of an actor's cost."""
    if not value or value == "[]":
        return ()
    return tuple(json.loads(value))


def _actor(row: tuple[Any, ...]) -> ActorRow:
    return ActorRow(
        id=row[0],
        uri=row[1],
        local=bool(row[2]),
        type=row[3],
        username=row[4],
        host=row[5],
        display_name=row[6],
        summary=row[7],
        url=row[8],
        inbox=row[9],
        outbox=row[10],
        shared_inbox=row[11],
        followers_uri=row[12],
        following_uri=row[13],
        featured_uri=row[14],
        manually_approves=bool(row[15]),
        discoverable=bool(row[16]),
        also_known_as=_listed(row[17]),
        moved_to=row[18],
        fields=_listed(row[19]),
        fetched_at=row[20],
        published=row[21],
        deleted_at=row[22],
        last_move_at=row[23],
        emojis=tuple((str(s), str(u)) for s, u in _listed(row[24])),
        suspended_at=row[25],
        silenced_at=row[26],
        avatar_url=row[27],
        header_url=row[28],
        sensitized_at=row[29],
    )


def get_actor_by_uri(db: sqlite_utils.Database, uri: str) -> ActorRow | None:
    row = db.execute(f"SELECT {_ACTOR_COLUMNS} FROM actors WHERE uri = ?", [uri]).fetchone()
    return _actor(row) if row else None


def get_actors_by_uris(db: sqlite_utils.Database, uris: list[str]) -> dict[str, ActorRow]:
    out: dict[str, ActorRow] = {}
    for start in range(0, len(uris), 500):
        chunk = uris[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_ACTOR_COLUMNS} FROM actors WHERE uri IN ({marks})", chunk):
            actor = _actor(row)
            out[actor.uri] = actor
    return out


def get_live_actors_by_ids(db: sqlite_utils.Database, ids: list[int]) -> dict[int, ActorRow]:
    """Live actors by row id (the ids Mastodon clients use for accounts)."""
    out: dict[int, ActorRow] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT {_ACTOR_COLUMNS} FROM actors WHERE id IN ({marks}) AND deleted_at IS NULL",
            chunk,
        ).fetchall()
        out.update((int(r[0]), _actor(r)) for r in rows)
    return out


def get_actor_by_acct(db: sqlite_utils.Database, username: str, host: str) -> ActorRow | None:
    row = db.execute(
        f"SELECT {_ACTOR_COLUMNS} FROM actors WHERE username = ? COLLATE NOCASE AND host = ? "
        "ORDER BY deleted_at IS NOT NULL, id LIMIT 1",
        [username, host.lower()],
    ).fetchone()
    return _actor(row) if row else None


def search_actors(
    db: sqlite_utils.Database, query: str, limit: int, offset: int = 0
) -> list[ActorRow]:
    """Known live actors whose username starts with ``query`` or whose display
    name contains it, not suspended; ours first, then by name."""
    escaped = like_escaped(query)
    rows = db.execute(
        f"SELECT {_ACTOR_COLUMNS} FROM actors WHERE deleted_at IS NULL AND username <> '' "
        "AND suspended_at IS NULL "
        "AND (username LIKE :prefix ESCAPE '\\' OR display_name LIKE :inside ESCAPE '\\') "
        "ORDER BY local DESC, username COLLATE NOCASE, host LIMIT :limit OFFSET :offset",
        {"prefix": f"{escaped}%", "inside": f"%{escaped}%", "limit": limit, "offset": offset},
    ).fetchall()
    return [_actor(r) for r in rows]


def upsert_actor(db: sqlite_utils.Database, values: dict[str, Any]) -> int:
    """Insert or refresh an actor by ``uri``; returns its row id."""
    record = dict(values)
    for key in ("also_known_as", "fields", "emojis"):
        if key in record and not isinstance(record[key], str):
            record[key] = json.dumps(list(record[key]))
    if "document" in record and not isinstance(record["document"], str | None):
        record["document"] = json.dumps(record["document"])
    cols = list(record)
    marks = ",".join("?" * len(cols))
    updates = ",".join(f"{c}=excluded.{c}" for c in cols if c != "uri")
    db.execute(
        f"INSERT INTO actors ({','.join(cols)}) VALUES ({marks}) "
        f"ON CONFLICT(uri) DO UPDATE SET {updates}",
        [record[c] for c in cols],
    )
    row = db.execute("SELECT id FROM actors WHERE uri = ?", [record["uri"]]).fetchone()
    if not record.get("local") and record.get("host"):
        # An account on a suspended or silenced domain is marked as its
        # neighbours were when the block was made.
        domain_blocks.mark_for_host(db, str(record["uri"]), str(record["host"]))
    return int(row[0])


def set_actor_moved(db: sqlite_utils.Database, uri: str, target_uri: str, when: float) -> None:
    db.execute(
        "UPDATE actors SET moved_to = ?, last_move_at = ? WHERE uri = ?", [target_uri, when, uri]
    )


def mark_actor_deleted(db: sqlite_utils.Database, uri: str, when: float) -> None:
    db.execute("UPDATE actors SET deleted_at = ? WHERE uri = ?", [when, uri])


def insert_account(
    db: sqlite_utils.Database,
    *,
    actor: dict[str, Any],
    username: str,
    password_hash: str,
    is_admin: bool,
    rsa_private_pem: str,
    ed25519_private_pem: str,
    public_keys: list[tuple[str, str, str]],
) -> int:
    """Create the local actor, its keys and the account in one go."""
    actor_id = upsert_actor(db, actor)
    now = time.time()
    cur = db.execute(
        "INSERT INTO accounts (username, actor_id, password_hash, is_admin, rsa_private_pem, "
        "ed25519_private_pem, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            username,
            actor_id,
            password_hash,
            int(is_admin),
            rsa_private_pem,
            ed25519_private_pem,
            now,
        ],
    )
    for key_id, pem, key_type in public_keys:
        put_public_key(db, key_id, actor["uri"], pem, key_type)
    return int(cur.lastrowid or 0)


_ACCOUNT_SELECT = (
    "SELECT a.id, a.username, a.is_admin, a.password_hash, a.rsa_private_pem, "
    "a.ed25519_private_pem, a.created_at, a.deleted_at, a.suspended_at, a.disabled_at, "
    + ", ".join(f"x.{c.strip()}" for c in _ACTOR_COLUMNS.split(","))
    + " FROM accounts a JOIN actors x ON x.id = a.actor_id"
)


def _account(row: tuple[Any, ...]) -> AccountRow:
    return AccountRow(
        id=row[0],
        username=row[1],
        is_admin=bool(row[2]),
        password_hash=row[3],
        rsa_private_pem=row[4],
        ed25519_private_pem=row[5],
        created_at=row[6],
        deleted_at=row[7],
        suspended_at=row[8],
        disabled_at=row[9],
        actor=_actor(row[10:]),
    )


def get_account_by_username(db: sqlite_utils.Database, username: str) -> AccountRow | None:
    row = db.execute(
        _ACCOUNT_SELECT + " WHERE a.username = ? COLLATE NOCASE", [username]
    ).fetchone()
    return _account(row) if row else None


def get_account_by_id(db: sqlite_utils.Database, account_id: int) -> AccountRow | None:
    row = db.execute(_ACCOUNT_SELECT + " WHERE a.id = ?", [account_id]).fetchone()
    return _account(row) if row else None


def get_account_by_actor_uri(db: sqlite_utils.Database, uri: str) -> AccountRow | None:
    row = db.execute(_ACCOUNT_SELECT + " WHERE x.uri = ?", [uri]).fetchone()
    return _account(row) if row else None


def get_first_admin(db: sqlite_utils.Database) -> AccountRow | None:
    """The oldest live admin account (the instance's contact)."""
    row = db.execute(
        _ACCOUNT_SELECT + " WHERE a.is_admin = 1 AND a.deleted_at IS NULL ORDER BY a.id LIMIT 1"
    ).fetchone()
    return _account(row) if row else None


def local_directory(db: sqlite_utils.Database, limit: int, offset: int) -> list[ActorRow]:
    """Local accounts that chose to be listed (and moderation leaves listed),
    the most recently active first."""
    rows = db.execute(
        "SELECT "
        + ", ".join(f"x.{c.strip()}" for c in _ACTOR_COLUMNS.split(","))
        + " FROM accounts a JOIN actors x ON x.id = a.actor_id"
        " WHERE a.deleted_at IS NULL AND x.suspended_at IS NULL AND x.silenced_at IS NULL"
        " AND x.discoverable = 1"
        " ORDER BY (SELECT max(o.id) FROM objects o WHERE o.actor_uri = x.uri) DESC, a.id"
        " LIMIT ? OFFSET ?",
        [limit, offset],
    ).fetchall()
    return [_actor(r) for r in rows]


def list_accounts(db: sqlite_utils.Database) -> list[AccountRow]:
    return [_account(r) for r in db.execute(_ACCOUNT_SELECT + " ORDER BY a.id")]


def set_account_disabled(db: sqlite_utils.Database, account_id: int, when: float | None) -> None:
    db.execute("UPDATE accounts SET disabled_at = ? WHERE id = ?", [when, account_id])


def set_account_suspended(db: sqlite_utils.Database, account_id: int, when: float | None) -> None:
    """Suspend a local account from ``when``, or lift its suspension (None)."""
    db.execute("UPDATE accounts SET suspended_at = ? WHERE id = ?", [when, account_id])


def set_actor_picture(db: sqlite_utils.Database, uri: str, kind: str, url: str | None) -> None:
    """Set (or clear) an actor's ``avatar`` or ``header``."""
    column = {"avatar": "avatar_url", "header": "header_url"}[kind]
    db.execute(f"UPDATE actors SET {column} = ? WHERE uri = ?", [url, uri])


def hides_collections(db: sqlite_utils.Database, actor_uri: str) -> bool:
    """Whether the local account of ``actor_uri`` hides its followers and following."""
    row = db.execute(
        "SELECT s.hide_collections FROM accounts a JOIN actors x ON x.id = a.actor_id "
        "JOIN account_settings s ON s.account_id = a.id WHERE x.uri = ?",
        [actor_uri],
    ).fetchone()
    return bool(row and row[0])


def set_password_hash(db: sqlite_utils.Database, account_id: int, password_hash: str) -> None:
    db.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", [password_hash, account_id])


def mark_account_deleted(db: sqlite_utils.Database, account_id: int, when: float) -> None:
    db.execute("UPDATE accounts SET deleted_at = ? WHERE id = ?", [when, account_id])
    db.execute(
        "UPDATE actors SET deleted_at = ? WHERE id = (SELECT actor_id FROM accounts WHERE id = ?)",
        [when, account_id],
    )


def set_account_profile(db: sqlite_utils.Database, account_id: int, values: dict[str, Any]) -> None:
    allowed = {
        "type",
        "display_name",
        "summary",
        "manually_approves",
        "discoverable",
        "also_known_as",
        "moved_to",
        "fields",
        "last_move_at",
    }
    record = {k: v for k, v in values.items() if k in allowed}
    for key in ("also_known_as", "fields"):
        if key in record:
            record[key] = json.dumps(list(record[key]))
    if not record:
        return
    sets = ",".join(f"{k} = ?" for k in record)
    db.execute(
        f"UPDATE actors SET {sets} WHERE id = (SELECT actor_id FROM accounts WHERE id = ?)",
        [*record.values(), account_id],
    )


@dataclass(frozen=True)
class AccountSettings:
    """Posting defaults, and the note and fields as written (``None``: never edited here)."""

    privacy: str = "public"
    sensitive: bool = False
    language: str = ""
    note: str | None = None
    fields: tuple[tuple[str, str], ...] | None = None
    # Followers and following are listed to the account alone.
    hide_collections: bool = False


def get_account_settings(db: sqlite_utils.Database, account_id: int) -> AccountSettings:
    row = db.execute(
        "SELECT privacy, sensitive, language, note, fields, hide_collections "
        "FROM account_settings WHERE account_id = ?",
        [account_id],
    ).fetchone()
    if row is None:
        return AccountSettings()
    fields = None if row[4] is None else tuple((str(n), str(v)) for n, v in json.loads(row[4]))
    return AccountSettings(str(row[0]), bool(row[1]), str(row[2]), row[3], fields, bool(row[5]))


def put_account_settings(
    db: sqlite_utils.Database, account_id: int, settings: AccountSettings
) -> None:
    fields = None if settings.fields is None else json.dumps([list(f) for f in settings.fields])
    db.execute(
        "INSERT INTO account_settings (account_id, privacy, sensitive, language, note, fields, "
        "hide_collections) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
        "privacy = excluded.privacy, sensitive = excluded.sensitive, "
        "language = excluded.language, note = excluded.note, fields = excluded.fields, "
        "hide_collections = excluded.hide_collections",
        [
            account_id, settings.privacy, int(settings.sensitive), settings.language,
            settings.note, fields, int(settings.hide_collections),
        ],
    )  # fmt: skip


def count_live_accounts(db: sqlite_utils.Database) -> int:
    return int(db.execute("SELECT count(*) FROM accounts WHERE deleted_at IS NULL").fetchone()[0])


def usage_counts(db: sqlite_utils.Database, now: float) -> dict[str, int]:
    """NodeInfo usage: users total/active month/active half-year, local posts."""
    total = db.execute("SELECT count(*) FROM accounts WHERE deleted_at IS NULL").fetchone()[0]
    month = db.execute(
        "SELECT count(*) FROM accounts WHERE deleted_at IS NULL AND "
        "coalesce(last_active_at, created_at) >= ?",
        [now - 30 * 86400],
    ).fetchone()[0]
    half = db.execute(
        "SELECT count(*) FROM accounts WHERE deleted_at IS NULL AND "
        "coalesce(last_active_at, created_at) >= ?",
        [now - 180 * 86400],
    ).fetchone()[0]
    posts = db.execute(
        "SELECT count(*) FROM objects WHERE local = 1 AND deleted_at IS NULL AND boost_of IS NULL"
    ).fetchone()[0]
    return {"total": total, "month": month, "half": half, "posts": posts}


# -- keys -------------------------------------------------------------------


@dataclass(frozen=True)
class PublicKeyRow:
    key_id: str
    actor_uri: str
    public_key_pem: str
    key_type: str
    fetched_at: float
    gone: bool


def put_public_key(
    db: sqlite_utils.Database, key_id: str, actor_uri: str, pem: str, key_type: str = "rsa"
) -> None:
    db.execute(
        "INSERT INTO keys (key_id, actor_uri, public_key_pem, key_type, fetched_at, gone) "
        "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT(key_id) DO UPDATE SET actor_uri=excluded.actor_uri, "
        "public_key_pem=excluded.public_key_pem, key_type=excluded.key_type, "
        "fetched_at=excluded.fetched_at, gone=0",
        [key_id, actor_uri, pem, key_type, time.time()],
    )


def get_public_key(db: sqlite_utils.Database, key_id: str) -> PublicKeyRow | None:
    row = db.execute(
        "SELECT key_id, actor_uri, public_key_pem, key_type, fetched_at, gone FROM keys "
        "WHERE key_id = ?",
        [key_id],
    ).fetchone()
    if not row:
        return None
    return PublicKeyRow(row[0], row[1], row[2], row[3], row[4], bool(row[5]))


def mark_keys_gone(db: sqlite_utils.Database, actor_uri: str) -> None:
    db.execute("UPDATE keys SET gone = 1 WHERE actor_uri = ?", [actor_uri])


# -- instance state -----------------------------------------------------------


def get_instance_value(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM instance_state WHERE key = ?", [key]).fetchone()
    return str(row[0]) if row else None


def put_instance_value(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO instance_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
