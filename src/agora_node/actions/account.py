"""What a person does to their own account: the apps that act for it, exports
of its relations, aliases and a move to another server, and deleting it.

The settings pages call these; the CLI does the same through
``processing.account_changes``. Deleting an account takes its posts and
relations down here, tells its followers' servers (Delete of the actor), and
ends every session and token in the same transaction.
"""

from __future__ import annotations

import sqlite_utils

from agora_node.actions import social
from agora_node.actions.admin import end_sign_ins
from agora_node.actions.caller import Caller
from agora_node.errors import BadRequest, NotFound
from agora_node.processing import account_changes
from agora_node.processing.effects import Effects
from agora_node.processing.exports import EXPORT_KINDS, export_csv
from agora_node.store import relationships as relationships_store
from agora_node.store import tokens as tokens_store
from agora_node.store.tokens import AuthorisedApp


async def authorised_apps(caller: Caller) -> list[AuthorisedApp]:
    me = caller.account.id
    return await caller.db.read(lambda c: tokens_store.authorised_apps(c, me, caller.now))


async def revoke_app(caller: Caller, *, app_id: int | None, token_id: int | None) -> None:
    """Take an app's access away (every token it holds), or one personal token."""
    me = caller.account.id

    def write(c: sqlite_utils.Database) -> bool:
        if app_id is not None:
            return tokens_store.revoke_app_for(c, me, app_id, caller.now) > 0
        if token_id is not None:
            return tokens_store.revoke_token_of(c, me, token_id, caller.now)
        return False

    if not await caller.db.write(write):
        raise NotFound("no such authorised app")


async def export(caller: Caller, kind: str) -> str:
    """The CSV of the caller's ``kind`` relations (following, followers, blocks, mutes)."""
    if kind not in EXPORT_KINDS:
        raise NotFound(f"nothing to export named {kind!r}")
    me = caller.actor_uri
    rows = await caller.db.read(lambda c: relationships_store.exported_relations(c, kind, me))
    return export_csv(kind, rows)


async def add_alias(caller: Caller, address: str) -> list[str]:
    """Name another account (a handle or an actor URL) as this one's earlier self."""
    other = await social.account_named(caller, address.strip())
    if other.uri == caller.actor_uri:
        raise BadRequest("an account cannot be its own alias")
    current = caller.account.actor.also_known_as if caller.account.actor else ()
    aliases = list(dict.fromkeys([*current, other.uri]))
    await caller.db.write(lambda c: account_changes.set_aliases(c, caller.account, aliases))
    return aliases


async def remove_alias(caller: Caller, uri: str) -> list[str]:
    current = caller.account.actor.also_known_as if caller.account.actor else ()
    if uri not in current:
        raise NotFound("no such alias")
    aliases = [a for a in current if a != uri]
    await caller.db.write(lambda c: account_changes.set_aliases(c, caller.account, aliases))
    return aliases


async def move_to(caller: Caller, address: str) -> Effects:
    """Move to the account ``address`` names; its document is fetched anew, as it
    must already list this account among its aliases."""
    target = await social.account_named(caller, address.strip())
    doc = await caller.resolver.fresh_actor_document(target.uri)

    def write(c: sqlite_utils.Database) -> Effects:
        return account_changes.move_account(c, caller.urls, caller.account, doc, caller.now)

    return await caller.db.write(write)


async def delete_own(caller: Caller) -> Effects:
    """Delete the caller's account (the surface has checked the password)."""

    def write(c: sqlite_utils.Database) -> Effects:
        effects = account_changes.delete_account(c, caller.urls, caller.account, caller.now)
        end_sign_ins(c, caller.account.id, caller.now)
        return effects

    return await caller.db.write(write)
