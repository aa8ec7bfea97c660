"""Pinning one's own posts to the profile (the actor's ``featured`` collection).

A pin is an ``Add`` of the post to the featured collection, an unpin a
``Remove``, sent to followers as Mastodon sends them; the inbound handler
for those types applies it here too, so the rule (only to one's own
collection, only one's own posts) is the one remote pins follow.
"""

from __future__ import annotations

import sqlite_utils

from agora_node.errors import UnprocessableEntity
from agora_node.processing.audience import inboxes_for
from agora_node.processing.effects import Effects, new_activity_id
from agora_node.processing.outbound import OutboundContext, Sent, actor_of, apply_locally, publish
from agora_node.processing.outbound_notes import own_note
from agora_node.processing.visibility import is_open
from agora_node.protocol import builders
from agora_node.protocol.vocab import PUBLIC
from agora_node.store import collections as coll_store
from agora_node.store.accounts import AccountRow
from agora_node.store.objects import ObjectRow

# Mastodon's limit on pinned posts per account.
MAX_PINS = 5


def _change(
    db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, note: ObjectRow, kind: str
) -> Sent:
    """Send and apply the Add (pin) or Remove (unpin) of ``note``, one's own post."""
    actor = actor_of(account)
    followers = actor.followers_uri or ctx.urls.followers(account.username)
    activity = builders.activity(
        kind,
        activity_id=new_activity_id(ctx.urls, account.username),
        actor=actor.uri,
        obj=note.uri,
        to=[PUBLIC],
        cc=[followers],
    )
    activity["target"] = actor.featured_uri or ctx.urls.featured(account.username)
    effects = Effects()
    apply_locally(db, ctx, activity, effects, expect=frozenset({"featured updated"}))
    inboxes = inboxes_for(db, actor, [PUBLIC], [followers])
    return publish(
        db, ctx, account, activity, inboxes, visibility="public", effects=effects,
        object_id=note.uri,
    )  # fmt: skip


def pin(db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, uri: str) -> Sent:
    """Pin one's public or unlisted post (at most ``MAX_PINS``)."""
    actor = actor_of(account)
    note = own_note(db, actor, uri)
    if not is_open(note.visibility):
        raise UnprocessableEntity("Validation failed: only public and unlisted posts can be pinned")
    if coll_store.count_featured(db, actor.uri) >= MAX_PINS:
        raise UnprocessableEntity(f"Validation failed: at most {MAX_PINS} posts can be pinned")
    return _change(db, ctx, account, note, "Add")


def unpin(db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, uri: str) -> Sent:
    return _change(db, ctx, account, own_note(db, actor_of(account), uri), "Remove")
