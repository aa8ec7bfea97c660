"""Sign-ups waiting for an admin's approval, and invites.

A pending sign-up holds only what the account will be made from (the name,
the password's hash, the reason given); the account, its actor and its keys
are made on approval, so a pending name is nowhere else in the database. A
name is taken while it is an account's, a deleted account's actor's, or a
pending sign-up's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class SignupRow:
    id: int
    username: str
    password_hash: str
    reason: str
    ip: str
    created_at: float


@dataclass(frozen=True)
class InviteRow:
    code: str
    created_by: int | None
    created_at: float
    expires_at: float | None
    max_uses: int | None
    uses: int
    revoked_at: float | None

    def usable(self, now: float) -> bool:
        if self.revoked_at is not None:
            return False
        if self.expires_at is not None and self.expires_at <= now:
            return False
        return self.max_uses is None or self.uses < self.max_uses


def username_taken(db: sqlite_utils.Database, username: str, host: str) -> bool:
    """Whether ``username`` is an account's, a (deleted) local actor's, or pending."""
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE username = ? COLLATE NOCASE)"
        " OR EXISTS (SELECT 1 FROM actors WHERE local = 1 AND username = ? COLLATE NOCASE"
        "            AND host = ?)"
        " OR EXISTS (SELECT 1 FROM signups WHERE username = ? COLLATE NOCASE)",
        [username, username, host, username],
    ).fetchone()
    return bool(row[0])


def insert_signup(
    db: sqlite_utils.Database,
    username: str,
    password_hash: str,
    reason: str,
    ip: str,
    now: float,
) -> int:
    cur = db.execute(
        "INSERT INTO signups (username, password_hash, reason, ip, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [username, password_hash, reason, ip, now],
    )
    return int(cur.lastrowid or 0)


_SIGNUP = "id, username, password_hash, reason, ip, created_at"


def get_signup_by_username(db: sqlite_utils.Database, username: str) -> SignupRow | None:
    row = db.execute(
        f"SELECT {_SIGNUP} FROM signups WHERE username = ? COLLATE NOCASE", [username]
    ).fetchone()
    return SignupRow(*row) if row else None


def pending_signups(db: sqlite_utils.Database) -> list[SignupRow]:
    """Sign-ups waiting for approval, the oldest first."""
    rows = db.execute(f"SELECT {_SIGNUP} FROM signups ORDER BY id").fetchall()
    return [SignupRow(*r) for r in rows]


def delete_signup(db: sqlite_utils.Database, signup_id: int) -> bool:
    return db.execute("DELETE FROM signups WHERE id = ?", [signup_id]).rowcount > 0


# -- invites -----------------------------------------------------------------------

_INVITE = "code, created_by, created_at, expires_at, max_uses, uses, revoked_at"


def _invite(row: tuple[Any, ...]) -> InviteRow:
    return InviteRow(*row)


def insert_invite(
    db: sqlite_utils.Database,
    code: str,
    *,
    created_by: int | None,
    now: float,
    expires_at: float | None,
    max_uses: int | None,
) -> None:
    db.execute(
        "INSERT INTO invites (code, created_by, created_at, expires_at, max_uses)"
        " VALUES (?, ?, ?, ?, ?)",
        [code, created_by, now, expires_at, max_uses],
    )


def get_invite(db: sqlite_utils.Database, code: str) -> InviteRow | None:
    row = db.execute(f"SELECT {_INVITE} FROM invites WHERE code = ?", [code]).fetchone()
    return _invite(row) if row else None


def use_invite(db: sqlite_utils.Database, code: str, now: float) -> bool:
    """Count one use of a usable invite; False when it is spent, expired or revoked."""
    cur = db.execute(
        "UPDATE invites SET uses = uses + 1 WHERE code = ? AND revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)",
        [code, now],
    )
    return cur.rowcount > 0


def list_invites(db: sqlite_utils.Database) -> list[InviteRow]:
    rows = db.execute(f"SELECT {_INVITE} FROM invites ORDER BY created_at DESC").fetchall()
    return [_invite(r) for r in rows]


def revoke_invite(db: sqlite_utils.Database, code: str, now: float) -> bool:
    cur = db.execute(
        "UPDATE invites SET revoked_at = ? WHERE code = ? AND revoked_at IS NULL", [now, code]
    )
    return cur.rowcount > 0
