"""What an admin does to a local account and to the instance's settings,
from the admin pages and the CLI.

Suspending an account refuses its sign-in, ends its browser sessions and
revokes its apps' tokens in one transaction, hides its posts from everyone
(``store/moderation.py``) and tells its followers' servers; its posts and
followers are kept, so lifting the suspension gives the account back as it
was. Silencing (a limit) keeps its posts out of public listings. A reset
password (for someone locked out) is a new random one, shown once to the
admin; it also ends every session and token of the account, as changing
one's own password does.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from typing import Any

import sqlite_utils

from agora_node.actions.signups import Node
from agora_node.config import InstanceSettings, instance_with
from agora_node.context import Instance
from agora_node.errors import ConfigError, NotFound, UnprocessableEntity
from agora_node.processing.account_changes import delete_account
from agora_node.processing.accounts import hash_password
from agora_node.processing.inbound_notes import forget_actor
from agora_node.processing.outbound import OutboundContext, Sent
from agora_node.processing.profile import send_profile
from agora_node.store import accounts as accounts_store
from agora_node.store import audit, social
from agora_node.store import domain_blocks as domain_store
from agora_node.store import instance as instance_store
from agora_node.store import moderation as moderation_store
from agora_node.store import tokens as tokens_store
from agora_node.store import web_sessions as sessions_store
from agora_node.store.accounts import AccountRow, ActorRow
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


async def suspend(
    node: Node, username: str, *, by: AccountRow | None, now: float
) -> tuple[AccountRow, Sent | None]:
    """Suspend a local account: sign-in refused, sessions and tokens ended, its
    posts hidden from everyone here, and its followers' servers sent its actor
    marked ``suspended`` (as Mastodon does, so they hide it too). Nothing is
    deleted: ``unsuspend`` gives it all back."""
    account = await local_account(node.db, username)
    if by is not None and account.id == by.id:
        raise UnprocessableEntity("an admin cannot suspend their own account")
    if account.suspended_at is not None:
        return account, None
    return account, await node.db.write(
        lambda c: _set_suspended(c, node, account, now, now, _name(by))
    )


async def unsuspend(
    node: Node, username: str, *, by: AccountRow | None, now: float
) -> tuple[AccountRow, Sent | None]:
    account = await local_account(node.db, username)
    if account.suspended_at is None:
        return account, None
    return account, await node.db.write(
        lambda c: _set_suspended(c, node, account, None, now, _name(by))
    )


def _name(by: AccountRow | None) -> str:
    """Who the moderation log names: the admin's username, or the command line."""
    return by.username if by is not None else "cli"


def _set_suspended(
    c: sqlite_utils.Database,
    node: Node,
    account: AccountRow,
    when: float | None,
    now: float,
    by: str,
) -> Sent:
    assert account.actor is not None
    audit.record(
        c, by=by, action="account_suspend" if when else "account_unsuspend",
        target=f"@{account.username}", now=now,
    )  # fmt: skip
    accounts_store.set_account_suspended(c, account.id, when)
    moderation_store.set_actor_suspended(c, account.actor.uri, when)
    if when is not None:
        end_sign_ins(c, account.id, now)
    ctx = OutboundContext(node.urls, node.domain, now, {})
    return send_profile(c, ctx, account, "suspended" if when else "unsuspended")


async def silence(node: Node, username: str, *, by: AccountRow | None, now: float) -> AccountRow:
    """Keep a local account's posts out of public listings (public and hashtag
    timelines, trends, the directory) for whoever does not follow it; its
    followers see it as before. Nothing is sent: a limit is this server's own."""
    account = await local_account(node.db, username)
    assert account.actor is not None
    uri = account.actor.uri

    def write(c: sqlite_utils.Database) -> None:
        moderation_store.set_actor_silenced(c, uri, now)
        audit.record(c, by=_name(by), action="account_silence", target=f"@{username}", now=now)

    await node.db.write(write)
    return account


async def unsilence(node: Node, username: str, *, by: AccountRow | None, now: float) -> AccountRow:
    account = await local_account(node.db, username)
    assert account.actor is not None
    uri = account.actor.uri

    def write(c: sqlite_utils.Database) -> None:
        moderation_store.set_actor_silenced(c, uri, None)
        audit.record(c, by=_name(by), action="account_unsilence", target=f"@{username}", now=now)

    await node.db.write(write)
    return account


# Mastodon's, and ``force_unlisted`` (public posts kept out of the public timelines).
ACCOUNT_ACTIONS = ("none", "sensitive", "force_unlisted", "disable", "silence", "suspend")


async def moderate(
    node: Node, actor: ActorRow, action: str, *, by: AccountRow | None, now: float
) -> int:
    """An admin's action on any account, local or remote (Mastodon's ``type``:
    ``none``, ``sensitive`` for its media, ``disable`` a local sign-in,
    ``silence``, ``suspend``); how many deliveries it queued."""
    if action not in ACCOUNT_ACTIONS:
        raise UnprocessableEntity(
            f"Validation failed: type must be one of {', '.join(ACCOUNT_ACTIONS)}"
        )
    if action == "none":
        return 0
    if actor.local:
        if action == "suspend":
            _, sent = await suspend(node, actor.username, by=by, now=now)
            return sent.deliveries if sent is not None else 0
        if action == "silence":
            await silence(node, actor.username, by=by, now=now)
            return 0
        if action == "disable":
            await set_disabled(node, actor.username, True, by=by, now=now)
            return 0
    elif action == "disable":
        raise UnprocessableEntity("Validation failed: only a local account's sign-in is disabled")
    await node.db.write(
        functools.partial(_mark_actor, uri=actor.uri, action=action, now=now, by=_name(by))
    )
    return 0


async def lift(
    node: Node, actor: ActorRow, action: str, *, by: AccountRow | None, now: float
) -> int:
    """Undo one action: ``unsuspend``, ``unsilence``, ``unsensitive``,
    ``unforce_unlisted``, ``enable``."""
    if action == "enable":
        if not actor.local:
            raise UnprocessableEntity("Validation failed: only a local account is enabled")
        await set_disabled(node, actor.username, False, by=by, now=now)
        return 0
    if actor.local and action == "unsuspend":
        _, sent = await unsuspend(node, actor.username, by=by, now=now)
        return sent.deliveries if sent is not None else 0
    if actor.local and action == "unsilence":
        await unsilence(node, actor.username, by=by, now=now)
        return 0
    if action not in ("unsuspend", "unsilence", "unsensitive", "unforce_unlisted"):
        raise NotFound("Record not found")
    await node.db.write(
        functools.partial(_mark_actor, uri=actor.uri, action=action, now=now, by=_name(by))
    )
    return 0


def _mark_actor(c: sqlite_utils.Database, *, uri: str, action: str, now: float, by: str) -> None:
    """A mark on an actor (a remote one's suspension or silence, any one's media)."""
    if action == "suspend":
        moderation_store.set_actor_suspended(c, uri, now)
        social.delete_follows_of_actor(c, uri)
    elif action == "unsuspend":
        moderation_store.set_actor_suspended(c, uri, None)
    elif action == "silence":
        moderation_store.set_actor_silenced(c, uri, now)
    elif action == "unsilence":
        moderation_store.set_actor_silenced(c, uri, None)
    elif action == "sensitive":
        moderation_store.set_actor_sensitized(c, uri, now)
    elif action == "unsensitive":
        moderation_store.set_actor_sensitized(c, uri, None)
    elif action == "force_unlisted":
        moderation_store.set_actor_unlisted(c, uri, now)
    elif action == "unforce_unlisted":
        moderation_store.set_actor_unlisted(c, uri, None)
    audit.record(c, by=by, action=f"account_{action}", target=uri, now=now)


async def set_disabled(
    node: Node, username: str, disabled: bool, *, by: AccountRow | None, now: float
) -> AccountRow:
    """Refuse (or allow again) a local account's sign-in; its sessions and tokens
    end, its profile and posts stay as they are."""
    account = await local_account(node.db, username)

    def write(c: sqlite_utils.Database) -> None:
        accounts_store.set_account_disabled(c, account.id, now if disabled else None)
        if disabled:
            end_sign_ins(c, account.id, now)
        audit.record(
            c, by=_name(by), action="account_disable" if disabled else "account_enable",
            target=f"@{username}", now=now,
        )  # fmt: skip

    await node.db.write(write)
    return account


DAY = 86400.0


async def purge_suspended(node: Node, *, days: int, now: float) -> int:
    """Delete what accounts suspended more than ``days`` days ago left: a local
    one is deleted as if it had closed itself (its followers' servers told), a
    remote one forgotten. Accounts suspended by a domain block are the block's
    (``agora-node domain purge``). How many were purged."""
    if days <= 0:
        return 0

    def due(c: sqlite_utils.Database) -> list[tuple[str, bool]]:
        out = []
        for uri, local in moderation_store.suspended_before(c, now - days * DAY):
            if not local:
                actor = accounts_store.get_actor_by_uri(c, uri)
                block = domain_store.covering_block(c, actor.host) if actor else None
                if block is not None and block.severity == "suspend":
                    continue
            out.append((uri, local))
        return out

    found = await node.db.read(due)
    for uri, local in found:
        await node.db.write(
            functools.partial(_purge_one, node=node, uri=uri, local=local, now=now, days=days)
        )
    return len(found)


def _purge_one(
    c: sqlite_utils.Database, *, node: Node, uri: str, local: bool, now: float, days: int
) -> None:
    if local:
        account = accounts_store.get_account_by_actor_uri(c, uri)
        if account is None or account.deleted_at is not None:
            return
        delete_account(c, node.urls, account, now)
    else:
        forget_actor(c, uri, now)
    audit.record(c, by="schedule", action="account_purge", target=uri, now=now,
                 detail={"suspended_more_than_days": days})  # fmt: skip


async def change_password(
    db: Database, account: AccountRow, password: str, *, now: float, keep: str = ""
) -> None:
    """Set a new password and end every other sign-in (``keep``: the session asking)."""
    hashed = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)

    def write(c: sqlite_utils.Database) -> None:
        accounts_store.set_password_hash(c, account.id, hashed)
        end_sign_ins(c, account.id, now, keep)

    await db.write(write)


async def reset_password(db: Database, username: str, *, by: AccountRow | None, now: float) -> str:
    """A new random password for ``username`` (to give them); every sign-in ends."""
    account = await local_account(db, username)
    password = secrets.token_urlsafe(12)
    await change_password(db, account, password, now=now)
    await db.write(
        lambda c: audit.record(
            c, by=_name(by), action="account_reset_password", target=f"@{username}", now=now
        )
    )
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
