"""OAuth 2.0 rules, shaped like Mastodon's so its clients work unchanged.

The pure parts (scopes, PKCE, redirect URIs, throttling windows) need no
database. The grant functions take one connection and run inside one write
transaction: a check that fails raises before anything is written, so a
refused exchange leaves no half-issued token and an unburnt code.

Secrets (client secrets, codes, tokens) are random 256-bit strings, so a
plain SHA-256 is enough to store them: there is nothing to brute-force.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlite_utils

from agora_node.errors import AgoraError, UnprocessableEntity
from agora_node.store import tokens as tokens_store
from agora_node.store.tokens import AppRow, TokenRow

OOB_URI = "urn:ietf:wg:oauth:2.0:oob"
# Mastodon tokens never expire and most of its clients never refresh; 30 days
# with rotation-on-refresh is a compromise that keeps stolen tokens short-lived.
ACCESS_TOKEN_TTL = 30 * 86400
# Counted from the issue of the token the refresh token belongs to; every
# refresh issues a new pair, so an app in use stays signed in indefinitely.
REFRESH_TOKEN_TTL = 90 * 86400
CODE_TTL = 600
LOGIN_WINDOW = 15 * 60
LOGIN_MAX_FAILURES = 5
# Per client IP across all usernames (password spraying). Kept equal to the
# per-username limit for now; a NAT shared by many people may want it higher.
LOGIN_MAX_FAILURES_PER_IP = 5
DEFAULT_SCOPE = "read"

_READ = (
    "accounts blocks bookmarks favourites filters follows lists mutes notifications search statuses"
).split()
_WRITE = (
    "accounts blocks bookmarks conversations favourites filters follows lists media mutes "
    "notifications reports statuses"
).split()
_ADMIN = (
    "accounts reports domain_allows domain_blocks ip_blocks email_domain_blocks "
    "canonical_email_blocks"
).split()
_FOLLOW = frozenset(
    {"read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"}
)
TOP_SCOPES = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")
KNOWN_SCOPES = frozenset(
    [*TOP_SCOPES]
    + [f"read:{s}" for s in _READ]
    + [f"write:{s}" for s in _WRITE]
    + [f"admin:read:{s}" for s in _ADMIN]
    + [f"admin:write:{s}" for s in _ADMIN]
)
_VERIFIER_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_FORBIDDEN_REDIRECT_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})


class OAuthError(AgoraError):
    """An RFC 6749 error: ``error`` is the standard code, ``error_description`` prose."""

    def __init__(self, code: str, description: str, *, status: int = 400) -> None:
        self.status = status
        self.code = code
        super().__init__(code, error_description=description)


class CodeReplayed(OAuthError):
    """A spent code came back: the tokens it produced must be revoked too."""

    def __init__(self, app_id: int, account_id: int, used_at: float) -> None:
        self.app_id = app_id
        self.account_id = account_id
        self.used_at = used_at
        super().__init__("invalid_grant", "the authorization code was already used")


# -- secrets ------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


# -- scopes -------------------------------------------------------------------


def parse_scopes(text: str | None, *, default: str = DEFAULT_SCOPE) -> frozenset[str]:
    """Space-separated scopes (``+`` tolerated, as some clients send it)."""
    names = (text or "").replace("+", " ").split() or default.split()
    unknown = sorted(n for n in names if n not in KNOWN_SCOPES)
    if unknown:
        raise OAuthError("invalid_scope", f"unknown scope: {' '.join(unknown)}")
    return frozenset(names)


def scope_string(scopes: frozenset[str] | tuple[str, ...]) -> str:
    """A stable order: the broad scopes first, then the granular ones."""
    top = [s for s in TOP_SCOPES if s in scopes]
    return " ".join(top + sorted(s for s in scopes if s not in TOP_SCOPES))


def _grantors(scope: str) -> set[str]:
    """Every scope that grants ``scope`` (itself, its parent, and ``follow``)."""
    found = {scope}
    head, sep, _ = scope.rpartition(":")
    if sep and head in ("read", "write", "admin:read", "admin:write"):
        found.add(head)
    if scope in _FOLLOW:
        found.add("follow")
    return found


def scope_allows(granted: frozenset[str] | tuple[str, ...], needed: str) -> bool:
    return not _grantors(needed).isdisjoint(granted)


def scopes_covered(requested: frozenset[str], granted: frozenset[str] | tuple[str, ...]) -> bool:
    """True when every requested scope is granted (directly or by a parent)."""
    return all(scope_allows(granted, s) for s in requested)


# -- redirect URIs and PKCE ------------------------------------------------------------


def parse_redirect_uris(value: object) -> tuple[str, ...]:
    """Mastodon accepts a newline-separated string or a list; we check each URI.

    Custom schemes are allowed (native apps use ``myapp://callback``); script
    schemes and fragments are not, and http(s) URIs need a host.
    """
    if isinstance(value, str):
        items = value.split("\n")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [str(v) for v in value]
    else:
        raise UnprocessableEntity("redirect_uris must be a string or a list of strings")
    uris = tuple(dict.fromkeys(u.strip() for u in items if u.strip()))
    if not uris:
        raise UnprocessableEntity("redirect_uris is required")
    for uri in uris:
        if uri == OOB_URI:
            continue
        parts = urlsplit(uri)
        scheme = parts.scheme.lower()
        bad = (
            len(uri) > 2000
            or not scheme
            or scheme in _FORBIDDEN_REDIRECT_SCHEMES
            or "#" in uri
            or (scheme in ("http", "https") and not parts.hostname)
            or any(c.isspace() for c in uri)
        )
        if bad:
            raise UnprocessableEntity(f"redirect_uris: {uri[:200]!r} is not a valid redirect URI")
    return uris


def check_code_challenge(challenge: str | None, method: str | None) -> tuple[str, str] | None:
    """Validate a PKCE challenge at authorization time; None when not used."""
    if not challenge:
        if method:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge")
        return None
    method = method or "plain"
    if method not in ("S256", "plain"):
        raise OAuthError("invalid_request", "code_challenge_method must be S256 or plain")
    if not _VERIFIER_RE.match(challenge):
        raise OAuthError("invalid_request", "code_challenge is malformed")
    return challenge, method


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    if not _VERIFIER_RE.match(verifier):
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        derived = verifier
    return hmac.compare_digest(derived, challenge)


# -- failed-login throttling ----------------------------------------------------------


def throttle_keys(username: str, ip: str) -> tuple[str, str]:
    """The per-(username, IP) key (cleared by a success) and the per-IP key."""
    return f"login:{username.lower()}|{ip}", f"ip:{ip}"


def throttle_wait(
    entry: tuple[int, float] | None, now: float, limit: int = LOGIN_MAX_FAILURES
) -> int | None:
    """Seconds to wait before another try, or None when a try is allowed."""
    if entry is None:
        return None
    failures, window_start = entry
    ends = window_start + LOGIN_WINDOW
    if failures < limit or ends <= now:
        return None
    return max(1, int(ends - now + 0.999))


# -- grants ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint returns; the clear secrets exist only here."""

    token_id: int
    access_token: str
    refresh_token: str | None
    scopes: frozenset[str]
    created_at: float
    expires_in: int | None


def authenticate_client(
    db: sqlite_utils.Database, client_id: str, client_secret: str | None, *, public_ok: bool
) -> AppRow:
    """The app behind ``client_id``; a wrong secret is invalid_client (401)."""
    app = tokens_store.get_app_by_client_id(db, client_id) if client_id else None
    if app is None:
        raise OAuthError("invalid_client", "unknown client", status=401)
    if client_secret is None:
        if not public_ok:
            raise OAuthError("invalid_client", "client_secret is required", status=401)
    elif not secret_matches(client_secret, app.client_secret_hash):
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    return app


def requested_scopes(app: AppRow, scope: str | None) -> frozenset[str]:
    """The scopes asked for (default ``read``), which the app must have registered."""
    wanted = parse_scopes(scope)
    if not scopes_covered(wanted, app.scopes):
        raise OAuthError("invalid_scope", "the requested scope exceeds what the app registered")
    return wanted


def issue_token(
    db: sqlite_utils.Database,
    *,
    account_id: int,
    app: AppRow | None,
    scopes: frozenset[str],
    now: float,
    name: str | None = None,
    ttl: int | None = ACCESS_TOKEN_TTL,
    refreshable: bool = True,
) -> IssuedToken:
    access = new_secret()
    refresh = new_secret() if refreshable else None
    token_id = tokens_store.insert_token(
        db,
        account_id=account_id,
        app_id=app.id if app else None,
        name=name or (app.name if app else "token"),
        token_hash=hash_secret(access),
        refresh_hash=hash_secret(refresh) if refresh else None,
        scopes=tuple(scope_string(scopes).split()),
        created_at=now,
        expires_at=now + ttl if ttl is not None else None,
    )
    return IssuedToken(token_id, access, refresh, scopes, now, ttl)


def create_code(
    db: sqlite_utils.Database,
    *,
    app: AppRow,
    account_id: int,
    redirect_uri: str,
    scopes: frozenset[str],
    challenge: tuple[str, str] | None,
    now: float,
) -> str:
    code = new_secret()
    tokens_store.delete_codes_expired_before(db, now - 86400)
    tokens_store.insert_code(
        db,
        code_hash=hash_secret(code),
        app_id=app.id,
        account_id=account_id,
        redirect_uri=redirect_uri,
        scopes=tuple(scope_string(scopes).split()),
        code_challenge=challenge[0] if challenge else None,
        code_challenge_method=challenge[1] if challenge else None,
        expires_at=now + CODE_TTL,
    )
    return code


def exchange_code(
    db: sqlite_utils.Database,
    *,
    client_id: str,
    client_secret: str | None,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
    now: float,
) -> IssuedToken:
    """authorization_code grant: a confidential client, or a public one with PKCE."""
    app = authenticate_client(db, client_id, client_secret, public_ok=True)
    row = tokens_store.get_code(db, hash_secret(code)) if code else None
    if row is None or row.app_id != app.id:
        raise OAuthError("invalid_grant", "the authorization code is invalid")
    if row.used_at is not None:
        raise CodeReplayed(row.app_id, row.account_id, row.used_at)
    if row.expires_at <= now:
        raise OAuthError("invalid_grant", "the authorization code has expired")
    if redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    if row.code_challenge is None:
        if code_verifier:
            raise OAuthError("invalid_grant", "no code_challenge was sent for this code")
        if client_secret is None:
            raise OAuthError("invalid_client", "client_secret or PKCE is required", status=401)
    elif not code_verifier or not pkce_matches(
        code_verifier, row.code_challenge, row.code_challenge_method or "plain"
    ):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    if not tokens_store.mark_code_used(db, row.code_hash, now):
        raise CodeReplayed(row.app_id, row.account_id, now)
    return issue_token(
        db, account_id=row.account_id, app=app, scopes=frozenset(row.scopes), now=now
    )


def refresh_token(
    db: sqlite_utils.Database,
    *,
    client_id: str,
    client_secret: str | None,
    refresh: str,
    scope: str | None,
    now: float,
) -> IssuedToken:
    """refresh_token grant: a new pair; the old access and refresh token die."""
    app = authenticate_client(db, client_id, client_secret, public_ok=True)
    old = tokens_store.get_token_by_refresh_hash(db, hash_secret(refresh)) if refresh else None
    if old is None or old.app_id != app.id or old.revoked_at is not None or old.account_closed:
        raise OAuthError("invalid_grant", "the refresh token is invalid")
    if old.created_at + REFRESH_TOKEN_TTL <= now:
        raise OAuthError("invalid_grant", "the refresh token has expired")
    scopes = frozenset(old.scopes)
    if scope:
        scopes = parse_scopes(scope)
        if not scopes_covered(scopes, old.scopes):
            raise OAuthError("invalid_scope", "a refresh cannot widen the token's scope")
    tokens_store.revoke_token(db, old.id, now)
    return issue_token(db, account_id=old.account_id, app=app, scopes=scopes, now=now)


def revoke(
    db: sqlite_utils.Database,
    *,
    client_id: str,
    client_secret: str | None,
    token: str,
    now: float,
) -> None:
    """RFC 7009: revoke an access or refresh token of this client; silent otherwise."""
    app = authenticate_client(db, client_id, client_secret, public_ok=True)
    hashed = hash_secret(token)
    row: TokenRow | None = tokens_store.get_token_by_hash(db, hashed)
    row = row or tokens_store.get_token_by_refresh_hash(db, hashed)
    if row is not None and row.app_id == app.id:
        tokens_store.revoke_token(db, row.id, now)


def revoke_replayed_grant(db: sqlite_utils.Database, exc: CodeReplayed, now: float) -> int:
    """RFC 6749 §4.1.2: tokens issued from a replayed code are revoked."""
    return tokens_store.revoke_app_tokens_created_since(
        db, exc.app_id, exc.account_id, exc.used_at, now
    )
