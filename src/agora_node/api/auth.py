"""Who is calling: bearer tokens for API requests, throttled password checks.

Every request looks its token up again (by hash, one indexed read), so a
revocation, an expiry or a deleted account takes effect on the very next
request; nothing is cached.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass

import sqlite_utils
from aiohttp import web

from agora_node.context import DB, SETTINGS
from agora_node.errors import Forbidden, TooManyRequests, Unauthorized
from agora_node.processing import oauth as rules
from agora_node.processing.accounts import hash_password, verify_password
from agora_node.store import accounts as accounts_store
from agora_node.store import tokens as tokens_store
from agora_node.store.accounts import AccountRow

log = logging.getLogger(__name__)

REALM = "agora"


@dataclass(frozen=True)
class TokenInfo:
    """The caller behind a valid token; ``account_id`` is None for app-only tokens."""

    token_id: int
    account_id: int | None
    scopes: frozenset[str]
    app_id: int | None

    def allows(self, scope: str) -> bool:
        return rules.scope_allows(self.scopes, scope)


class LoginThrottled(TooManyRequests):
    """Too many failed logins; views turn ``retry_after`` into a Retry-After header."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("too many failed login attempts; try again later", retry_after=retry_after)


def _invalid_token(description: str) -> Unauthorized:
    challenge = f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
    return Unauthorized("The access token is invalid", **{"WWW-Authenticate": challenge})


def bearer_token(request: web.Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None when there is none."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


async def _lookup(request: web.Request, token: str) -> TokenInfo:
    if not token:
        raise _invalid_token("empty bearer token")
    hashed = rules.hash_secret(token)
    row = await request.app[DB].read(lambda db: tokens_store.get_token_by_hash(db, hashed))
    if row is None:
        raise _invalid_token("unknown token")
    if row.revoked_at is not None:
        raise _invalid_token("the token was revoked")
    if row.expires_at is not None and row.expires_at <= time.time():
        raise _invalid_token("the token has expired")
    if row.account_deleted:
        raise _invalid_token("the account was deleted")
    return TokenInfo(row.id, row.account_id, frozenset(row.scopes), row.app_id)


async def optional_token(request: web.Request) -> TokenInfo | None:
    """None for an anonymous request; a token that is sent must be valid (else 401)."""
    token = bearer_token(request)
    if token is None:
        return None
    return await _lookup(request, token)


async def require_token(request: web.Request, *scopes: str) -> TokenInfo:
    """A valid token holding one of ``scopes`` (any valid token when none are named).

    401 with a ``WWW-Authenticate`` challenge when the token is missing or
    unusable; 403 naming the scope when the token is fine but too narrow.
    """
    token = bearer_token(request)
    if token is None:
        raise Unauthorized(
            "The access token is invalid", **{"WWW-Authenticate": f'Bearer realm="{REALM}"'}
        )
    info = await _lookup(request, token)
    if scopes and not any(info.allows(s) for s in scopes):
        needed = " or ".join(scopes)
        raise Forbidden(
            "This action is outside the authorized scopes",
            error_description=f"this action needs the scope {needed}",
            scope=" ".join(scopes),
        )
    return info


# -- password logins ----------------------------------------------------------


@functools.cache
def _decoy_hash() -> str:
    """A hash to check unknown usernames against, so timing does not tell."""
    return hash_password(rules.new_secret())


def _password_ok(password: str, account: AccountRow | None) -> bool:
    """Runs off the event loop: scrypt is deliberately slow."""
    stored = account.password_hash if account is not None else _decoy_hash()
    return verify_password(password, stored)


def login_name(username: str, domain: str) -> str:
    """Accept ``alice``, ``@alice`` and ``alice@domain`` for a local account."""
    name = username.strip().removeprefix("@")
    local, sep, host = name.rpartition("@")
    if sep and host.lower() == domain.lower():
        return local
    return name


async def authenticate_password(request: web.Request, username: str, password: str) -> AccountRow:
    """Check a username and password, throttled per (username, IP) and per IP.

    Raises ``LoginThrottled`` while either counter is over the limit (even
    for the right password), ``Unauthorized`` for wrong credentials.
    """
    db = request.app[DB]
    name = login_name(username, request.app[SETTINGS].domain)
    ip = request.remote or "unknown"
    user_key, ip_key = rules.throttle_keys(name, ip)
    now = time.time()
    by_user, by_ip = await db.read(
        lambda c: (
            tokens_store.get_login_failures(c, user_key),
            tokens_store.get_login_failures(c, ip_key),
        )
    )
    waits = [
        w
        for w in (
            rules.throttle_wait(by_user, now, rules.LOGIN_MAX_FAILURES),
            rules.throttle_wait(by_ip, now, rules.LOGIN_MAX_FAILURES_PER_IP),
        )
        if w is not None
    ]
    if waits:
        log.warning("login throttled username=%s ip=%s", name, ip)
        raise LoginThrottled(max(waits))
    account = await db.read(lambda c: accounts_store.get_account_by_username(c, name))
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(None, _password_ok, password, account)
    if account is None or account.deleted_at is not None or not ok:

        def record(c: sqlite_utils.Database) -> None:
            for key in (user_key, ip_key):
                tokens_store.record_login_failure(c, key, now, rules.LOGIN_WINDOW)

        await db.write(record)
        log.info("login failed username=%s ip=%s", name, ip)
        raise Unauthorized("invalid username or password")
    await db.write(lambda c: tokens_store.clear_login_failures(c, user_key))
    return account
