"""What processing an activity causes, written in the same transaction.

Handlers never do I/O: an outgoing activity is stored and one delivery row
per inbox is queued here; the delivery worker sends it later.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from agora_node.processing.policies import Pipeline
from agora_node.protocol.hosts import host_of
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import as_list
from agora_node.store import accounts as accounts_store
from agora_node.store import deliveries as deliveries_store
from agora_node.store import objects as objects_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow


@dataclass(frozen=True)
class InboundContext:
    """What a handler may know beyond the database: no clients, no sockets."""

    urls: LocalUrls
    now: float
    # Documents fetched before the transaction, by id (objects, actors, parents).
    fetched: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    # The admin's inbound policies (processing/policies.py), run before storage.
    policies: Pipeline | None = None


@dataclass
class Effects:
    """A summary of what a handler did, for logs and tests."""

    outcome: str = "ignored"
    deliveries: int = 0
    notifications: int = 0
    details: list[str] = field(default_factory=list)


def new_activity_id(urls: LocalUrls, username: str) -> str:
    return urls.activity(username, uuid.uuid4().hex)


def send_activity(
    db: sqlite_utils.Database,
    account: AccountRow,
    doc: dict[str, Any],
    inboxes: list[tuple[str, str]],
    *,
    visibility: str,
    now: float,
    effects: Effects | None = None,
) -> None:
    """Store a local activity and queue one delivery per inbox (deduplicated)."""
    objects_store.put_activity(
        db,
        uri=doc["id"],
        type=doc["type"],
        actor_uri=doc["actor"],
        object_uri=_object_id(doc.get("object")),
        local=True,
        visibility=visibility,
        data=doc,
        created_at=now,
    )
    unique = list(dict.fromkeys(inboxes))
    added = deliveries_store.add_deliveries(db, doc["id"], unique, account.id, now)
    if effects is not None:
        effects.deliveries += added


def _object_id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def personal_inbox(db: sqlite_utils.Database, actor_uri: str) -> list[tuple[str, str]]:
    """The actor's own inbox (for Accept/Reject/Follow, which go to one person)."""
    actor = accounts_store.get_actor_by_uri(db, actor_uri)
    if actor is None or actor.local or actor.deleted_at is not None:
        return []
    inbox = actor.inbox or actor.shared_inbox
    return [(inbox, actor.host)] if inbox else []


def notify(
    db: sqlite_utils.Database,
    account: AccountRow,
    kind: str,
    from_actor: str,
    object_uri: str | None,
    activity_uri: str | None,
    now: float,
    effects: Effects,
) -> None:
    """Notify a local account unless it blocks the sender."""
    if account.actor is None or social.is_blocked(db, account.actor.uri, from_actor):
        return
    social.add_notification(db, account.id, kind, from_actor, object_uri, activity_uri, now)
    effects.notifications += 1


def notify_subscribers(
    db: sqlite_utils.Database,
    author_uri: str,
    post: tuple[str, str | None],
    visibility: str,
    replies_to: str | None,
    now: float,
    effects: Effects,
) -> None:
    """Tell the local followers who asked to hear of each new post of ``author_uri``
    (a ``status`` notification): not for direct posts, nor for replies to others.
    ``post`` is (uri, activity uri); ``replies_to`` the author of the post replied to."""
    if visibility == "direct" or (replies_to is not None and replies_to != author_uri):
        return
    uri, activity_uri = post
    for follower in social.local_followers_to_notify(db, author_uri):
        account = local_account(db, follower)
        if account is not None:
            notify(db, account, "status", author_uri, uri, activity_uri, now, effects)


def type_of(doc: Any) -> str:
    if isinstance(doc, dict):
        for t in as_list(doc.get("type")):
            if isinstance(t, str):
                return t
    return ""


def was_undone(db: sqlite_utils.Database, activity_uri: str, actor: str) -> bool:
    """An Undo that arrived before the activity it undoes."""
    return objects_store.undo_recorded(db, activity_uri, actor)


def local_account(db: sqlite_utils.Database, uri: str | None) -> accounts_store.AccountRow | None:
    if not uri:
        return None
    account = accounts_store.get_account_by_actor_uri(db, uri)
    if account is None or account.deleted_at is not None:
        return None
    return account


def same_host(a: str | None, b: str | None) -> bool:
    """Whether two URIs are on one host; an unparsable URI matches nothing.

    Remote documents may carry any string where a URI belongs; a ValueError
    here would roll the transaction back and retry a hopeless job.
    """
    if not a or not b:
        return False
    try:
        return host_of(a) == host_of(b)
    except ValueError:
        return False
