"""The instance's domain blocks and allows, and the marks they leave on actors.

A block names a domain and covers its subdomains. Its severity decides what
happens to the accounts there: ``suspend`` marks them suspended, ``silence``
marks them silenced, with the block's own ``created_at`` as the mark, as
Mastodon does, so lifting the block clears only the marks it made (an
account an admin silenced by hand stays silenced). Actors first seen after
the block get the mark when they are stored (:func:`mark_for_host`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import sqlite_utils

from agora_node.store.db import like_escaped

SEVERITIES = ("suspend", "silence", "noop")
_MARK_COLUMN = {"suspend": "suspended_at", "silence": "silenced_at"}


@dataclass(frozen=True)
class DomainBlockRow:
    id: int
    domain: str
    severity: str
    reject_media: bool
    reject_reports: bool
    obfuscate: bool
    private_comment: str
    public_comment: str
    created_at: float
    updated_at: float
    # The block list subscription that made it (None: an admin's own).
    subscription_id: int | None = None


@dataclass(frozen=True)
class DomainAllowRow:
    id: int
    domain: str
    created_at: float


@dataclass(frozen=True)
class FederationRules:
    """What the edge needs to know, read in one go (``federation/blocklist.py``)."""

    suspended: tuple[str, ...]
    reject_media: tuple[str, ...]
    reject_reports: tuple[str, ...]
    allowed: tuple[str, ...]


_BLOCK_COLUMNS = (
    "id, domain, severity, reject_media, reject_reports, obfuscate, private_comment, "
    "public_comment, created_at, updated_at, subscription_id"
)


def _block(row: tuple) -> DomainBlockRow:  # type: ignore[type-arg]
    return DomainBlockRow(
        int(row[0]), row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]),
        row[6], row[7], float(row[8]), float(row[9]), row[10],
    )  # fmt: skip


@functools.lru_cache(maxsize=4096)
def suffixes(host: str) -> tuple[str, ...]:
    """``a.b.example`` → ``a.b.example``, ``b.example``, ``example`` (port dropped).

    Remembered: the same few hosts are asked about for every delivery."""
    labels = host.split(":")[0].lower().rstrip(".").split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


def list_blocks(db: sqlite_utils.Database) -> list[DomainBlockRow]:
    """Every block, newest first."""
    return [
        _block(r)
        for r in db.execute(f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks ORDER BY id DESC")
    ]


def page_of_blocks(
    db: sqlite_utils.Database, lower: int, upper: int, limit: int, ascending: bool
) -> list[DomainBlockRow]:
    """Blocks with ids strictly between the bounds, newest first unless ``ascending``."""
    rows = db.execute(
        f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE id > ? AND id < ? "
        f"ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?",
        [lower, upper, limit],
    )
    return [_block(r) for r in rows]


def page_of_allows(
    db: sqlite_utils.Database, lower: int, upper: int, limit: int, ascending: bool
) -> list[DomainAllowRow]:
    rows = db.execute(
        "SELECT id, domain, created_at FROM domain_allows WHERE id > ? AND id < ? "
        f"ORDER BY id {'ASC' if ascending else 'DESC'} LIMIT ?",
        [lower, upper, limit],
    )
    return [DomainAllowRow(int(r[0]), r[1], float(r[2])) for r in rows]


def block_by_domain(db: sqlite_utils.Database, domain: str) -> DomainBlockRow | None:
    row = db.execute(
        f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE domain = ?", [domain]
    ).fetchone()
    return _block(row) if row else None


def block_by_id(db: sqlite_utils.Database, block_id: int) -> DomainBlockRow | None:
    row = db.execute(f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE id = ?", [block_id])
    found = row.fetchone()
    return _block(found) if found else None


def covering_block(db: sqlite_utils.Database, host: str) -> DomainBlockRow | None:
    """The block that covers ``host`` (itself or a parent domain), most specific first."""
    names = list(suffixes(host))
    marks = ",".join("?" * len(names))
    rows = db.execute(
        f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE domain IN ({marks}) "
        "ORDER BY length(domain) DESC LIMIT 1",
        names,
    ).fetchall()
    return _block(rows[0]) if rows else None


def put_block(
    db: sqlite_utils.Database,
    *,
    domain: str,
    severity: str,
    reject_media: bool,
    reject_reports: bool,
    obfuscate: bool,
    private_comment: str,
    public_comment: str,
    now: float,
    subscription_id: int | None = None,
) -> DomainBlockRow:
    """Create the block of ``domain`` or change it (its ``created_at`` stays); a
    block an admin changes by hand becomes theirs (no longer the subscription's)."""
    db.execute(
        "INSERT INTO domain_blocks (domain, severity, reject_media, reject_reports, obfuscate, "
        "private_comment, public_comment, created_at, updated_at, subscription_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(domain) DO UPDATE SET severity = excluded.severity, "
        "reject_media = excluded.reject_media, reject_reports = excluded.reject_reports, "
        "obfuscate = excluded.obfuscate, private_comment = excluded.private_comment, "
        "public_comment = excluded.public_comment, updated_at = excluded.updated_at, "
        "subscription_id = excluded.subscription_id",
        [domain, severity, int(reject_media), int(reject_reports), int(obfuscate),
         private_comment, public_comment, now, now, subscription_id],
    )  # fmt: skip
    found = block_by_domain(db, domain)
    assert found is not None
    return found


def delete_block(db: sqlite_utils.Database, block_id: int) -> None:
    db.execute("DELETE FROM domain_blocks WHERE id = ?", [block_id])


def federation_rules(db: sqlite_utils.Database) -> FederationRules:
    blocks = db.execute(
        "SELECT domain, severity, reject_media, reject_reports FROM domain_blocks"
    ).fetchall()
    allowed = [r[0] for r in db.execute("SELECT domain FROM domain_allows")]
    return FederationRules(
        suspended=tuple(r[0] for r in blocks if r[1] == "suspend"),
        reject_media=tuple(r[0] for r in blocks if r[2] or r[1] == "suspend"),
        reject_reports=tuple(r[0] for r in blocks if r[3] or r[1] == "suspend"),
        allowed=tuple(allowed),
    )


# -- allows (allowlist mode) --------------------------------------------------


def list_allows(db: sqlite_utils.Database) -> list[DomainAllowRow]:
    rows = db.execute("SELECT id, domain, created_at FROM domain_allows ORDER BY id DESC")
    return [DomainAllowRow(int(r[0]), r[1], float(r[2])) for r in rows]


def allow_by_id(db: sqlite_utils.Database, allow_id: int) -> DomainAllowRow | None:
    row = db.execute(
        "SELECT id, domain, created_at FROM domain_allows WHERE id = ?", [allow_id]
    ).fetchone()
    return DomainAllowRow(int(row[0]), row[1], float(row[2])) if row else None


def put_allow(db: sqlite_utils.Database, domain: str, now: float) -> DomainAllowRow:
    db.execute(
        "INSERT INTO domain_allows (domain, created_at) VALUES (?, ?) "
        "ON CONFLICT(domain) DO NOTHING",
        [domain, now],
    )
    row = db.execute(
        "SELECT id, domain, created_at FROM domain_allows WHERE domain = ?", [domain]
    ).fetchone()
    return DomainAllowRow(int(row[0]), row[1], float(row[2]))


def delete_allow(db: sqlite_utils.Database, allow_id: int) -> None:
    db.execute("DELETE FROM domain_allows WHERE id = ?", [allow_id])


# -- the marks on actors --------------------------------------------------------


def _host_under(domain: str) -> tuple[str, list[str]]:
    """SQL condition and parameters: a row's ``host`` is ``domain`` or under it
    (with or without a port)."""
    like = like_escaped(domain)
    return (
        "(host = ? OR host LIKE ? ESCAPE '\\' OR host LIKE ? ESCAPE '\\' "
        "OR host LIKE ? ESCAPE '\\')",
        [domain, f"%.{like}", f"{like}:%", f"%.{like}:%"],
    )


def _on_domain(domain: str) -> tuple[str, list[str]]:
    """SQL condition and parameters: a remote actor of ``domain`` (or under it)."""
    cond, params = _host_under(domain)
    return f"local = 0 AND {cond}", params


def mark_domain_actors(db: sqlite_utils.Database, block: DomainBlockRow) -> int:
    """Mark the known actors of the block's domain; how many got the mark."""
    return _remark(db, block, mark=True)


def unmark_domain_actors(db: sqlite_utils.Database, block: DomainBlockRow) -> int:
    """Clear the marks this block made (and only those)."""
    return _remark(db, block, mark=False)


def _remark(db: sqlite_utils.Database, block: DomainBlockRow, *, mark: bool) -> int:
    column = _MARK_COLUMN.get(block.severity)
    if column is None:
        return 0
    cond, params = _on_domain(block.domain)
    if mark:
        sql = f"UPDATE actors SET {column} = ? WHERE {column} IS NULL AND {cond}"
    else:
        sql = f"UPDATE actors SET {column} = NULL WHERE {column} = ? AND {cond}"
    return db.execute(sql, [block.created_at, *params]).rowcount


def mark_for_host(db: sqlite_utils.Database, uri: str, host: str) -> None:
    """Give a newly stored remote actor the mark of the block covering its host."""
    block = covering_block(db, host)
    if block is None:
        return
    column = _MARK_COLUMN.get(block.severity)
    if column is not None:
        db.execute(
            f"UPDATE actors SET {column} = ? WHERE uri = ? AND {column} IS NULL",
            [block.created_at, uri],
        )


def actors_on_domain(db: sqlite_utils.Database, domain: str) -> list[str]:
    cond, params = _on_domain(domain)
    return [r[0] for r in db.execute(f"SELECT uri FROM actors WHERE {cond}", params)]


def sever_follows(db: sqlite_utils.Database, domain: str) -> int:
    """End every follow between someone here and an actor of ``domain``, both
    ways; how many ended (nothing is sent: the domain is cut off)."""
    cond, params = _on_domain(domain)
    cur = db.execute(
        f"DELETE FROM follows WHERE follower_uri IN (SELECT uri FROM actors WHERE {cond}) "
        f"OR followee_uri IN (SELECT uri FROM actors WHERE {cond})",
        [*params, *params],
    )
    return cur.rowcount


def drop_deliveries(db: sqlite_utils.Database, domain: str) -> int:
    """Give up the pending deliveries to a domain (and its subdomains)."""
    cond, params = _host_under(domain)
    cur = db.execute(
        f"DELETE FROM deliveries WHERE state IN ('pending', 'running') AND {cond}", params
    )
    return cur.rowcount


# -- subscriptions to published block lists ---------------------------------------


@dataclass(frozen=True)
class SubscriptionRow:
    id: int
    url: str
    created_at: float
    fetched_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class RefreshRow:
    id: int
    subscription_id: int
    at: float
    changes: tuple[str, ...]
    error: str | None


def add_subscription(db: sqlite_utils.Database, url: str, now: float) -> SubscriptionRow:
    db.execute(
        "INSERT INTO blocklist_subscriptions (url, created_at) VALUES (?, ?) "
        "ON CONFLICT(url) DO NOTHING",
        [url, now],
    )
    row = db.execute(
        "SELECT id, url, created_at, fetched_at, last_error FROM blocklist_subscriptions "
        "WHERE url = ?",
        [url],
    ).fetchone()
    return SubscriptionRow(int(row[0]), row[1], float(row[2]), row[3], row[4])


def subscriptions(db: sqlite_utils.Database) -> list[SubscriptionRow]:
    rows = db.execute(
        "SELECT id, url, created_at, fetched_at, last_error FROM blocklist_subscriptions "
        "ORDER BY id"
    )
    return [SubscriptionRow(int(r[0]), r[1], float(r[2]), r[3], r[4]) for r in rows]


def delete_subscription(db: sqlite_utils.Database, subscription_id: int) -> None:
    db.execute("DELETE FROM blocklist_subscriptions WHERE id = ?", [subscription_id])


def blocks_of_subscription(db: sqlite_utils.Database, subscription_id: int) -> list[DomainBlockRow]:
    rows = db.execute(
        f"SELECT {_BLOCK_COLUMNS} FROM domain_blocks WHERE subscription_id = ? ORDER BY id",
        [subscription_id],
    )
    return [_block(r) for r in rows]


def record_refresh(
    db: sqlite_utils.Database,
    subscription_id: int,
    *,
    at: float,
    changes: list[str],
    error: str | None,
) -> None:
    db.execute(
        "INSERT INTO blocklist_refreshes (subscription_id, at, changes, error) VALUES (?, ?, ?, ?)",
        [subscription_id, at, json.dumps(changes), error],
    )
    db.execute(
        "UPDATE blocklist_subscriptions SET fetched_at = ?, last_error = ? WHERE id = ?",
        [at, error, subscription_id],
    )


def refreshes_of(db: sqlite_utils.Database, subscription_id: int, limit: int) -> list[RefreshRow]:
    rows = db.execute(
        "SELECT id, subscription_id, at, changes, error FROM blocklist_refreshes "
        "WHERE subscription_id = ? ORDER BY id DESC LIMIT ?",
        [subscription_id, limit],
    )
    return [
        RefreshRow(int(r[0]), int(r[1]), float(r[2]), tuple(json.loads(r[3])), r[4]) for r in rows
    ]
