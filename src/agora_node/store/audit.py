"""The moderation log: every moderation action, who took it, on what, and why.

Written in the same transaction as the action itself, so the record and the
change stand or fall together. Read by ``agora-node audit`` and the admin API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.db import like_escaped


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: float
    by: str
    action: str
    target: str
    reason: str
    detail: dict[str, Any]


def record(
    db: sqlite_utils.Database,
    *,
    by: str,
    action: str,
    target: str,
    now: float,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> int:
    cur = db.execute(
        "INSERT INTO moderation_log (created_at, by, action, target, reason, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [now, by, action, target, reason, json.dumps(detail or {}, sort_keys=True)],
    )
    return int(cur.lastrowid or 0)


def entries(
    db: sqlite_utils.Database,
    *,
    limit: int,
    before_id: int | None = None,
    action_prefix: str = "",
) -> list[AuditEntry]:
    """Newest first; ``action_prefix`` ("domain_", "account_") narrows them."""
    like = like_escaped(action_prefix)
    rows = db.execute(
        "SELECT id, created_at, by, action, target, reason, detail FROM moderation_log "
        "WHERE id < ? AND action LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ?",
        [before_id if before_id is not None else 2**62, f"{like}%", limit],
    )
    return [
        AuditEntry(int(r[0]), float(r[1]), r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows
    ]
