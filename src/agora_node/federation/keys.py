"""Key resolution and request verification for inbound signed requests.

``keyId`` → in-memory cache → stored key → signed fetch of the key/actor
document. A verification that fails with a key fetched more than
``key_refetch_after`` seconds ago refetches once (key rotation), rate-limited
per actor so a flood of bad signatures cannot cause a fetch storm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

from agora_node.errors import AgoraError, FetchError, SignatureError
from agora_node.processing.remote import actor_record
from agora_node.protocol.hosts import host_of
from agora_node.protocol.httpsig import (
    ParsedSignature,
    SignaturePolicy,
    VerifiedSignature,
    check_policy,
    parse_signature,
    verify_signature,
)
from agora_node.protocol.keys import PublicKey, ed25519_public_from_multibase, load_public_key
from agora_node.protocol.vocab import ACTOR_TYPES, as_list, id_of, types_of
from agora_node.store import accounts as accounts_store
from agora_node.store.db import Database

log = logging.getLogger(__name__)

FetchDocument = Callable[[str], Awaitable[dict[str, Any]]]
REFETCH_INTERVAL = 60.0
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class ResolvedKey:
    key_id: str
    owner: str
    public_key: PublicKey
    fetched_at: float


@dataclass(frozen=True)
class VerifiedRequest:
    """Who signed an inbound request, once everything checked out."""

    actor_uri: str
    key_id: str
    scheme: str
    algorithm: str


def keys_in_actor(doc: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """key id → (PEM or multibase, kind) for the keys an actor document lists."""
    found: dict[str, tuple[str, str]] = {}
    actor = doc.get("id")
    for key in as_list(doc.get("publicKey")):
        if isinstance(key, dict) and isinstance(key.get("id"), str):
            pem = key.get("publicKeyPem")
            if isinstance(pem, str) and key.get("owner", actor) == actor:
                found[key["id"]] = (pem, "pem")
    for method in as_list(doc.get("assertionMethod")):
        if isinstance(method, dict) and method.get("type") == "Multikey":
            mb = method.get("publicKeyMultibase")
            if isinstance(method.get("id"), str) and isinstance(mb, str):
                if method.get("controller", actor) == actor:
                    found[method["id"]] = (mb, "multibase")
    return found


def _load(material: str, kind: str) -> PublicKey:
    try:
        if kind == "multibase":
            return ed25519_public_from_multibase(material)
        return load_public_key(material)
    except (ValueError, TypeError):
        raise SignatureError("unknown_key", "the key document has no usable public key") from None


class KeyResolver:
    def __init__(
        self,
        db: Database,
        fetch_document: FetchDocument,
        *,
        refetch_after: float = 300.0,
        policy: SignaturePolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._fetch = fetch_document
        self._refetch_after = refetch_after
        self._policy = policy or SignaturePolicy()
        self._clock = clock
        self._cache: dict[str, ResolvedKey] = {}
        self._last_refetch: dict[str, float] = {}
        self.fetches = 0

    # -- resolution ---------------------------------------------------------------
    async def resolve(self, key_id: str) -> ResolvedKey:
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        row = await self._db.read(lambda db: accounts_store.get_public_key(db, key_id))
        if row is not None:
            if row.gone:
                raise SignatureError("key_gone", "the key's actor is gone")
            kind = "multibase" if row.public_key_pem.startswith("z") else "pem"
            resolved = ResolvedKey(
                key_id, row.actor_uri, _load(row.public_key_pem, kind), row.fetched_at
            )
            self._remember(resolved)
            return resolved
        return await self._fetch_key(key_id)

    def _remember(self, key: ResolvedKey) -> None:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key.key_id] = key

    def forget(self, key_id: str) -> None:
        self._cache.pop(key_id, None)

    async def known_key(self, key_id: str) -> bool:
        if key_id in self._cache:
            return True
        row = await self._db.read(lambda db: accounts_store.get_public_key(db, key_id))
        return row is not None

    async def _fetch_key(self, key_id: str) -> ResolvedKey:
        try:
            key_host = host_of(key_id)
        except ValueError:
            raise SignatureError("unknown_key", "keyId is not an http(s) URI") from None
        self.fetches += 1
        url = urldefrag(key_id).url
        try:
            doc = await self._fetch(url)
        except FetchError as exc:
            if exc.remote_status == 410:
                await self._db.write(lambda db: accounts_store.mark_keys_gone(db, url))
                raise SignatureError("key_gone", "the key's actor is gone") from None
            raise SignatureError(
                "unknown_key", f"could not fetch the key ({exc.public_message})"
            ) from None
        except AgoraError as exc:
            raise SignatureError(
                "unknown_key", f"invalid key document ({exc.public_message})"
            ) from None
        actor_doc = doc
        if not set(types_of(doc)) & ACTOR_TYPES:
            # A standalone key document: its owner must list it and share its host.
            owner = id_of(doc.get("owner")) or id_of(doc.get("controller"))
            if not owner:
                raise SignatureError("unknown_key", "the key document names no owner")
            try:
                actor_doc = await self._fetch(owner)
            except AgoraError as exc:
                raise SignatureError(
                    "unknown_key", f"could not fetch the key owner ({exc.public_message})"
                ) from None
        owner_uri = actor_doc.get("id")
        if not isinstance(owner_uri, str) or host_of(owner_uri) != key_host:
            raise SignatureError("key_owner_mismatch", "the key's owner is on another host")
        listed = keys_in_actor(actor_doc)
        if key_id not in listed:
            raise SignatureError("key_owner_mismatch", "the key's owner does not list this key")
        material, kind = listed[key_id]
        public_key = _load(material, kind)
        now = self._clock()
        record = actor_record(actor_doc, now)

        def store(db: Any) -> None:
            accounts_store.upsert_actor(db, record.values)
            for kid, (mat, knd) in listed.items():
                accounts_store.put_public_key(
                    db, kid, owner_uri, mat, "rsa" if knd == "pem" else "ed25519"
                )

        await self._db.write(store)
        resolved = ResolvedKey(key_id, owner_uri, public_key, now)
        self._remember(resolved)
        return resolved

    def _may_refetch(self, key: ResolvedKey) -> bool:
        now = self._clock()
        if now - key.fetched_at < self._refetch_after:
            return False
        if now - self._last_refetch.get(key.owner, 0.0) < REFETCH_INTERVAL:
            return False
        self._last_refetch[key.owner] = now
        return True

    # -- verification -------------------------------------------------------------
    def precheck(self, method: str, url: str, headers: Any, body: bytes | None) -> ParsedSignature:
        """Everything that needs no key: parse, coverage, time window, digest."""
        parsed = parse_signature(method, url, headers)
        check_policy(parsed, method, headers, body, policy=self._policy, now=self._clock())
        return parsed

    async def verify(self, parsed: ParsedSignature) -> VerifiedRequest:
        key = await self.resolve(parsed.key_id)
        try:
            result: VerifiedSignature = verify_signature(parsed, key.public_key)
        except SignatureError as exc:
            if exc.reason != "bad_signature" or not self._may_refetch(key):
                raise
            log.info("signature failed, refetching key key_id=%s", parsed.key_id)
            self.forget(parsed.key_id)
            key = await self._fetch_key(parsed.key_id)
            result = verify_signature(parsed, key.public_key)
        return VerifiedRequest(key.owner, result.key_id, result.scheme, result.algorithm)
