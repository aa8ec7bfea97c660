"""Finding the actors and posts a local action names, before its transaction.

A handle (``@user@host``) is looked up with WebFinger: the ``self`` link
names the actor document, which is fetched (signed) and stored. WebFinger
at ``host`` may speak for any actor, so its answer is trusted only when the
actor's own ``acct:preferredUsername@its-host`` leads back to the same actor
id (checked with a second WebFinger when the two hosts differ, as on a
server whose handles use a different domain than its actors).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from agora_node.errors import AgoraError, NotFound, UnprocessableEntity
from agora_node.federation.fetcher import Fetcher
from agora_node.processing.outbound import author_of
from agora_node.processing.outbound_text import MentionTarget, acct_key
from agora_node.processing.remote import NOTE_TYPES, actor_record
from agora_node.protocol.hosts import host_of, normalise_host, same_origin
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import ACTOR_TYPES, SUBSCRIBE_REL, as_list, types_of
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store.accounts import ActorRow
from agora_node.store.db import Database

log = logging.getLogger(__name__)

# A stored actor found by handle is used as is for this long.
REFRESH_AFTER = 86400.0
_SELF_TYPES = frozenset({"application/activity+json", "application/ld+json"})


def split_handle(handle: str, local_domain: str) -> tuple[str, str]:
    """``(user, host)`` of ``@user@host``, ``user@host`` or ``acct:user@host`` (400 if neither)."""
    text = handle.strip()
    if text.lower().startswith("acct:"):
        text = text[5:]
    user, sep, host = text.lstrip("@").partition("@")
    if not user or "@" in host or (sep and not host):
        raise UnprocessableEntity("not a handle (@user@host)", handle=handle[:200])
    try:
        host = normalise_host(host) if host else local_domain
    except (ValueError, UnicodeError):
        raise UnprocessableEntity("not a handle (@user@host)", handle=handle[:200]) from None
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not name.startswith("[") and not all(0 < len(label) < 64 for label in name.split(".")):
        raise UnprocessableEntity("not a handle (@user@host)", handle=handle[:200])
    return user, host


def self_link(jrd: dict[str, Any]) -> str | None:
    """The actor URI a WebFinger answer points at."""
    for link in as_list(jrd.get("links")):
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        media = str(link.get("type", "")).split(";")[0].strip().lower()
        href = link.get("href")
        if media in _SELF_TYPES and isinstance(href, str):
            return href
    return None


class Resolver:
    """Actors by handle or URI, and posts by URI, stored as we find them."""

    def __init__(self, db: Database, fetcher: Fetcher, urls: LocalUrls, domain: str) -> None:
        self._db = db
        self._fetcher = fetcher
        self._urls = urls
        self._domain = domain

    async def actor_by_handle(self, handle: str) -> ActorRow:
        user, host = split_handle(handle, self._domain)
        if host == self._domain:
            return await self._local_actor(user)
        known = await self._db.read(lambda db: accounts_store.get_actor_by_acct(db, user, host))
        fresh = known is not None and time.time() - (known.fetched_at or 0) < REFRESH_AFTER
        if known is not None and fresh and known.deleted_at is None:
            return known
        href = await self._webfinger(user, host)
        doc = await self._fetch_actor(href)
        actor_user = str(doc.get("preferredUsername") or "")
        actor_host = host_of(doc["id"])
        if (actor_user.lower(), actor_host) != (user.lower(), host):
            # The handle's server named an actor elsewhere: that actor's own
            # server must agree that this is its handle.
            if not actor_user or not await self._confirms(actor_user, actor_host, doc["id"]):
                raise UnprocessableEntity(f"@{user}@{host} does not lead back to its actor")
        return await self._store_actor(doc)

    async def actor_by_uri(self, uri: str) -> ActorRow:
        """A known actor, or one fetched and stored now."""
        if self._urls.is_local(uri):
            name = self._urls.local_username(uri)
            return await self._local_actor(name or "")
        known = await self._db.read(lambda db: accounts_store.get_actor_by_uri(db, uri))
        if known is not None:
            if known.deleted_at is not None:
                raise NotFound("the account was deleted")
            return known
        doc = await self._fetch_actor(uri)
        if doc["id"] != uri:
            raise UnprocessableEntity("the account is known by another id", actor=uri)
        return await self._store_actor(doc)

    async def fresh_actor_document(self, uri: str) -> dict[str, Any]:
        """The actor's document as its server serves it now (stored anew), for
        what may have just changed (its aliases before a move); a local actor's
        from our own rows."""
        if self._urls.is_local(uri):
            actor = await self._local_actor(self._urls.local_username(uri) or "")
            return {"id": actor.uri, "alsoKnownAs": list(actor.also_known_as)}
        doc = await self._fetch_actor(uri)
        if doc["id"] != uri:
            raise UnprocessableEntity("the account is known by another id", actor=uri)
        await self._store_actor(doc)
        return doc

    async def mentions(self, handles: Iterable[str]) -> dict[str, MentionTarget]:
        """The handles that resolve (others stay plain text), keyed by ``acct_key``.

        Looked up concurrently: one slow server should not cost one timeout per mention.
        """

        async def one(handle: str) -> tuple[str, MentionTarget] | None:
            try:
                user, host = split_handle(handle, self._domain)
                actor = await self.actor_by_handle(handle)
            except AgoraError as exc:
                log.info("mention not resolved handle=%s reason=%s", handle, exc.public_message)
                return None
            acct = acct_key(actor.username, actor.host, self._domain)
            target = MentionTarget(acct, actor.uri, actor.url or actor.uri)
            return acct_key(user, host, self._domain), target

        found = await asyncio.gather(*(one(h) for h in dict.fromkeys(handles)))
        return dict(pair for pair in found if pair is not None)

    async def unknown_post(self, uri: str) -> dict[str, Any] | None:
        """A remote post we do not have yet, fetched with its author (None when known)."""
        if self._urls.is_local(uri):
            return None
        if await self._db.read(lambda db: objects_store.get_object(db, uri)) is not None:
            return None
        return await self._fetch_post(uri)

    async def post_at(self, url: str) -> dict[str, Any]:
        """A remote post named by its id or by its page's address (what people copy
        from a browser), fetched with its author. A page may answer with a post of
        another id on its own server; that id is then fetched to be sure of it."""
        if not url.startswith("https://") and not url.startswith("http://"):
            raise UnprocessableEntity("not a web address", object=url)
        doc = await self._fetch(url)
        found = str(doc.get("id") or "")
        if found != url:
            if not found or not same_origin(found, url):
                raise UnprocessableEntity("the page names a post elsewhere", object=url)
            return await self._fetch_post(found)
        return await self._checked_post(doc, url)

    async def _fetch(self, uri: str) -> dict[str, Any]:
        try:
            return await self._fetcher.fetch_object(uri)
        except AgoraError as exc:
            raise UnprocessableEntity("the post could not be fetched", object=uri) from exc

    async def _fetch_post(self, uri: str) -> dict[str, Any]:
        return await self._checked_post(await self._fetch(uri), uri)

    async def _checked_post(self, doc: dict[str, Any], uri: str) -> dict[str, Any]:
        """``doc`` if it is a post at ``uri`` by an author of its own server (stored now)."""
        author = author_of(doc)
        if (
            doc["id"] != uri
            or not set(types_of(doc)) & NOTE_TYPES
            or not author
            or not same_origin(author, uri)
        ):
            raise UnprocessableEntity("not a post we can use", object=uri)
        await self.actor_by_uri(author)
        return doc

    async def _local_actor(self, username: str) -> ActorRow:
        account = await self._db.read(
            lambda db: accounts_store.get_account_by_username(db, username)
        )
        if account is None or account.actor is None or account.deleted_at is not None:
            raise NotFound("no such account")
        return account.actor

    async def interaction_template(self, handle: str) -> str:
        """Where ``handle``'s own server lets them act on something by its URI (the
        WebFinger subscribe template, ``{uri}`` in it); 422 when it has none."""
        user, host = split_handle(handle, self._domain)
        jrd = await self._jrd(user, host)
        for link in as_list(jrd.get("links")):
            template = link.get("template") if isinstance(link, dict) else None
            if (
                isinstance(template, str)  # so ``link`` is a dict
                and link.get("rel") == SUBSCRIBE_REL
                and "{uri}" in template
                and template.startswith(("https://", "http://"))
            ):
                return template
        raise UnprocessableEntity(f"the server of @{user}@{host} offers no way to follow from it")

    async def _jrd(self, user: str, host: str) -> dict[str, Any]:
        scheme = "http" if host in self._fetcher.policy.plain_http_hosts else "https"
        resource = quote(f"acct:{user}@{host}", safe=":@")
        url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
        try:
            return await self._fetcher.fetch_plain(url)
        except AgoraError as exc:
            raise UnprocessableEntity(f"@{user}@{host} could not be found") from exc

    async def _webfinger(self, user: str, host: str) -> str:
        jrd = await self._jrd(user, host)
        href = self_link(jrd)
        if href is None:
            raise UnprocessableEntity(f"@{user}@{host} has no ActivityPub actor")
        return href

    async def _confirms(self, user: str, host: str, actor_uri: str) -> bool:
        try:
            return await self._webfinger(user, host) == actor_uri
        except UnprocessableEntity:
            return False

    async def _fetch_actor(self, uri: str) -> dict[str, Any]:
        if self._urls.is_local(uri):
            # Only our own rows speak for local actors; a remote answer naming one is wrong.
            raise UnprocessableEntity("a remote handle points at a local account", actor=uri)
        try:
            doc = await self._fetcher.fetch_object(uri)
        except AgoraError as exc:
            raise UnprocessableEntity("the account could not be fetched", actor=uri) from exc
        if not set(types_of(doc)) & ACTOR_TYPES:
            raise UnprocessableEntity("not an account", actor=uri)
        return doc

    async def _store_actor(self, doc: dict[str, Any]) -> ActorRow:
        record = actor_record(doc, time.time())
        uri = str(doc["id"])

        def write(db: Any) -> ActorRow | None:
            accounts_store.upsert_actor(db, record.values)
            for key_id, pem, key_type in record.keys:
                accounts_store.put_public_key(db, key_id, uri, pem, key_type)
            return accounts_store.get_actor_by_uri(db, uri)

        stored = await self._db.write(write)
        if stored is None:  # pragma: no cover - written just above
            raise NotFound("unknown account")
        return stored
