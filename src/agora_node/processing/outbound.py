"""What a local account does: the shared parts of every outbound action.

Each action (``outbound_notes``: post, edit, delete; ``outbound_social``:
follow, like, boost, block and their undoing, accepting follow requests)
runs inside one write transaction. It stores the object and the activity,
applies the effect on our own database, and writes one delivery row per
remote inbox, so a rollback leaves nothing half-done. Anything that needs
the network (WebFinger, fetching an unknown post or actor) happened before,
and its results arrive in ``OutboundContext.fetched`` or in the database.

Local recipients get the effect directly: the inbound handler for the
activity's type runs on it, exactly as if the activity had reached our inbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from agora_node.errors import Gone, NotFound, UnprocessableEntity
from agora_node.processing.effects import Effects, InboundContext, send_activity, type_of
from agora_node.processing.inbound import HANDLERS
from agora_node.processing.inbound_notes import store_note
from agora_node.processing.remote import NOTE_TYPES
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import as_list, id_of
from agora_node.store import objects as objects_store
from agora_node.store import statuses
from agora_node.store.accounts import AccountRow, ActorRow
from agora_node.store.objects import ObjectRow


@dataclass(frozen=True)
class OutboundContext:
    """What an action may know beyond the database: no clients, no sockets."""

    urls: LocalUrls
    domain: str
    now: float
    # Remote documents fetched before the transaction, by id (posts replied to, liked…).
    fetched: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    # The instance asks for a description (alt text) on every attached image.
    require_alt_text: bool = False

    @property
    def inbound(self) -> InboundContext:
        return InboundContext(self.urls, self.now, self.fetched)


@dataclass(frozen=True)
class Sent:
    """An action's result: the activity stored (and queued for delivery)."""

    activity_id: str
    activity: dict[str, Any] = field(repr=False)
    object_id: str | None = None
    deliveries: int = 0


def new_object_id(urls: LocalUrls, username: str) -> str:
    return urls.object(username, uuid.uuid4().hex)


def actor_of(account: AccountRow) -> ActorRow:
    if account.actor is None or account.deleted_at is not None:
        raise NotFound("no such account")
    return account.actor


def publish(
    db: sqlite_utils.Database,
    ctx: OutboundContext,
    account: AccountRow,
    activity: dict[str, Any],
    inboxes: list[tuple[str, str]],
    *,
    visibility: str,
    effects: Effects,
    object_id: str | None = None,
) -> Sent:
    """Store our activity and queue its deliveries (one row per inbox)."""
    send_activity(
        db, account, activity, inboxes, visibility=visibility, now=ctx.now, effects=effects
    )
    return Sent(activity["id"], activity, object_id, effects.deliveries)


def apply_locally(
    db: sqlite_utils.Database,
    ctx: OutboundContext,
    activity: dict[str, Any],
    effects: Effects,
    *,
    expect: frozenset[str],
) -> None:
    """Run the inbound handler for our own activity; refuse when it would not apply.

    The handler's checks (a boost of a non-public post, a second like…) are
    the rules; an outcome other than ``expect`` rolls the action back.
    """
    HANDLERS[type_of(activity)](db, ctx.inbound, activity, effects)
    if effects.outcome not in expect:
        raise UnprocessableEntity(effects.outcome)


def author_of(doc: Mapping[str, Any]) -> str | None:
    return next((u for u in (id_of(a) for a in as_list(doc.get("attributedTo"))) if u), None)


def known_note(
    db: sqlite_utils.Database, ctx: OutboundContext, uri: str, viewer: ActorRow
) -> ObjectRow:
    """The post at ``uri`` if ``viewer`` may see it (else, as if unknown, a 422).

    Stored already, or fetched before the transaction and stored now.
    """
    found = objects_store.get_object(db, uri)
    if found is None:
        doc = ctx.fetched.get(uri)
        author = author_of(doc) if doc is not None else None
        if doc is not None and author and type_of(doc) in NOTE_TYPES and doc.get("id") == uri:
            store_note(db, ctx.inbound, doc, author, None, None)
            found = objects_store.get_object(db, uri)
    if found is not None and found.is_tombstone:
        raise Gone("the post was deleted")
    visible = statuses.get_status_for(db, found.id, viewer.uri) if found else None
    if visible is None or visible.boost_of is not None:
        raise UnprocessableEntity("unknown post", object=uri)
    return visible
