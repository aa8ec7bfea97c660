"""What an admin does to a local account and to the instance's settings,
from the admin pages and the CLI.

Suspending an account refuses its sign-in, ends its browser sessions and
revokes its apps' tokens in one transaction; its posts and followers are
kept, so lifting the suspension gives the account back as it was. A reset
password (for someone locked out) is a new random one, shown once to the
admin; it also ends every session and token of the account, as changing
one's own password does.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import sqlite_utils

from agora_node.config import InstanceSettings, instance_with
from agora_node.context import Instance
from agora_node.errors import ConfigError, NotFound, UnprocessableEntity
from agora_node.processing.accounts import hash_password
from agora_node.store import accounts as accounts_store
from agora_node.store import instance as instance_store
from agora_node.store import tokens as tokens_store
from agora_node.store import web_sessions as sessions_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database


def end_sign_ins(c: sqlite_utils.Database, account_id: int, now: float, keep: str = "") -> None:
    """End an account's browser sessions (but ``keep``) and revoke its tokens."""
    sessions_store.delete_sessions_of(c, account_id, keep=keep or None)
    tokens_store.revoke_tokens_of(c, account_id, now)


async def local_account(db: Database, username: str) -> AccountRow:
    account = await db.read(lambda c: accounts_store.get_account_by_username(c, username))
    if account is None or account.deleted_at is not None:
        raise NotFound(f"no local account named {username!r}")
    return account


async def suspend(db: Database, username: str, *, by: AccountRow | None, now: float) -> AccountRow:
    account = await local_account(db, username)
    if by is not None and account.id == by.id:
        raise UnprocessableEntity("an admin cannot suspend their own account")

    def write(c: sqlite_utils.Database) -> None:
        accounts_store.set_account_suspended(c, account.id, now)
        end_sign_ins(c, account.id, now)

    if account.suspended_at is None:
        await db.write(write)
    return account


async def unsuspend(db: Database, username: str) -> AccountRow:
    account = await local_account(db, username)
    if account.suspended_at is not None:
        await db.write(lambda c: accounts_store.set_account_suspended(c, account.id, None))
    return account


async def change_password(
    db: Database, account: AccountRow, password: str, *, now: float, keep: str = ""
) -> None:
    """Set a new password and end every other sign-in (``keep``: the session asking)."""
    hashed = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)

    def write(c: sqlite_utils.Database) -> None:
        accounts_store.set_password_hash(c, account.id, hashed)
        end_sign_ins(c, account.id, now, keep)

    await db.write(write)


async def reset_password(db: Database, username: str, *, now: float) -> str:
    """A new random password for ``username`` (to give them); every sign-in ends."""
    account = await local_account(db, username)
    password = secrets.token_urlsafe(12)
    await change_password(db, account, password, now=now)
    return password


async def update_instance(
    db: Database, live: Instance, changes: dict[str, Any]
) -> InstanceSettings:
    """Change the instance's public face (name, description, rules, sign-up
    mode, contact, accent): checked as the config file is, kept in the
    database over the file's values, and in effect at once."""
    merged = {**await db.read(instance_store.instance_changes), **changes}
    try:
        changed = instance_with(live.configured, merged)
    except ConfigError as exc:
        raise UnprocessableEntity(str(exc).removeprefix("instance.")) from None
    await db.write(lambda c: instance_store.put_instance_changes(c, merged))
    live.apply(merged)
    return changed
