"""Signing up, approving a pending sign-up, and invites: for the pages and the CLI.

Making an account is slow on purpose in two places, scrypt for the password
and RSA for the key pair; both run off the event loop, then one write
transaction checks the name is still free, counts the invite and stores the
account (or the pending sign-up). Nothing is half-made on a refusal.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlite_utils

from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing import signups as rules
from agora_node.processing.accounts import (
    NewAccount,
    hash_password,
    new_local_account,
    store_new_account,
)
from agora_node.processing.signups import SignupForm
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store import signups as signups_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from agora_node.store.signups import InviteRow, SignupRow

T = TypeVar("T")
_TAKEN = "Username: that name is taken; pick another."


class SignupRefused(UnprocessableEntity):
    """A sign-up that cannot go through, with every reason (``reasons``)."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(" ".join(reasons))


@dataclass(frozen=True)
class Registration:
    """What became of a sign-up: an account now, or a pending sign-up."""

    account: AccountRow | None
    pending: bool


@dataclass(frozen=True)
class Node:
    """Where accounts are made: the database, the node's URLs and domain."""

    db: Database
    urls: LocalUrls
    domain: str


async def _off_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, work)


async def _usable_invite(node: Node, code: str, now: float) -> InviteRow | None:
    if not code:
        return None
    invite = await node.db.read(lambda c: signups_store.get_invite(c, code))
    if invite is None or not invite.usable(now):
        raise SignupRefused(["This invite link has expired, been used up, or was withdrawn."])
    return invite


async def sign_up(
    node: Node, entry: SignupForm, *, mode: str, has_rules: bool, ip: str, now: float
) -> Registration:
    """Make an account (open mode, or with an invite) or a pending sign-up (approval)."""
    invite = await _usable_invite(node, entry.invite.strip(), now) if mode != "closed" else None
    outcome = rules.outcome(mode, invited=invite is not None)
    if outcome == "refused":
        raise SignupRefused(
            ["Sign-ups are closed here."]
            if mode == "closed"
            else ["This server takes new people by invitation only."]
        )
    reasons = rules.problems(entry, mode=mode, has_rules=has_rules, invited=invite is not None)
    name = entry.username.strip()
    if not reasons and await node.db.read(
        lambda c: signups_store.username_taken(c, name, node.domain)
    ):
        reasons.append(_TAKEN)
    if reasons:
        raise SignupRefused(reasons)
    if outcome == "pending":
        hashed = await _off_loop(lambda: hash_password(entry.password))

        def hold(c: sqlite_utils.Database) -> None:
            if signups_store.username_taken(c, name, node.domain):
                raise SignupRefused([_TAKEN])
            signups_store.insert_signup(c, name, hashed, entry.reason.strip(), ip, now)

        await node.db.write(hold)
        return Registration(None, True)
    new = await _off_loop(
        lambda: new_local_account(node.urls, node.domain, name, entry.password, now=now)
    )
    code = invite.code if invite else None
    account = await node.db.write(lambda c: _store(c, node.domain, new, code, now))
    return Registration(account, False)


def _store(
    c: sqlite_utils.Database, domain: str, new: NewAccount, invite: str | None, now: float
) -> AccountRow:
    """Store a built account, if its name is still free and its invite still usable."""
    if signups_store.username_taken(c, new.username, domain):
        raise SignupRefused([_TAKEN])
    if invite is not None and not signups_store.use_invite(c, invite, now):
        raise SignupRefused(["This invite link has expired, been used up, or was withdrawn."])
    account_id = store_new_account(c, new)
    account = accounts_store.get_account_by_id(c, account_id)
    assert account is not None
    return account


async def approve(node: Node, username: str, now: float) -> AccountRow:
    """Make the account a pending sign-up asked for (404 when nothing is pending)."""
    signup = await _pending(node, username)
    new = await _off_loop(
        lambda: new_local_account(
            node.urls, node.domain, signup.username, "", now=now,
            password_hash=signup.password_hash,
        )
    )  # fmt: skip

    def make(c: sqlite_utils.Database) -> AccountRow:
        if not signups_store.delete_signup(c, signup.id):
            raise NotFound(f"no pending sign-up for {username!r}")
        return _store(c, node.domain, new, None, now)

    return await node.db.write(make)


async def reject(node: Node, username: str) -> None:
    signup = await _pending(node, username)
    await node.db.write(lambda c: signups_store.delete_signup(c, signup.id))


async def _pending(node: Node, username: str) -> SignupRow:
    name = username.strip().removeprefix("@")
    signup = await node.db.read(lambda c: signups_store.get_signup_by_username(c, name))
    if signup is None:
        raise NotFound(f"no pending sign-up for {username!r}")
    return signup


async def create_invite(
    node: Node,
    *,
    created_by: int | None,
    now: float,
    expires_in: float | None,
    max_uses: int | None,
) -> str:
    """A new invite code (for ``/auth/sign_up?invite=<code>``)."""
    if expires_in is not None and expires_in <= 0:
        raise UnprocessableEntity("an invite must expire in the future")
    if max_uses is not None and max_uses < 1:
        raise UnprocessableEntity("an invite must allow at least one use")
    code = secrets.token_urlsafe(12)
    expires_at = now + expires_in if expires_in is not None else None
    await node.db.write(
        lambda c: signups_store.insert_invite(
            c, code, created_by=created_by, now=now, expires_at=expires_at, max_uses=max_uses
        )
    )
    return code
