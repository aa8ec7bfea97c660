"""The I/O an inbound activity needs before it can be processed.

Processing runs in one transaction and does no I/O, so everything it needs
from other servers is fetched here first: an object given only by URI, an
announced post we do not have (from its origin, never from the announcer
unless the announcer is its author), the parent chain of a reply (within a
depth and count budget), the target of a Move, the sender's actor document.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from agora_node.errors import AgoraError, FetchError, ServiceUnavailable
from agora_node.federation.fetcher import Fetcher
from agora_node.processing.remote import actor_record
from agora_node.protocol.authority import object_is_trusted_inline
from agora_node.protocol.hosts import host_of
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.validation import validate_object
from agora_node.protocol.vocab import id_of, types_of
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store.db import Database

log = logging.getLogger(__name__)

TRANSIENT_MESSAGES = frozenset({"timeout", "connection failed"})
MAX_THREAD_FETCHES = 20


class RetryLater(ServiceUnavailable):
    """A remote we depend on is temporarily unreachable: retry the job later.

    The inbox worker records it and retries the job on its schedule; it
    never reaches a client (the activity was accepted with a 202 long before).
    """


def is_transient(exc: FetchError) -> bool:
    status = exc.remote_status
    return (
        exc.public_message in TRANSIENT_MESSAGES
        or status in (408, 429)
        or (status is not None and status >= 500)
    )


class Prefetcher:
    def __init__(self, db: Database, fetcher: Fetcher, urls: LocalUrls, thread_depth: int) -> None:
        self._db = db
        self._fetcher = fetcher
        self._urls = urls
        self._depth = thread_depth

    async def _fetch(self, uri: str) -> dict[str, Any] | None:
        if self._urls.is_local(uri):
            return None
        try:
            return await self._fetcher.fetch_object(uri)
        except FetchError as exc:
            if is_transient(exc):
                raise RetryLater(f"fetch {uri}: {exc.public_message}") from exc
            log.info("fetch refused uri=%s reason=%s", uri, exc.public_message)
        except AgoraError as exc:
            log.info("fetched document invalid uri=%s reason=%s", uri, exc.public_message)
        return None

    async def _known(self, uri: str) -> bool:
        return await self._db.read(lambda db: objects_store.get_object(db, uri)) is not None

    async def ensure_actor(self, actor_uri: str) -> None:
        known = await self._db.read(lambda db: accounts_store.get_actor_by_uri(db, actor_uri))
        if known is not None or self._urls.is_local(actor_uri):
            return
        doc = await self._fetch(actor_uri)
        if doc is None or doc.get("id") != actor_uri:
            return
        record = actor_record(doc, time.time())
        await self._db.write(lambda db: accounts_store.upsert_actor(db, record.values))

    async def documents_for(self, activity: dict[str, Any]) -> dict[str, dict[str, Any]]:
        fetched: dict[str, dict[str, Any]] = {}
        kinds = set(types_of(activity))
        actor = id_of(activity.get("actor")) or ""
        obj = activity.get("object")
        target = id_of(obj)
        if kinds & {"Follow", "Create", "Announce", "Move", "Like"}:
            await self.ensure_actor(actor)
        if "Create" in kinds and target:
            note = obj if isinstance(obj, dict) else None
            if note is None and host_of(target) == host_of(actor) and not await self._known(target):
                note = await self._fetch(target)
                if note is not None:
                    fetched[target] = note
            if note is not None:
                await self._thread(note, fetched)
        elif "Announce" in kinds and target and not await self._known(target):
            if isinstance(obj, dict) and object_is_trusted_inline(activity):
                try:
                    validate_object(obj)
                    fetched[target] = obj
                except AgoraError:
                    pass
            if target not in fetched:
                doc = await self._fetch(target)
                if doc is not None:
                    fetched[target] = doc
            author = id_of(fetched[target].get("attributedTo")) if target in fetched else None
            if author:
                await self.ensure_actor(author)
        elif "Move" in kinds:
            move_target = id_of(activity.get("target"))
            if move_target:
                doc = await self._fetch(move_target)
                if doc is not None:
                    fetched[move_target] = doc
        return fetched

    async def _thread(self, note: dict[str, Any], fetched: dict[str, dict[str, Any]]) -> None:
        """Fetch unknown ancestors of a reply, within the depth and count budget."""
        parent = id_of(note.get("inReplyTo"))
        depth = 0
        while parent and depth < min(self._depth, MAX_THREAD_FETCHES) and parent not in fetched:
            if self._urls.is_local(parent) or await self._known(parent):
                return
            doc = await self._fetch(parent)
            if doc is None:
                return
            fetched[parent] = doc
            author = id_of(doc.get("attributedTo"))
            if author:
                await self.ensure_actor(author)
            parent = id_of(doc.get("inReplyTo"))
            depth += 1
