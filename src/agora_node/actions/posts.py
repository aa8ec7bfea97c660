"""Posting, editing and deleting a post, and reading one as a given viewer.

``post`` takes what a person wrote (a ``Draft``: text, content warning,
visibility, the post replied to, extra addressees) from any surface,
resolves over the network what it names (the mentioned handles, the parent
post, the addressed actors) and publishes it in one transaction
(``processing.outbound_notes``). ``visible_post`` answers whether a viewer may
read one of our posts with the one rule in ``processing.visibility``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Sequence
from typing import Any

import sqlite_utils

from agora_node.actions.caller import Caller
from agora_node.errors import Gone, NotFound, UnprocessableEntity
from agora_node.processing import inbound_notes, outbound_notes, outbound_pins, outbound_polls
from agora_node.processing.audience import addressed
from agora_node.processing.outbound import OutboundContext, Sent
from agora_node.processing.outbound_notes import Draft
from agora_node.processing.outbound_text import handles_in
from agora_node.processing.visibility import Audience, Viewer, may_see, needs_follow_check
from agora_node.protocol import builders
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import is_public
from agora_node.store import client_state, mutes, social
from agora_node.store import objects as objects_store
from agora_node.store import statuses as statuses_store
from agora_node.store.accounts import AccountRow, ActorRow
from agora_node.store.db import Database
from agora_node.store.objects import ObjectRow

# How many actors a post may address by name besides those it mentions.
MAX_RECIPIENTS = 50


async def _resolved(caller: Caller, draft: Draft, *, recipients: bool) -> Draft:
    """``draft`` with its mentions (and, for a new post, its addressees) resolved."""
    mentions = await caller.resolver.mentions(handles_in(draft.text, caller.domain))
    addressed = await _recipients(caller, draft.recipients) if recipients else ()
    return dataclasses.replace(draft, mentions=mentions, recipients=addressed)


async def _recipients(caller: Caller, named: Collection[str]) -> tuple[str, ...]:
    """The actors addressed by id, each resolved (a wrong one is a 422)."""
    followers = caller.account.actor.followers_uri if caller.account.actor else None
    skip = (followers, caller.actor_uri)
    wanted = [a for a in dict.fromkeys(named) if not is_public(a) and a not in skip]
    if len(wanted) > MAX_RECIPIENTS:
        raise UnprocessableEntity(f"a post may address at most {MAX_RECIPIENTS} accounts")
    return tuple([(await caller.resolver.actor_by_uri(uri)).uri for uri in wanted])


async def post(caller: Caller, draft: Draft) -> Sent:
    """Publish a new post (a reply when ``draft.in_reply_to`` names one).

    ``draft.recipients`` are actor ids addressed besides the mentions in the
    text (a C2S client's to/cc); each is resolved, a wrong one is a 422.
    """
    fetched: dict[str, dict[str, Any]] = {}
    parent = draft.in_reply_to
    if parent:
        doc = await caller.resolver.unknown_post(parent)
        if doc is not None:
            fetched[parent] = doc
    ready = await _resolved(caller, draft, recipients=True)
    return await caller.write(outbound_notes.post, ready, fetched)


async def edit(caller: Caller, uri: str, draft: Draft) -> Sent:
    """Change one of the caller's posts (text, content warning, sensitivity)."""
    draft = await _resolved(caller, draft, recipients=False)

    def change(
        db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, d: Draft
    ) -> Sent:
        return outbound_notes.edit(db, ctx, account, uri, d)

    return await caller.write(change, draft)


async def delete(caller: Caller, uri: str) -> Sent:
    """Delete one of the caller's posts (a tombstone stays)."""
    return await caller.write(outbound_notes.delete, uri)


# -- reading ---------------------------------------------------------------------


async def may_read(
    db: Database, author: ActorRow, doc: dict[str, Any], visibility: str, viewer_uri: str | None
) -> bool:
    """Whether ``viewer_uri`` (None: anyone) may read ``doc`` by ``author``."""
    to, cc = addressed(doc)
    author_uri = author.uri
    audience = Audience(
        author_uri, visibility, frozenset([*to, *cc]), author.suspended_at is not None
    )
    viewer = Viewer(viewer_uri)
    if needs_follow_check(audience, viewer):
        follow = await db.read(lambda c: social.get_follow(c, str(viewer_uri), author_uri))
        accepted = follow is not None and follow.state == "accepted"
        viewer = Viewer(viewer_uri, follows_author=accepted)
    return may_see(audience, viewer)


async def readable_status(
    db: Database, object_id: int, viewer_uri: str | None, missing: str = "Record not found"
) -> ObjectRow:
    """The post or boost with row id ``object_id`` if the viewer may read it; else a
    404 saying ``missing`` (the same for one that does not exist, so hiding tells nothing)."""
    row = await db.read(lambda c: statuses_store.get_status_for(c, object_id, viewer_uri))
    if row is None:
        raise NotFound(missing)
    return row


async def visible_post(
    db: Database, urls: LocalUrls, account: AccountRow, post_id: str, viewer_uri: str | None
) -> ObjectRow:
    """``account``'s post ``post_id`` if ``viewer_uri`` may read it.

    404 for a post that does not exist, is a boost, or is hidden from the
    viewer (the same answer, so hiding tells nothing); 410 with a Tombstone
    for a deleted one.
    """
    assert account.actor is not None
    uri = urls.object(account.username, post_id)
    note = await db.read(lambda c: objects_store.get_object(c, uri))
    if note is None or not note.local or note.actor_uri != account.actor.uri:
        raise NotFound("no such post")
    if note.is_tombstone:
        raise Gone(
            "this post was deleted", document=builders.tombstone(uri, "Note", note.deleted_at)
        )
    if note.boost_of is not None:
        raise NotFound("no such post")
    if not await may_read(db, account.actor, note.data, note.visibility, viewer_uri):
        raise NotFound("no such post")
    return note


async def find_post(caller: Caller, address: str, *, resolve: bool) -> ObjectRow | None:
    """The post at ``address`` (its id or its page) if the caller may read it; with
    ``resolve``, a remote post not known here is fetched and kept (quietly: an old
    post notifies nobody)."""

    def known(at: str) -> Callable[[sqlite_utils.Database], ObjectRow | None]:
        def read(c: sqlite_utils.Database) -> ObjectRow | None:
            row = objects_store.get_object(c, at) or objects_store.get_object_by_url(c, at)
            if row is None or row.boost_of is not None:
                return None
            return statuses_store.get_status_for(c, row.id, caller.actor_uri)

        return read

    found = await caller.db.read(known(address))
    if found is not None or not resolve or caller.urls.is_local(address):
        return found
    doc = await caller.resolver.post_at(address)
    ctx = caller.context({doc["id"]: doc}).inbound
    await caller.db.write(lambda c: inbound_notes.store_fetched_context(c, ctx, skip=""))
    return await caller.db.read(known(doc["id"]))


# -- pins and bookmarks ------------------------------------------------------------


async def pin(caller: Caller, uri: str) -> Sent:
    """Pin one of the caller's posts to their profile (federated as an Add)."""
    return await caller.write(outbound_pins.pin, uri)


async def unpin(caller: Caller, uri: str) -> Sent:
    return await caller.write(outbound_pins.unpin, uri)


async def bookmark(caller: Caller, uri: str) -> None:
    """Keep a post the caller may read in their bookmarks (private: nothing is sent)."""
    now, me = caller.now, caller.actor_uri
    await caller.db.write(lambda c: client_state.add_bookmark(c, me, uri, now))


async def unbookmark(caller: Caller, uri: str) -> None:
    me = caller.actor_uri
    await caller.db.write(lambda c: client_state.remove_bookmark(c, me, uri))


async def mute_conversation(caller: Caller, post: ObjectRow) -> None:
    """Hear no more from the thread ``post`` belongs to (no notifications from it)."""
    now, me, key = caller.now, caller.actor_uri, post.conversation or post.uri
    await caller.db.write(lambda c: mutes.put_conversation_mute(c, me, key, now))


async def unmute_conversation(caller: Caller, post: ObjectRow) -> None:
    me, key = caller.actor_uri, post.conversation or post.uri
    await caller.db.write(lambda c: mutes.delete_conversation_mute(c, me, key))


async def vote(caller: Caller, poll_uri: str, choices: Sequence[int]) -> None:
    """Vote in a poll the caller may read (ours or remote)."""
    ctx, account, ballot = caller.context(), caller.account, (poll_uri, list(choices))
    await caller.db.write(lambda c: outbound_polls.vote(c, ctx, account, ballot))
