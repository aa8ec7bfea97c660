"""Who a local post is addressed to, and which inboxes that means.

The addressing follows Mastodon, so its servers classify our posts as we
mean them:

============  ======================  ==========================
visibility    to                      cc
============  ======================  ==========================
public        Public                  followers, mentioned
unlisted      followers               Public, mentioned
private       followers               mentioned
direct        mentioned               —
============  ======================  ==========================

Inboxes are derived from the addressing alone: the followers' (shared)
inboxes when the followers collection is addressed, and the inbox of each
addressed remote actor. So a followers-only or direct post can never reach
anyone it does not name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlite_utils

from agora_node.processing.effects import personal_inbox
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import PUBLIC, Visibility, as_list, id_of, is_public
from agora_node.store import accounts as accounts_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow, ActorRow

Inbox = tuple[str, str]  # (inbox URL, host)


def addressing(
    visibility: Visibility, followers_uri: str, recipients: Iterable[str]
) -> tuple[list[str], list[str]]:
    """``to`` and ``cc`` of a post; ``recipients`` are the mentioned actors."""
    named = list(dict.fromkeys(recipients))
    if visibility == "public":
        return [PUBLIC], [followers_uri, *named]
    if visibility == "unlisted":
        return [followers_uri], [PUBLIC, *named]
    if visibility == "private":
        return [followers_uri], named
    return named, []


def addressed(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``to`` and ``cc`` of a stored document, as lists of URIs."""
    to = [u for u in (id_of(v) for v in as_list(doc.get("to"))) if u]
    cc = [u for u in (id_of(v) for v in as_list(doc.get("cc"))) if u]
    return to, cc


def named_actors(author: ActorRow, addresses: Iterable[str]) -> list[str]:
    """The actor URIs among addresses (not Public, not the author's followers)."""
    return [
        a
        for a in dict.fromkeys(addresses)
        if not is_public(a) and a != author.followers_uri and a != author.uri
    ]


def inboxes_for(
    db: sqlite_utils.Database, author: ActorRow, to: list[str], cc: list[str]
) -> list[Inbox]:
    """Remote inboxes for a document addressed ``to``/``cc`` (shared inboxes deduplicated)."""
    everyone = [*to, *cc]
    found: list[Inbox] = []
    if author.followers_uri and author.followers_uri in everyone:
        found += social.follower_inboxes(db, author.uri)
    actors = named_actors(author, everyone)
    rows = accounts_store.get_actors_by_uris(db, actors)
    for uri in actors:
        row = rows.get(uri)
        if row is None or row.local or row.deleted_at is not None:
            continue
        if social.is_blocked(db, author.uri, uri):
            continue
        inbox = row.delivery_inbox
        if inbox:
            found.append((inbox, row.host))
    return list(dict.fromkeys(found))


def personal_inboxes(db: sqlite_utils.Database, actor_uris: Iterable[str]) -> list[Inbox]:
    """The actors' own inboxes (Follow, Like, Block go to one person, not a server)."""
    return [inbox for uri in dict.fromkeys(actor_uris) for inbox in personal_inbox(db, uri)]


def local_recipients(
    db: sqlite_utils.Database, urls: LocalUrls, addresses: Iterable[str]
) -> list[AccountRow]:
    """The live local accounts among ``addresses``."""
    found: list[AccountRow] = []
    for uri in dict.fromkeys(addresses):
        if urls.local_username(uri) is None:
            continue
        account = accounts_store.get_account_by_actor_uri(db, uri)
        if account is not None and account.deleted_at is None:
            found.append(account)
    return found
