"""What an inbound activity means: handlers keyed by activity type.

``process_inbound`` runs inside one write transaction. It records the
activity once (a replay is a no-op), applies its side effects and queues any
reply (Accept, Reject, Follow after a Move) as delivery rows in the same
transaction, so a rollback leaves nothing half-done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlite_utils

from agora_node.processing import inbound_notes
from agora_node.processing.effects import (
    Effects,
    InboundContext,
    local_account,
    new_activity_id,
    notify,
    personal_inbox,
    same_host,
    send_activity,
    type_of,
    was_undone,
)
from agora_node.processing.policies import PolicyContext
from agora_node.processing.remote import actor_record
from agora_node.protocol import builders
from agora_node.protocol.sanitize import html_to_text, plain_text
from agora_node.protocol.vocab import ACTOR_TYPES, as_list, id_of, visibility_of
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store import reports as reports_store
from agora_node.store import social

log = logging.getLogger(__name__)

MOVE_INTERVAL = 7 * 86400

Handler = Callable[[sqlite_utils.Database, InboundContext, dict[str, Any], Effects], None]


def process_inbound(
    db: sqlite_utils.Database, ctx: InboundContext, activity: dict[str, Any]
) -> Effects:
    """Apply one verified, validated activity. Idempotent by activity id."""
    effects = Effects()
    actor = str(id_of(activity.get("actor")))
    if ctx.policies:
        judged = ctx.policies.run(activity, _policy_context(db, ctx))
        if judged.rejected is not None:
            effects.outcome = f"rejected by policy {judged.by}: {judged.rejected.reason}"
            return effects
        activity = judged.activity
    act_type = type_of(activity)
    object_uri = id_of(activity.get("object"))
    sender = accounts_store.get_actor_by_uri(db, actor)
    if sender is not None and sender.suspended_at is not None and act_type != "Delete":
        # Suspended here (by an admin or its domain's block): nothing of it is
        # taken in but its own deletions.
        effects.outcome = "from a suspended account"
        return effects
    followers = sender.followers_uri if sender else None
    fresh = objects_store.put_activity(
        db,
        uri=str(activity["id"]),
        type=act_type,
        actor_uri=actor,
        object_uri=object_uri,
        local=False,
        visibility=visibility_of(activity, followers),
        data=activity,
        created_at=ctx.now,
    )
    if not fresh:
        effects.outcome = "duplicate"
        return effects
    handler = HANDLERS.get(act_type)
    if handler is None:
        effects.outcome = "unknown type"
        return effects
    handler(db, ctx, activity, effects)
    return effects


def _policy_context(db: sqlite_utils.Database, ctx: InboundContext) -> PolicyContext:
    def published(uri: str) -> float | None:
        actor = accounts_store.get_actor_by_uri(db, uri)
        return actor.published if actor is not None else None

    return PolicyContext(ctx.now, ctx.urls.is_local, published, ctx.fetched)


# -- follows ----------------------------------------------------------------------


def on_follow(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    account = local_account(db, id_of(act.get("object")))
    if account is None or account.actor is None:
        eff.outcome = "follow of unknown account"
        return
    if was_undone(db, act["id"], actor):
        eff.outcome = "already undone"
        return
    target = account.actor.uri
    reply_to = personal_inbox(db, actor)
    embedded = builders.strip_context(act)
    if social.is_blocked(db, target, actor):
        reject = builders.activity(
            "Reject", activity_id=new_activity_id(ctx.urls, account.username), actor=target,
            obj=embedded, to=[actor],
        )  # fmt: skip
        send_activity(db, account, reject, reply_to, visibility="direct", now=ctx.now, effects=eff)
        eff.outcome = "rejected (blocked)"
        return
    existing = social.get_follow(db, actor, target)
    if account.actor.manually_approves and (existing is None or existing.state != "accepted"):
        social.put_follow(db, actor, target, act["id"], "pending", ctx.now)
        if existing is None:  # a repeated request is not a new one to answer
            notify(db, account, "follow_request", actor, None, act["id"], ctx.now, eff)
        eff.outcome = "pending"
        return
    social.put_follow(db, actor, target, act["id"], "accepted", ctx.now)
    if existing is None or existing.state != "accepted":
        notify(db, account, "follow", actor, None, act["id"], ctx.now, eff)
    accept = builders.activity(
        "Accept", activity_id=new_activity_id(ctx.urls, account.username), actor=target,
        obj=embedded, to=[actor],
    )  # fmt: skip
    send_activity(db, account, accept, reply_to, visibility="direct", now=ctx.now, effects=eff)
    eff.outcome = "accepted"


def _our_follow(db: sqlite_utils.Database, act: dict[str, Any]) -> social.Follow | None:
    """The follow an Accept/Reject answers, matched by id or by its embedded copy."""
    obj = act.get("object")
    follow_id = id_of(obj)
    follow = social.get_follow_by_activity(db, follow_id) if follow_id else None
    if follow is None and isinstance(obj, dict):
        follower, followee = id_of(obj.get("actor")), id_of(obj.get("object"))
        if follower and followee:
            follow = social.get_follow(db, follower, followee)
    actor = id_of(act["actor"])
    if follow is None or follow.followee_uri != actor:
        return None
    if local_account(db, follow.follower_uri) is None:
        return None
    return follow


def on_accept(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    follow = _our_follow(db, act)
    if follow is None:
        eff.outcome = "accept of unknown follow"
        return
    social.set_follow_state(db, follow.id, "accepted")
    eff.outcome = "follow accepted"


def on_reject(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    follow = _our_follow(db, act)
    if follow is None:
        eff.outcome = "reject of unknown follow"
        return
    social.delete_follow(db, follow.follower_uri, follow.followee_uri)
    eff.outcome = "follow rejected"


def on_undo(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    inner = act.get("object")
    inner_id = id_of(inner)
    inner_type = type_of(inner)
    inner_target = id_of(inner.get("object")) if isinstance(inner, dict) else None
    if isinstance(inner, dict) and id_of(inner.get("actor")) not in (None, actor):
        eff.outcome = "undo of someone else's activity"
        return
    if inner_id and not inner_type:
        row = objects_store.get_activity_row(db, inner_id)
        if row is not None:
            if row[1] != actor:
                eff.outcome = "undo of someone else's activity"
                return
            inner_type, inner_target = row[0], row[2]
    if inner_type == "Follow":
        follow = social.get_follow_by_activity(db, inner_id) if inner_id else None
        target = follow.followee_uri if follow else inner_target
        if target and social.delete_follow(db, actor, target):
            eff.outcome = "unfollowed"
            if inner_id:
                social.delete_notifications_for_activity(db, inner_id)
            return
    elif inner_type == "Like":
        like_id = (
            inner_id if inner_id and social.delete_like_by_activity(db, inner_id, actor) else None
        )
        if like_id is None and inner_target:
            like_id = social.get_like_activity(db, actor, inner_target)
            social.delete_like(db, actor, inner_target)
        if like_id:
            social.delete_notifications_for_activity(db, like_id)
            eff.outcome = "unliked"
            return
    elif inner_type == "Announce":
        if inner_id and objects_store.delete_boost(db, inner_id, actor, ctx.now):
            social.delete_notifications_for_activity(db, inner_id)
            eff.outcome = "unboosted"
            return
    elif inner_type == "Block":
        if inner_target and social.delete_block(db, actor, inner_target):
            eff.outcome = "unblocked"
            return
    # Nothing to undo yet: the Undo is recorded, so the activity is ignored if it comes later.
    eff.outcome = "undo recorded"


def on_block(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    account = local_account(db, id_of(act.get("object")))
    if account is None or account.actor is None or was_undone(db, act["id"], actor):
        eff.outcome = "block ignored"
        return
    social.put_block(db, actor, account.actor.uri, act["id"], ctx.now)
    social.delete_follows_between(db, actor, account.actor.uri)
    eff.outcome = "blocked"


def _move_target_aliases(
    db: sqlite_utils.Database, ctx: InboundContext, target_uri: str
) -> tuple[str, ...] | None:
    """The target's ``alsoKnownAs``, from our own row when the target is local.

    A remote target's document was fetched by the worker and is stored here;
    a local actor's row is never overwritten by a document from elsewhere.
    """
    if ctx.urls.is_local(target_uri):
        local = accounts_store.get_actor_by_uri(db, target_uri)
        if local is None or not local.local or local.deleted_at is not None:
            return None
        return local.also_known_as
    doc = ctx.fetched.get(target_uri)
    if doc is None or doc.get("id") != target_uri or type_of(doc) not in ACTOR_TYPES:
        return None
    record = actor_record(doc, ctx.now)
    return tuple(record.values["also_known_as"])


def _store_move_target(db: sqlite_utils.Database, ctx: InboundContext, target_uri: str) -> None:
    if ctx.urls.is_local(target_uri):
        return
    record = actor_record(ctx.fetched[target_uri], ctx.now)
    accounts_store.upsert_actor(db, record.values)
    for key_id, pem, key_type in record.keys:
        accounts_store.put_public_key(db, key_id, target_uri, pem, key_type)


def on_move(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    origin = str(id_of(act["actor"]))
    target_uri = id_of(act.get("target"))
    if id_of(act.get("object")) != origin or not target_uri or target_uri == origin:
        eff.outcome = "move of another account"
        return
    aliases = _move_target_aliases(db, ctx, target_uri)
    if aliases is None or origin not in aliases:
        eff.outcome = "move target does not list the origin"
        return
    sender = accounts_store.get_actor_by_uri(db, origin)
    if sender is None:
        eff.outcome = "move from unknown actor"
        return
    if sender.last_move_at and ctx.now - sender.last_move_at < MOVE_INTERVAL:
        eff.outcome = "move rate-limited"
        return
    _store_move_target(db, ctx, target_uri)
    accounts_store.set_actor_moved(db, origin, target_uri, ctx.now)
    for follower_uri in social.move_local_follows(db, origin, target_uri):
        account = local_account(db, follower_uri)
        if account is None or social.is_blocked(db, follower_uri, target_uri):
            continue
        if social.get_follow(db, follower_uri, target_uri) is None:
            _follow_moved_account(db, ctx, account, target_uri, eff)
        notify(db, account, "move", origin, target_uri, act["id"], ctx.now, eff)
    eff.outcome = "moved"


def _follow_moved_account(
    db: sqlite_utils.Database,
    ctx: InboundContext,
    account: accounts_store.AccountRow,
    target_uri: str,
    eff: Effects,
) -> None:
    """Follow a moved account's new home on the follower's behalf."""
    follower_uri = account.actor.uri if account.actor else ""
    follow_id = new_activity_id(ctx.urls, account.username)
    target_account = local_account(db, target_uri)
    if target_account is not None and target_account.actor is not None:
        # Both ends are here: nothing to deliver, the target's own rules apply.
        locked = target_account.actor.manually_approves
        social.put_follow(
            db, follower_uri, target_uri, follow_id, "pending" if locked else "accepted", ctx.now
        )
        kind = "follow_request" if locked else "follow"
        notify(db, target_account, kind, follower_uri, None, follow_id, ctx.now, eff)
        return
    social.put_follow(db, follower_uri, target_uri, follow_id, "pending", ctx.now)
    follow = builders.activity(
        "Follow", activity_id=follow_id, actor=follower_uri, obj=target_uri, to=[target_uri]
    )
    inbox = personal_inbox(db, target_uri)
    send_activity(db, account, follow, inbox, visibility="direct", now=ctx.now, effects=eff)


def on_flag(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    """A remote server's report about one of our accounts and its posts (Mastodon
    sends the account and the posts in ``object``, from its instance actor)."""
    objects = (id_of(v) for v in as_list(act.get("object"))[:100])
    # Only what is ours is ours to moderate; a report about others is not kept.
    local = list(dict.fromkeys(u for u in objects if u and ctx.urls.is_local(u)))
    accounts = [u for u in local if _is_local_actor(db, u)]
    posts = [objects_store.get_object(db, u) for u in local if u not in accounts]
    found = [p for p in posts if p is not None and not p.is_tombstone]
    target = accounts[0] if accounts else (found[0].actor_uri if found else None)
    if target is None:
        eff.outcome = "report about nothing local"
        return
    content = act.get("content")
    comment = plain_text(html_to_text(content))[:5000] if isinstance(content, str) else ""
    made = reports_store.add_report(
        db, activity_uri=act["id"], reporter_uri=str(id_of(act["actor"])), target_uri=target,
        status_uris=[p.uri for p in found if p.actor_uri == target], comment=comment,
        now=ctx.now,
    )  # fmt: skip
    eff.outcome = "reported" if made is not None else "report already received"


def _is_local_actor(db: sqlite_utils.Database, uri: str) -> bool:
    actor = accounts_store.get_actor_by_uri(db, uri)
    return actor is not None and actor.local


def _featured_change(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects, add: bool
) -> None:
    actor = str(id_of(act["actor"]))
    sender = accounts_store.get_actor_by_uri(db, actor)
    object_uri = id_of(act.get("object"))
    if sender is None or not sender.featured_uri or id_of(act.get("target")) != sender.featured_uri:
        eff.outcome = "not the featured collection"
        return
    if not object_uri or not same_host(object_uri, actor):
        eff.outcome = "featured object from another host"
        return
    if add:
        social.add_featured(db, actor, object_uri, ctx.now)
    else:
        social.remove_featured(db, actor, object_uri)
    eff.outcome = "featured updated"


def on_add(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    _featured_change(db, ctx, act, eff, add=True)


def on_remove(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    _featured_change(db, ctx, act, eff, add=False)


HANDLERS: dict[str, Handler] = {
    "Follow": on_follow,
    "Accept": on_accept,
    "Reject": on_reject,
    "Undo": on_undo,
    "Block": on_block,
    "Move": on_move,
    "Flag": on_flag,
    "Add": on_add,
    "Remove": on_remove,
    "Create": inbound_notes.on_create,
    "Update": inbound_notes.on_update,
    "Delete": inbound_notes.on_delete,
    "Like": inbound_notes.on_like,
    "Announce": inbound_notes.on_announce,
}
