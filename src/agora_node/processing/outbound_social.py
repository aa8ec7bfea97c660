"""A local account's social actions: follow, like, boost, block, and undoing them;
answering follow requests.

Follow, Like and Block go to one person's inbox; a boost goes to our
followers and to the author of the boosted post. An Undo goes where the
activity it undoes went. The effect on our own database is the inbound
handler's, whoever the target is (see ``outbound``).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from agora_node.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from agora_node.processing.audience import addressed, inboxes_for, personal_inboxes
from agora_node.processing.effects import Effects, new_activity_id
from agora_node.processing.outbound import (
    OutboundContext,
    Sent,
    actor_of,
    apply_locally,
    known_note,
    publish,
)
from agora_node.processing.visibility import is_open
from agora_node.protocol import builders
from agora_node.protocol.vocab import PUBLIC
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow, ActorRow

Db = sqlite_utils.Database


def send_direct(
    db: Db,
    ctx: OutboundContext,
    account: AccountRow,
    activity: dict[str, Any],
    recipients: list[str],
    effects: Effects,
    object_id: str | None,
) -> Sent:
    """Publish an activity meant for a few people: their own inboxes, not shared ones."""
    inboxes = personal_inboxes(db, recipients)
    return publish(
        db, ctx, account, activity, inboxes, visibility="direct", effects=effects,
        object_id=object_id,
    )  # fmt: skip


def _target(db: Db, actor: ActorRow, uri: str) -> ActorRow:
    if uri == actor.uri:
        raise UnprocessableEntity("that is your own account")
    target = accounts_store.get_actor_by_uri(db, uri)
    if target is None or target.deleted_at is not None:
        raise NotFound("unknown account")
    return target


def _earlier(db: Db, uri: str | None, fallback: dict[str, Any]) -> dict[str, Any]:
    """Our earlier activity as stored (for Undo, Accept), else a copy rebuilt from the row."""
    stored = objects_store.get_activity(db, uri) if uri else None
    if stored is None:
        return {**({"id": uri} if uri else {}), **fallback}
    return builders.strip_context(stored)


def _activity(
    ctx: OutboundContext, account: AccountRow, kind: str, obj: Any, to: list[str], **extra: Any
) -> dict[str, Any]:
    return builders.activity(
        kind,
        activity_id=new_activity_id(ctx.urls, account.username),
        actor=actor_of(account).uri,
        obj=obj,
        to=to,
        **extra,
    )


# -- follows -----------------------------------------------------------------------


def follow(db: Db, ctx: OutboundContext, account: AccountRow, target_uri: str) -> Sent:
    """Follow an account: pending until a remote Accept; a local one answers at once."""
    actor = actor_of(account)
    target = _target(db, actor, target_uri)
    if social.is_blocked(db, actor.uri, target.uri):
        raise UnprocessableEntity("unblock this account before following it")
    existing = social.get_follow(db, actor.uri, target.uri)
    if existing is not None and existing.state == "accepted":
        raise Conflict("you already follow this account")
    activity = _activity(ctx, account, "Follow", target.uri, [target.uri])
    effects = Effects()
    if target.local:
        apply_locally(db, ctx, activity, effects, expect=frozenset({"accepted", "pending"}))
    else:
        # A repeated request (the first Accept may have been lost) is sent again.
        social.put_follow(db, actor.uri, target.uri, activity["id"], "pending", ctx.now)
        effects.outcome = "pending"
    return send_direct(db, ctx, account, activity, [target.uri], effects, target.uri)


def unfollow(db: Db, ctx: OutboundContext, account: AccountRow, target_uri: str) -> Sent:
    """Undo a follow (or withdraw a pending request)."""
    actor = actor_of(account)
    existing = social.get_follow(db, actor.uri, target_uri)
    if existing is None:
        raise NotFound("you do not follow this account")
    original = _earlier(
        db, existing.activity_uri, {"type": "Follow", "actor": actor.uri, "object": target_uri}
    )
    undo = _activity(ctx, account, "Undo", original, [target_uri])
    effects = Effects()
    apply_locally(db, ctx, undo, effects, expect=frozenset({"unfollowed"}))
    return send_direct(db, ctx, account, undo, [target_uri], effects, target_uri)


def _answer_follow(
    db: Db, ctx: OutboundContext, account: AccountRow, follower_uri: str, kind: str
) -> Sent:
    actor = actor_of(account)
    existing = social.get_follow(db, follower_uri, actor.uri)
    if existing is None or (kind == "Accept" and existing.state != "pending"):
        raise NotFound("no pending follow request from this account")
    if kind == "Accept":
        social.set_follow_state(db, existing.id, "accepted")
    else:
        social.delete_follow(db, follower_uri, actor.uri)
        if existing.activity_uri:
            social.delete_notifications_for_activity(db, existing.activity_uri)
    original = _earlier(
        db, existing.activity_uri, {"type": "Follow", "actor": follower_uri, "object": actor.uri}
    )
    answer = _activity(ctx, account, kind, original, [follower_uri])
    effects = Effects(outcome="accepted" if kind == "Accept" else "rejected")
    return send_direct(db, ctx, account, answer, [follower_uri], effects, follower_uri)


def accept_follow(db: Db, ctx: OutboundContext, account: AccountRow, follower_uri: str) -> Sent:
    """Accept a pending follow request."""
    return _answer_follow(db, ctx, account, follower_uri, "Accept")


def reject_follow(db: Db, ctx: OutboundContext, account: AccountRow, follower_uri: str) -> Sent:
    """Refuse a follow request, or remove an accepted follower."""
    return _answer_follow(db, ctx, account, follower_uri, "Reject")


# -- likes and boosts ------------------------------------------------------------


def like(db: Db, ctx: OutboundContext, account: AccountRow, object_uri: str) -> Sent:
    note = known_note(db, ctx, object_uri, actor_of(account))
    activity = _activity(ctx, account, "Like", note.uri, [note.actor_uri])
    effects = Effects()
    apply_locally(db, ctx, activity, effects, expect=frozenset({"liked"}))
    return send_direct(db, ctx, account, activity, [note.actor_uri], effects, note.uri)


def unlike(db: Db, ctx: OutboundContext, account: AccountRow, object_uri: str) -> Sent:
    actor = actor_of(account)
    like_uri = social.get_like_activity(db, actor.uri, object_uri)
    if like_uri is None:
        raise NotFound("you have not liked this post")
    note = objects_store.get_object(db, object_uri)
    author = [note.actor_uri] if note is not None else []
    original = _earlier(db, like_uri, {"type": "Like", "actor": actor.uri, "object": object_uri})
    undo = _activity(ctx, account, "Undo", original, author)
    effects = Effects()
    apply_locally(db, ctx, undo, effects, expect=frozenset({"unliked"}))
    return send_direct(db, ctx, account, undo, author, effects, object_uri)


def boost(db: Db, ctx: OutboundContext, account: AccountRow, object_uri: str) -> Sent:
    """Announce a public post to our followers (and its author)."""
    actor = actor_of(account)
    note = known_note(db, ctx, object_uri, actor)
    if not is_open(note.visibility):
        raise UnprocessableEntity("only public and unlisted posts can be boosted")
    followers = actor.followers_uri or ctx.urls.followers(account.username)
    cc = [followers] + ([note.actor_uri] if note.actor_uri != actor.uri else [])
    activity = _activity(ctx, account, "Announce", note.uri, [PUBLIC], cc=cc)
    activity["published"] = builders.iso(ctx.now)
    effects = Effects()
    apply_locally(db, ctx, activity, effects, expect=frozenset({"boosted"}))
    # The handler stores a boost as arriving from elsewhere; this one is ours.
    objects_store.refresh_object(db, activity["id"], {"local": 1})
    inboxes = inboxes_for(db, actor, [PUBLIC], cc)
    return publish(
        db, ctx, account, activity, inboxes, visibility="public", effects=effects,
        object_id=note.uri,
    )  # fmt: skip


def unboost(db: Db, ctx: OutboundContext, account: AccountRow, object_uri: str) -> Sent:
    actor = actor_of(account)
    boost_uri = objects_store.boost_of_by_actor(db, actor.uri, object_uri)
    if boost_uri is None:
        raise NotFound("you have not boosted this post")
    original = _earlier(
        db, boost_uri, {"type": "Announce", "actor": actor.uri, "object": object_uri}
    )
    to, cc = addressed(original)
    undo = _activity(ctx, account, "Undo", original, to, cc=cc)
    effects = Effects()
    apply_locally(db, ctx, undo, effects, expect=frozenset({"unboosted"}))
    return publish(
        db, ctx, account, undo, inboxes_for(db, actor, to, cc), visibility="public",
        effects=effects, object_id=object_uri,
    )  # fmt: skip


# -- blocks ----------------------------------------------------------------------


def block(db: Db, ctx: OutboundContext, account: AccountRow, target_uri: str) -> Sent:
    """Block an account: follows both ways end, so it no longer gets our followers-only posts."""
    actor = actor_of(account)
    target = _target(db, actor, target_uri)
    if social.is_blocked(db, actor.uri, target.uri):
        raise Conflict("you already block this account")
    activity = _activity(ctx, account, "Block", target.uri, [target.uri])
    effects = Effects()
    if target.local:
        apply_locally(db, ctx, activity, effects, expect=frozenset({"blocked"}))
    else:
        social.put_block(db, actor.uri, target.uri, activity["id"], ctx.now)
        social.delete_follows_between(db, actor.uri, target.uri)
        effects.outcome = "blocked"
    return send_direct(db, ctx, account, activity, [target.uri], effects, target.uri)


def unblock(db: Db, ctx: OutboundContext, account: AccountRow, target_uri: str) -> Sent:
    actor = actor_of(account)
    if not social.is_blocked(db, actor.uri, target_uri):
        raise NotFound("you do not block this account")
    block_uri = social.get_block_activity(db, actor.uri, target_uri)
    original = _earlier(db, block_uri, {"type": "Block", "actor": actor.uri, "object": target_uri})
    undo = _activity(ctx, account, "Undo", original, [target_uri])
    effects = Effects()
    apply_locally(db, ctx, undo, effects, expect=frozenset({"unblocked"}))
    return send_direct(db, ctx, account, undo, [target_uri], effects, target_uri)


UNDOERS = {"Follow": unfollow, "Like": unlike, "Announce": unboost, "Block": unblock}


def undo(db: Db, ctx: OutboundContext, account: AccountRow, activity_uri: str) -> Sent:
    """Undo one of our own activities, named by its id."""
    actor = actor_of(account)
    row = objects_store.get_activity_row(db, activity_uri)
    if row is None:
        raise NotFound("no such activity")
    kind, owner, target = row
    if owner != actor.uri:
        raise Forbidden("this activity is not yours")
    undoer = UNDOERS.get(kind)
    if undoer is None or target is None:
        raise UnprocessableEntity("only a Follow, Like, Announce or Block can be undone")
    return undoer(db, ctx, account, target)
