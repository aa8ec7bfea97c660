"""Key resolution: actor documents, standalone keys, Multikey, gone actors, rotation."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from agora_node.errors import FetchError, SignatureError
from agora_node.federation.keys import KeyResolver
from agora_node.protocol.httpsig import SigningKey, sign_request
from agora_node.protocol.keys import (
    ed25519_public_to_multibase,
    generate_rsa_keypair,
    load_private_key,
)
from agora_node.store import accounts as accounts_store

ACTOR = "https://gts.example/users/bob"
KEY = f"{ACTOR}/main-key"
INBOX = "https://agora.test/inbox"


class Documents:
    """Injected fetch: serves documents by URL and counts fetches."""

    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}
        self.calls: list[str] = []

    async def __call__(self, url: str) -> dict[str, Any]:
        self.calls.append(url)
        doc = self.docs.get(url)
        if doc is None:
            raise FetchError("not found", remote_status=404)
        if doc == 410:
            raise FetchError("gone", remote_status=410)
        return dict(doc)


def actor_doc(pem: str, key_id: str = KEY, **extra: Any) -> dict[str, Any]:
    return {"id": ACTOR, "type": "Person", "preferredUsername": "bob", "inbox": f"{ACTOR}/inbox",
            "publicKey": {"id": key_id, "owner": ACTOR, "publicKeyPem": pem}, **extra}  # fmt: skip


def signed(key: SigningKey, now: float | None = None) -> tuple[str, dict[str, str], bytes]:
    body = b'{"type":"Follow"}'
    headers = sign_request("POST", INBOX, {"Content-Type": "application/activity+json"}, body, key,
                           now=now)  # fmt: skip
    return INBOX, headers, body


@pytest.fixture
def docs() -> Documents:
    return Documents()


async def verify(resolver: KeyResolver, key: SigningKey) -> Any:
    url, headers, body = signed(key)
    return await resolver.verify(resolver.precheck("POST", url, headers, body))


async def test_standalone_key_document_is_checked_against_its_owner(db, docs) -> None:  # type: ignore[no-untyped-def]
    pair = generate_rsa_keypair()
    key = SigningKey(KEY, load_private_key(pair.private_pem))
    # GoToSocial-style: the key URL serves a key document naming its owner.
    docs.docs[KEY] = {"id": KEY, "type": "CryptographicKey", "owner": ACTOR,
                      "publicKeyPem": pair.public_pem}  # fmt: skip
    docs.docs[ACTOR] = actor_doc(pair.public_pem)
    resolver = KeyResolver(db, docs)
    result = await verify(resolver, key)
    assert result.actor_uri == ACTOR
    assert docs.calls == [KEY, ACTOR]
    stored = await db.read(lambda c: accounts_store.get_actor_by_uri(c, ACTOR))
    assert stored is not None and stored.inbox == f"{ACTOR}/inbox"
    # Cached: no more fetches.
    await verify(resolver, key)
    assert len(docs.calls) == 2


async def test_owner_must_list_the_key(db, docs) -> None:  # type: ignore[no-untyped-def]
    pair = generate_rsa_keypair()
    key = SigningKey(KEY, load_private_key(pair.private_pem))
    docs.docs[KEY] = {"id": KEY, "owner": ACTOR, "publicKeyPem": pair.public_pem}
    docs.docs[ACTOR] = actor_doc(generate_rsa_keypair().public_pem, key_id=f"{ACTOR}#other")
    with pytest.raises(SignatureError) as err:
        await verify(KeyResolver(db, docs), key)
    assert err.value.reason == "key_owner_mismatch"


async def test_owner_on_another_host_is_refused(db, docs) -> None:  # type: ignore[no-untyped-def]
    pair = generate_rsa_keypair()
    key = SigningKey(KEY, load_private_key(pair.private_pem))
    evil = "https://evil.example/users/bob"
    docs.docs[KEY] = {"id": KEY, "owner": evil, "publicKeyPem": pair.public_pem}
    docs.docs[evil] = {**actor_doc(pair.public_pem), "id": evil}
    with pytest.raises(SignatureError) as err:
        await verify(KeyResolver(db, docs), key)
    assert err.value.reason == "key_owner_mismatch"


async def test_multikey_ed25519(db, docs) -> None:  # type: ignore[no-untyped-def]
    private = ed25519.Ed25519PrivateKey.generate()
    key_id = f"{ACTOR}#ed25519-key"
    docs.docs[ACTOR] = actor_doc(
        generate_rsa_keypair().public_pem,
        assertionMethod=[{"id": key_id, "type": "Multikey", "controller": ACTOR,
                          "publicKeyMultibase": ed25519_public_to_multibase(private.public_key())}],
    )  # fmt: skip
    result = await verify(KeyResolver(db, docs), SigningKey(key_id, private))
    assert result.actor_uri == ACTOR and result.algorithm == "ed25519"


async def test_gone_actor_marks_key_gone(db, docs) -> None:  # type: ignore[no-untyped-def]
    pair = generate_rsa_keypair()
    key_id = f"{ACTOR}#main-key"
    key = SigningKey(key_id, load_private_key(pair.private_pem))
    docs.docs[ACTOR] = actor_doc(pair.public_pem, key_id=key_id)
    resolver = KeyResolver(db, docs)
    await verify(resolver, key)
    docs.docs[ACTOR] = 410
    fresh = KeyResolver(db, docs, refetch_after=0)
    other = SigningKey(key_id, load_private_key(generate_rsa_keypair().private_pem))
    with pytest.raises(SignatureError) as err:
        await verify(fresh, other)
    assert err.value.reason == "key_gone"
    row = await db.read(lambda c: accounts_store.get_public_key(c, key_id))
    assert row is not None and row.gone


async def test_unknown_key_is_401_reason(db, docs) -> None:  # type: ignore[no-untyped-def]
    key = SigningKey(KEY, load_private_key(generate_rsa_keypair().private_pem))
    with pytest.raises(SignatureError) as err:
        await verify(KeyResolver(db, docs), key)
    assert err.value.reason == "unknown_key" and err.value.status == 401
