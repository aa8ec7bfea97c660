"""OAuth clients, authorization codes, API tokens and failed-login counters.

Secrets never reach this module in clear: callers pass SHA-256 hashes of
client secrets, codes, access and refresh tokens, and look rows up by hash.
Scopes are stored space-separated, redirect URIs newline-separated (the
shapes Mastodon's API shows them in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class AppRow:
    """A registered OAuth client application."""

    id: int
    client_id: str
    client_secret_hash: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    website: str | None
    created_at: float


@dataclass(frozen=True)
class CodeRow:
    """A one-time authorization code (stored by hash)."""

    code_hash: str
    app_id: int
    account_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used_at: float | None


@dataclass(frozen=True)
class TokenRow:
    """An API token joined with the state of its account."""

    id: int
    account_id: int
    app_id: int | None
    name: str
    scopes: tuple[str, ...]
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    account_closed: bool


# -- apps -------------------------------------------------------------------

_APP_COLUMNS = "id, client_id, client_secret_hash, name, redirect_uris, scopes, website, created_at"


def _app(row: tuple[Any, ...]) -> AppRow:
    return AppRow(
        id=int(row[0]),
        client_id=row[1],
        client_secret_hash=row[2],
        name=row[3],
        redirect_uris=tuple(u for u in str(row[4]).split("\n") if u),
        scopes=tuple(str(row[5]).split()),
        website=row[6],
        created_at=float(row[7]),
    )


def insert_app(
    db: sqlite_utils.Database,
    *,
    client_id: str,
    client_secret_hash: str,
    name: str,
    redirect_uris: tuple[str, ...],
    scopes: tuple[str, ...],
    website: str | None,
    created_at: float,
) -> int:
    cur = db.execute(
        "INSERT INTO oauth_apps (client_id, client_secret_hash, name, redirect_uris, scopes, "
        "website, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            client_id,
            client_secret_hash,
            name,
            "\n".join(redirect_uris),
            " ".join(scopes),
            website,
            created_at,
        ],
    )
    return int(cur.lastrowid or 0)


def get_app_by_client_id(db: sqlite_utils.Database, client_id: str) -> AppRow | None:
    row = db.execute(
        f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE client_id = ?", [client_id]
    ).fetchone()
    return _app(row) if row else None


def get_app_by_id(db: sqlite_utils.Database, app_id: int) -> AppRow | None:
    row = db.execute(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE id = ?", [app_id]).fetchone()
    return _app(row) if row else None


# -- authorization codes ----------------------------------------------------------


def insert_code(
    db: sqlite_utils.Database,
    *,
    code_hash: str,
    app_id: int,
    account_id: int,
    redirect_uri: str,
    scopes: tuple[str, ...],
    code_challenge: str | None,
    code_challenge_method: str | None,
    expires_at: float,
) -> None:
    db.execute(
        "INSERT INTO oauth_codes (code_hash, app_id, account_id, redirect_uri, scopes, "
        "code_challenge, code_challenge_method, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            code_hash,
            app_id,
            account_id,
            redirect_uri,
            " ".join(scopes),
            code_challenge,
            code_challenge_method,
            expires_at,
        ],
    )


def get_code(db: sqlite_utils.Database, code_hash: str) -> CodeRow | None:
    row = db.execute(
        "SELECT code_hash, app_id, account_id, redirect_uri, scopes, code_challenge, "
        "code_challenge_method, expires_at, used_at FROM oauth_codes WHERE code_hash = ?",
        [code_hash],
    ).fetchone()
    if not row:
        return None
    return CodeRow(
        code_hash=row[0],
        app_id=int(row[1]),
        account_id=int(row[2]),
        redirect_uri=row[3],
        scopes=tuple(str(row[4]).split()),
        code_challenge=row[5],
        code_challenge_method=row[6],
        expires_at=float(row[7]),
        used_at=row[8],
    )


def mark_code_used(db: sqlite_utils.Database, code_hash: str, when: float) -> bool:
    """Burn a code; False when it was already used (so exactly one caller wins)."""
    cur = db.execute(
        "UPDATE oauth_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
        [when, code_hash],
    )
    return cur.rowcount == 1


def delete_codes_expired_before(db: sqlite_utils.Database, when: float) -> int:
    cur = db.execute("DELETE FROM oauth_codes WHERE expires_at < ?", [when])
    return int(cur.rowcount)


# -- tokens -------------------------------------------------------------------

_ISSUED_SELECT = (
    "SELECT t.id, t.account_id, t.app_id, t.name, t.scopes, t.created_at, t.expires_at, "
    "t.revoked_at, COALESCE(a.deleted_at, a.suspended_at) "
    "FROM api_tokens t JOIN accounts a ON a.id = t.account_id"
)


def _token(row: tuple[Any, ...]) -> TokenRow:
    return TokenRow(
        id=int(row[0]),
        account_id=int(row[1]),
        app_id=row[2],
        name=row[3],
        scopes=tuple(str(row[4]).split()),
        created_at=float(row[5]),
        expires_at=row[6],
        revoked_at=row[7],
        account_closed=row[8] is not None,
    )


def insert_token(
    db: sqlite_utils.Database,
    *,
    account_id: int,
    app_id: int | None,
    name: str,
    token_hash: str,
    refresh_hash: str | None,
    scopes: tuple[str, ...],
    created_at: float,
    expires_at: float | None,
) -> int:
    cur = db.execute(
        "INSERT INTO api_tokens (account_id, app_id, name, token_hash, refresh_hash, scopes, "
        "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            account_id,
            app_id,
            name,
            token_hash,
            refresh_hash,
            " ".join(scopes),
            created_at,
            expires_at,
        ],
    )
    return int(cur.lastrowid or 0)


def get_token_by_hash(db: sqlite_utils.Database, token_hash: str) -> TokenRow | None:
    row = db.execute(_ISSUED_SELECT + " WHERE t.token_hash = ?", [token_hash]).fetchone()
    return _token(row) if row else None


def get_token_by_refresh_hash(db: sqlite_utils.Database, refresh_hash: str) -> TokenRow | None:
    row = db.execute(_ISSUED_SELECT + " WHERE t.refresh_hash = ?", [refresh_hash]).fetchone()
    return _token(row) if row else None


def get_token_by_id(db: sqlite_utils.Database, token_id: int) -> TokenRow | None:
    row = db.execute(_ISSUED_SELECT + " WHERE t.id = ?", [token_id]).fetchone()
    return _token(row) if row else None


def list_tokens_for_account(db: sqlite_utils.Database, account_id: int) -> list[TokenRow]:
    return [
        _token(r)
        for r in db.execute(_ISSUED_SELECT + " WHERE t.account_id = ? ORDER BY t.id", [account_id])
    ]


def revoke_token(db: sqlite_utils.Database, token_id: int, when: float) -> bool:
    """Revoke one token (access and refresh alike); False if it already was."""
    cur = db.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        [when, token_id],
    )
    return cur.rowcount == 1


def revoke_tokens_of(db: sqlite_utils.Database, account_id: int, when: float) -> int:
    """Revoke every live token of an account; how many."""
    cur = db.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL",
        [when, account_id],
    )
    return int(cur.rowcount)


def revoke_app_tokens_created_since(
    db: sqlite_utils.Database, app_id: int, account_id: int, since: float, when: float
) -> int:
    """Revoke an app's tokens for one account issued at or after ``since``."""
    cur = db.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE app_id = ? AND account_id = ? "
        "AND created_at >= ? AND revoked_at IS NULL",
        [when, app_id, account_id, since],
    )
    return int(cur.rowcount)


@dataclass(frozen=True)
class AuthorisedApp:
    """An app holding live tokens of an account, or one personal token (``token_id``)."""

    app_id: int | None
    token_id: int | None
    name: str
    website: str | None
    scopes: tuple[str, ...]
    since: float


def authorised_apps(db: sqlite_utils.Database, account_id: int, now: float) -> list[AuthorisedApp]:
    """What may act for the account now: each app once (its tokens' scopes
    together), each personal token on its own; a token past its expiry still
    counts while it can be refreshed. Oldest first."""
    rows = db.execute(
        "SELECT t.app_id, CASE WHEN t.app_id IS NULL THEN t.id END, coalesce(o.name, t.name), "
        "o.website, group_concat(t.scopes, ' '), min(t.created_at) "
        "FROM api_tokens t LEFT JOIN oauth_apps o ON o.id = t.app_id "
        "WHERE t.account_id = ? AND t.revoked_at IS NULL "
        "AND (t.expires_at IS NULL OR t.expires_at > ? OR t.refresh_hash IS NOT NULL) "
        "GROUP BY coalesce(t.app_id, -t.id) ORDER BY min(t.created_at), min(t.id)",
        [account_id, now],
    ).fetchall()
    return [
        AuthorisedApp(
            app_id=r[0],
            token_id=r[1],
            name=str(r[2]),
            website=r[3],
            scopes=tuple(dict.fromkeys(str(r[4]).split())),
            since=float(r[5]),
        )
        for r in rows
    ]


def revoke_app_for(db: sqlite_utils.Database, account_id: int, app_id: int, when: float) -> int:
    """Revoke every token an app holds for one account; how many."""
    cur = db.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND app_id = ? "
        "AND revoked_at IS NULL",
        [when, account_id, app_id],
    )
    return int(cur.rowcount)


def revoke_token_of(db: sqlite_utils.Database, account_id: int, token_id: int, when: float) -> bool:
    """Revoke one token if it is the account's own and live."""
    cur = db.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE account_id = ? AND id = ? "
        "AND revoked_at IS NULL",
        [when, account_id, token_id],
    )
    return cur.rowcount == 1


# -- failed logins ------------------------------------------------------------


def get_login_failures(db: sqlite_utils.Database, key: str) -> tuple[int, float] | None:
    """(failures, window_start) for a throttling key, if any are recorded."""
    row = db.execute(
        "SELECT failures, window_start FROM login_failures WHERE key = ?", [key]
    ).fetchone()
    return (int(row[0]), float(row[1])) if row else None


def record_login_failure(
    db: sqlite_utils.Database, key: str, now: float, window_seconds: float
) -> None:
    """Count one failure; a window older than ``window_seconds`` starts afresh."""
    db.execute(
        "INSERT INTO login_failures (key, failures, window_start) VALUES (?, 1, ?) "
        "ON CONFLICT(key) DO UPDATE SET "
        "failures = CASE WHEN window_start < ? THEN 1 ELSE failures + 1 END, "
        "window_start = CASE WHEN window_start < ? THEN ? ELSE window_start END",
        [key, now, now - window_seconds, now - window_seconds, now],
    )


def clear_login_failures(db: sqlite_utils.Database, key: str) -> None:
    db.execute("DELETE FROM login_failures WHERE key = ?", [key])
