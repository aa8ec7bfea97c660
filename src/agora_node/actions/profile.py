"""Changing one's own profile and posting defaults, from any surface."""

from __future__ import annotations

from agora_node.actions.caller import Caller
from agora_node.processing import profile
from agora_node.processing.outbound import Sent
from agora_node.processing.profile import ProfileChange
from agora_node.store import accounts as accounts_store
from agora_node.store.accounts import AccountSettings


async def update_profile(caller: Caller, change: ProfileChange) -> Sent | None:
    """Apply ``change``; the Update sent to followers' servers, if any."""
    ctx, account = caller.context(), caller.account
    return await caller.db.write(lambda db: profile.update_profile(db, ctx, account, change))


async def posting_defaults(caller: Caller) -> AccountSettings:
    """The caller's defaults for what a new post leaves unsaid (visibility, ...)."""
    account_id = caller.account.id
    return await caller.db.read(lambda db: accounts_store.get_account_settings(db, account_id))
