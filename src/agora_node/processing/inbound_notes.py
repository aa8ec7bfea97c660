"""Inbound handlers for posts: Create, Update, Delete, Like, Announce."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from agora_node.processing import polls
from agora_node.processing.effects import (
    Effects,
    InboundContext,
    local_account,
    notify,
    notify_subscribers,
    same_host,
    type_of,
    was_undone,
)
from agora_node.processing.remote import NOTE_TYPES, actor_record, note_record, parse_time
from agora_node.processing.visibility import is_open
from agora_node.protocol.vocab import ACTOR_TYPES, id_of, visibility_of
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store import social

# What the author edits; a change to any of these is kept in the edit history.
_EDITABLE = ("content", "summary", "sensitive", "name")


def _author_of(obj: dict[str, Any]) -> str | None:
    attributed = obj.get("attributedTo")
    if isinstance(attributed, list):
        attributed = next((a for a in attributed if id_of(a)), None)
    return id_of(attributed)


def store_note(
    db: sqlite_utils.Database,
    ctx: InboundContext,
    obj: dict[str, Any],
    author: str,
    activity_uri: str | None,
    eff: Effects | None,
) -> int | None:
    """Insert a remote note with its tags and local recipients; notify locals.

    Returns the new row id, or None when the note (or its tombstone) exists.
    """
    sender = accounts_store.get_actor_by_uri(db, author)
    record = note_record(
        obj,
        author_uri=author,
        followers_uri=sender.followers_uri if sender else None,
        activity_uri=activity_uri,
        now=ctx.now,
    )
    object_id = objects_store.insert_object(db, record.values)
    if object_id is None:
        return None
    objects_store.set_tags(db, object_id, record.tags)
    local_recipients = [u for u in record.addressed if ctx.urls.local_username(u)]
    objects_store.set_recipients(db, object_id, local_recipients)
    if eff is None:
        return object_id
    notified: set[int] = set()
    for uri in dict.fromkeys([*record.mentions, *local_recipients]):
        account = local_account(db, uri)
        if account is not None and account.id not in notified:
            notify(db, account, "mention", author, record.values["uri"], activity_uri, ctx.now, eff)
            notified.add(account.id)
    parent_uri = record.values["in_reply_to"]
    parent = objects_store.get_object(db, parent_uri) if parent_uri else None
    if parent is not None:
        live = parent.local and not parent.is_tombstone
        account = local_account(db, parent.actor_uri) if live else None
        if account is not None and account.id not in notified:
            notify(db, account, "reply", author, record.values["uri"], activity_uri, ctx.now, eff)
    replies_to = None if parent_uri is None else parent.actor_uri if parent else parent_uri
    notify_subscribers(
        db, author, (record.values["uri"], activity_uri), record.values["visibility"],
        replies_to, ctx.now, eff,
    )  # fmt: skip
    return object_id


def store_fetched_context(db: sqlite_utils.Database, ctx: InboundContext, skip: str) -> None:
    """Keep the fetched parents of a thread (no notifications for old posts).

    ``skip`` is the object being created: it is stored by its Create, with
    the notifications it causes, not here as a silent context post.
    """
    for uri, doc in ctx.fetched.items():
        if uri == skip or type_of(doc) not in NOTE_TYPES or doc.get("id") != uri:
            continue
        author = _author_of(doc)
        if author and same_host(author, uri):
            store_note(db, ctx, doc, author, None, None)


def on_create(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    obj = act.get("object")
    if isinstance(obj, str):
        obj = ctx.fetched.get(obj)
        if obj is not None and obj.get("id") != act.get("object"):
            eff.outcome = "fetched object has another id"
            return
    if not isinstance(obj, dict) or type_of(obj) not in NOTE_TYPES:
        eff.outcome = "unsupported object"
        return
    author = _author_of(obj) or actor
    if author != actor or not same_host(str(obj.get("id")), actor):
        eff.outcome = "object attributed to someone else"
        return
    poll = polls.is_vote(db, ctx.urls, obj)
    if poll is not None:
        polls.take_vote(db, ctx.urls, poll, actor, obj, str(act["id"]), ctx.now, eff)
        return
    store_fetched_context(db, ctx, skip=str(obj["id"]))
    if store_note(db, ctx, obj, actor, act["id"], eff) is None:
        eff.outcome = "already known or deleted"
        return
    eff.outcome = "stored"


def on_update(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    obj = act.get("object")
    if not isinstance(obj, dict):
        eff.outcome = "update without an embedded object"
        return
    if obj.get("id") == actor and type_of(obj) in ACTOR_TYPES:
        profile = actor_record(obj, ctx.now)
        accounts_store.upsert_actor(db, profile.values)
        for key_id, pem, key_type in profile.keys:
            accounts_store.put_public_key(db, key_id, actor, pem, key_type)
        eff.outcome = "profile refreshed"
        return
    if type_of(obj) not in NOTE_TYPES:
        eff.outcome = "unsupported object"
        return
    existing = objects_store.get_object(db, str(obj.get("id")))
    if (
        existing is None
        or existing.is_tombstone
        or existing.actor_uri != actor
        or existing.boost_of is not None
    ):
        eff.outcome = "update of unknown or foreign note"
        return
    sender = accounts_store.get_actor_by_uri(db, actor)
    record = note_record(
        obj,
        author_uri=actor,
        followers_uri=sender.followers_uri if sender else None,
        activity_uri=existing.activity_uri,
        now=ctx.now,
    )
    new_updated = record.values["updated"]
    if new_updated is not None and existing.updated is not None and new_updated < existing.updated:
        # Updates may arrive out of order: an older version never replaces a newer one.
        eff.outcome = "stale update"
        return
    changed = {key: record.values[key] for key in (*_EDITABLE, "url", "data")}
    previous = {
        "content": existing.content, "summary": existing.summary,
        "sensitive": int(existing.sensitive), "name": existing.name,
    }  # fmt: skip
    if changed == {**previous, "url": existing.url, "data": existing.data}:
        eff.outcome = "note unchanged"
        return
    if all(changed[key] == previous[key] for key in _EDITABLE):
        # Poll counts or links refreshed: not an edit the author made, no history.
        objects_store.refresh_object(
            db, existing.uri, {"url": changed["url"], "data": changed["data"]}
        )
        eff.outcome = "note refreshed"
        return
    changed["updated"] = new_updated or ctx.now
    previous["updated"] = existing.updated or existing.published
    objects_store.update_object(db, existing.uri, changed, previous, ctx.now)
    objects_store.set_tags(db, existing.id, record.tags)
    eff.outcome = "note edited"


def forget_actor(db: sqlite_utils.Database, actor: str, now: float) -> None:
    """A deleted actor's traces: posts tombstoned, boosts, follows, likes and
    the notifications they caused gone (for a remote actor's Delete and for
    a local account deleted here alike)."""
    accounts_store.mark_actor_deleted(db, actor, now)
    objects_store.remove_actor_content(db, actor, now)
    social.delete_follows_of_actor(db, actor)
    social.delete_likes_by_actor(db, actor)
    social.delete_notifications_from_actor(db, actor)


def on_delete(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    target = id_of(act.get("object"))
    if not target:
        eff.outcome = "delete without object"
        return
    if target == actor:
        forget_actor(db, actor, ctx.now)
        accounts_store.mark_keys_gone(db, actor)
        eff.outcome = "actor deleted"
        return
    existing = objects_store.get_object(db, target)
    if existing is not None and existing.actor_uri != actor:
        eff.outcome = "delete of someone else's object"
        return
    if not same_host(target, actor):
        eff.outcome = "delete of an object on another host"
        return
    objects_store.tombstone_object(db, target, actor, ctx.now)
    social.delete_notifications_for_object(db, target, actor)
    eff.outcome = "deleted"


def on_like(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    target = id_of(act.get("object"))
    if not target or was_undone(db, act["id"], actor):
        eff.outcome = "like ignored"
        return
    if not social.put_like(db, actor, target, act["id"], ctx.now):
        eff.outcome = "already liked"
        return
    obj = objects_store.get_object(db, target)
    mine = obj is not None and obj.local and not obj.is_tombstone
    account = local_account(db, obj.actor_uri) if obj and mine else None
    if account is not None:
        notify(db, account, "favourite", actor, target, act["id"], ctx.now, eff)
    eff.outcome = "liked"


def on_announce(
    db: sqlite_utils.Database, ctx: InboundContext, act: dict[str, Any], eff: Effects
) -> None:
    actor = str(id_of(act["actor"]))
    target = id_of(act.get("object"))
    if not target or was_undone(db, act["id"], actor):
        eff.outcome = "announce ignored"
        return
    known = objects_store.get_object(db, target)
    if known is None:
        doc = ctx.fetched.get(target)
        author = _author_of(doc) if doc else None
        usable = doc is not None and doc.get("id") == target and type_of(doc) in NOTE_TYPES
        if doc is None or not usable or not author or not same_host(author, target):
            eff.outcome = "announced object unavailable"
            return
        store_note(db, ctx, doc, author, None, None)
        known = objects_store.get_object(db, target)
    if known is None or known.is_tombstone:
        eff.outcome = "announced object deleted"
        return
    if not is_open(known.visibility):
        eff.outcome = "announce of a non-public object"
        return
    if objects_store.boost_of_by_actor(db, actor, target) is not None:
        eff.outcome = "already boosted"
        return
    sender = accounts_store.get_actor_by_uri(db, actor)
    inserted = objects_store.insert_object(
        db,
        {
            "uri": act["id"],
            "type": "Announce",
            "actor_uri": actor,
            "visibility": visibility_of(act, sender.followers_uri if sender else None),
            "boost_of": target,
            "activity_uri": act["id"],
            "published": min(parse_time(act.get("published"), ctx.now) or ctx.now, ctx.now),
        },
    )
    if inserted is None:
        eff.outcome = "already boosted"
        return
    account = local_account(db, known.actor_uri) if known.local else None
    if account is not None:
        notify(db, account, "reblog", actor, target, act["id"], ctx.now, eff)
    eff.outcome = "boosted"
