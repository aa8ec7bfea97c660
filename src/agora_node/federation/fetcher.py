"""Signed fetches of remote documents, with per-host signature-scheme memory.

Fetches that no user initiates are signed by the instance actor. A host
listed in ``federation.rfc9421_hosts`` (or remembered as RFC 9421) is asked
with an RFC 9421 signature first and, on 401/403, once more with
draft-cavage; whichever it accepted is remembered ("double knocking").
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from agora_node.config import Settings
from agora_node.errors import FetchError
from agora_node.federation.http import (
    FetchedDocument,
    FetchPolicy,
    fetch_json,
    fetch_plain_json,
)
from agora_node.federation.signing import Signers
from agora_node.protocol.hosts import host_of
from agora_node.protocol.validation import validate_object
from agora_node.store import deliveries as deliveries_store
from agora_node.store.db import Database

log = logging.getLogger(__name__)


class SchemeMemory:
    """Which signature scheme each host accepted, cached over the hosts table."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._default = settings.federation.signature_scheme
        self._prefer_9421 = {h.lower() for h in settings.federation.rfc9421_hosts}
        self._known: dict[str, str] = {}

    async def first_choice(self, host: str) -> str:
        if host in self._known:
            return self._known[host]
        state = await self._db.read(lambda db: deliveries_store.get_host_state(db, host))
        if state is not None and state.signature_scheme:
            scheme = state.signature_scheme
        elif host in self._prefer_9421:
            scheme = "rfc9421"
        else:
            scheme = self._default
        self._known[host] = scheme
        return scheme

    async def remember(self, host: str, scheme: str) -> None:
        if self._known.get(host) == scheme:
            return
        self._known[host] = scheme
        await self._db.write(
            lambda db: deliveries_store.set_host_signature_scheme(db, host, scheme)
        )


def other_scheme(scheme: str) -> str:
    return "cavage" if scheme == "rfc9421" else "rfc9421"


class Fetcher:
    """Fetch ActivityStreams documents as the instance actor (or a given account)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        policy: FetchPolicy,
        signers: Signers,
        schemes: SchemeMemory,
    ) -> None:
        self.session = session
        self.policy = policy
        self.signers = signers
        self.schemes = schemes

    async def fetch(self, url: str, *, account_id: int | None = None) -> FetchedDocument:
        """Signed GET; the document's id equals the final URL (checked by the client)."""
        host = host_of(url)
        first = await self.schemes.first_choice(host)
        try:
            doc = await fetch_json(
                self.session, url, policy=self.policy,
                signer=await self.signers.signer(account_id, first),
            )  # fmt: skip
        except FetchError as exc:
            if exc.remote_status not in (401, 403) or first == "cavage":
                raise
            second = other_scheme(first)
            doc = await fetch_json(
                self.session, url, policy=self.policy,
                signer=await self.signers.signer(account_id, second),
            )  # fmt: skip
            await self.schemes.remember(host, second)
        return doc

    async def fetch_object(self, url: str) -> dict[str, Any]:
        """Fetch and validate an object (note, actor, key...)."""
        fetched = await self.fetch(url)
        validate_object(fetched.document)
        return fetched.document

    async def fetch_plain(self, url: str) -> dict[str, Any]:
        """Unsigned JSON (WebFinger, NodeInfo)."""
        fetched = await fetch_plain_json(self.session, url, policy=self.policy)
        return fetched.document
