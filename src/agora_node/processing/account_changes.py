"""Account-level changes that federate: aliases, moves and deletion.

A Move is sent only now the target account already lists ours in its
``alsoKnownAs`` (receivers check the same thing), and at most once per
``MOVE_INTERVAL``. Deleting an account sends a Delete of the actor to every
server that follows it, so they drop its content too.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from agora_node.errors import BadRequest, Conflict
from agora_node.processing.effects import Effects, new_activity_id, send_activity
from agora_node.processing.inbound import MOVE_INTERVAL
from agora_node.processing.inbound_notes import forget_actor
from agora_node.protocol import builders
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import as_list, id_of
from agora_node.store import accounts as accounts_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow


def set_aliases(db: sqlite_utils.Database, account: AccountRow, aliases: list[str]) -> None:
    for alias in aliases:
        if not alias.startswith(("https://", "http://")):
            raise BadRequest(f"alias {alias!r} must be an actor URL")
    accounts_store.set_account_profile(db, account.id, {"also_known_as": aliases})


def move_account(
    db: sqlite_utils.Database,
    urls: LocalUrls,
    account: AccountRow,
    target_doc: dict[str, Any],
    now: float,
) -> Effects:
    """Point ``account`` at the target and tell its followers' servers."""
    actor = account.actor
    assert actor is not None
    target_uri = id_of(target_doc.get("id"))
    if not target_uri or target_uri == actor.uri:
        raise BadRequest("the move target must be another account")
    aliases = [id_of(v) for v in as_list(target_doc.get("alsoKnownAs"))]
    if actor.uri not in aliases:
        raise BadRequest("the target account must list this account in alsoKnownAs first")
    if actor.last_move_at and now - actor.last_move_at < MOVE_INTERVAL:
        raise Conflict("this account moved less than 7 days ago")
    accounts_store.set_account_profile(
        db, account.id, {"moved_to": target_uri, "last_move_at": now}
    )
    followers = actor.followers_uri or urls.followers(account.username)
    move = builders.activity(
        "Move",
        activity_id=new_activity_id(urls, account.username),
        actor=actor.uri,
        obj=actor.uri,
        target=target_uri,
        to=[followers],
        published=now,
    )
    effects = Effects(outcome="moved")
    inboxes = social.follower_inboxes(db, actor.uri)
    send_activity(db, account, move, inboxes, visibility="private", now=now, effects=effects)
    return effects


def delete_account(
    db: sqlite_utils.Database, urls: LocalUrls, account: AccountRow, now: float
) -> Effects:
    """Mark the account deleted, take down what it posted, follows and likes,
    and send Delete(actor) to its followers' servers (asked before the follows
    go), so they drop its content too."""
    actor = account.actor
    assert actor is not None
    inboxes = social.follower_inboxes(db, actor.uri)
    delete = builders.activity(
        "Delete",
        activity_id=f"{actor.uri}#delete",
        actor=actor.uri,
        obj=actor.uri,
        to=["https://www.w3.org/ns/activitystreams#Public"],
        published=now,
    )
    effects = Effects(outcome="deleted")
    send_activity(db, account, delete, inboxes, visibility="public", now=now, effects=effects)
    accounts_store.mark_account_deleted(db, account.id, now)
    forget_actor(db, actor.uri, now)
    return effects
