"""Who is calling: bearer tokens for API requests.

Every request looks its token up again (by hash, one indexed read), so a
revocation, an expiry or a deleted account takes effect on the very next
request; nothing is cached.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import sqlite_utils
from aiohttp import web

from agora_node.context import DB
from agora_node.errors import Forbidden, Unauthorized
from agora_node.processing import oauth as rules
from agora_node.store import accounts as accounts_store
from agora_node.store import tokens as tokens_store
from agora_node.store.accounts import AccountRow
from agora_node.store.tokens import TokenRow

log = logging.getLogger(__name__)

REALM = "agora"


@dataclass(frozen=True)
class TokenInfo:
    """The caller behind a valid token; ``account_id`` is None for app-only tokens."""

    token_id: int
    account_id: int | None
    scopes: frozenset[str]
    app_id: int | None
    # The account, read with the token (one read for both, on every request).
    account: AccountRow | None = None

    def allows(self, scope: str) -> bool:
        return rules.scope_allows(self.scopes, scope)


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


def stream_token(request: web.Request) -> str | None:
    """A streaming client's token: the header, else ``access_token`` in the query,
    else ``Sec-WebSocket-Protocol`` (browsers cannot set headers on a WebSocket)."""
    token = bearer_token(request)
    if token is None:
        token = request.query.get("access_token") or None
    if token is None:
        token = request.headers.get("Sec-WebSocket-Protocol", "").strip() or None
    return token


async def token_info(request: web.Request, token: str) -> TokenInfo:
    """The valid token behind ``token`` (401 otherwise)."""
    return await _lookup(request, token)


async def _lookup(request: web.Request, token: str) -> TokenInfo:
    if not token:
        raise _invalid_token("empty bearer token")
    hashed = rules.hash_secret(token)

    def read(db: sqlite_utils.Database) -> tuple[TokenRow | None, AccountRow | None]:
        found = tokens_store.get_token_by_hash(db, hashed)
        owner = found.account_id if found is not None else None
        return found, accounts_store.get_account_by_id(db, owner) if owner is not None else None

    row, account = await request.app[DB].read(read)
    if row is None:
        raise _invalid_token("unknown token")
    if row.revoked_at is not None:
        raise _invalid_token("the token was revoked")
    if row.expires_at is not None and row.expires_at <= time.time():
        raise _invalid_token("the token has expired")
    if row.account_closed:
        raise _invalid_token("the account was deleted or suspended")
    return TokenInfo(row.id, row.account_id, frozenset(row.scopes), row.app_id, account)


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
            "The access token is missing: this method needs a signed-in app",
            **{"WWW-Authenticate": f'Bearer realm="{REALM}"'},
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
