"""Signing in with a username and password, for every surface that offers it,
and the browser session a sign-in on the pages leaves.

The OAuth password grant (api) and the authorize page (web) both call
``authenticate_password``; it takes values, not a request, so the rule (the
throttle per account and per address, the decoy check for unknown names,
scrypt off the event loop) is the same wherever a password is typed.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import sqlite_utils

from agora_node.errors import Forbidden, TooManyRequests, Unauthorized
from agora_node.processing import oauth as rules
from agora_node.processing.accounts import hash_password, verify_password
from agora_node.store import accounts as accounts_store
from agora_node.store import tokens as tokens_store
from agora_node.store import web_sessions as sessions_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from agora_node.store.web_sessions import WebSessionRow

log = logging.getLogger(__name__)

# The cookie a signed-in browser holds: a random secret whose hash names its
# row of ``web_sessions`` (web/session.py sets it; the pages' own stream reads it).
SESSION_COOKIE = "agora_session"


def session_id(secret: str) -> str:
    return rules.hash_secret(secret)


def signed_in(
    c: sqlite_utils.Database, secret: str, now: float
) -> tuple[AccountRow, WebSessionRow] | None:
    """The account and live session behind a session cookie's ``secret``."""
    row = sessions_store.get_live_session(c, session_id(secret), now)
    account = accounts_store.get_account_by_id(c, row.account_id) if row else None
    if row is None or account is None or account.actor is None:
        return None
    return account, row


class LoginThrottled(TooManyRequests):
    """Too many failed logins; views turn ``retry_after`` into a Retry-After header."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("too many failed login attempts; try again later", retry_after=retry_after)


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


async def authenticate_password(
    db: Database, domain: str, username: str, password: str, *, ip: str, now: float
) -> AccountRow:
    """Check a username and password, throttled per (username, IP) and per IP.

    Raises ``LoginThrottled`` while either counter is over the limit (even
    for the right password), ``Unauthorized`` for wrong credentials.
    """
    name = login_name(username, domain)
    user_key, ip_key = rules.throttle_keys(name, ip)
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
    if account.suspended_at is not None:
        # The right password: saying so tells nothing a stranger could use.
        raise Forbidden("this account is suspended; ask the admin of this server")
    if account.disabled_at is not None:
        raise Forbidden("sign-in to this account is disabled; ask the admin of this server")
    return account
