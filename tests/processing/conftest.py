"""Helpers for inbound processing tests: remote actors stored as key resolution
would store them, a frozen clock, and small counting queries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from agora_node.config import Settings
from agora_node.processing.effects import Effects, InboundContext
from agora_node.processing.inbound import process_inbound
from agora_node.processing.policies import Pipeline
from agora_node.processing.remote import actor_record
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.conftest import BASE_URL, add_account

NOW = 1_732_600_000.0  # 2024-11-26T05:46:40Z, after every fixture's timestamps
URLS = LocalUrls(BASE_URL)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
ALICE = "https://mastodon.example/users/alice"
BOB = "https://gts.example/users/bob"
FERN = "https://misskey.example/users/9x1a2b3c4d"
DEE = "https://pleroma.example/users/dee"
EVE = "https://blog.example/api/collections/eve"
PEM = "-----BEGIN PUBLIC KEY-----\nMIIBfixture\n-----END PUBLIC KEY-----\n"


def local(username: str) -> str:
    return URLS.actor(username)


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of a real-world payload; tests change it freely."""
    doc: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return doc


def retarget(doc: dict[str, Any]) -> dict[str, Any]:
    """The payload with every ``https://agora.example`` pointing at the test node."""
    text = json.dumps(doc).replace("https://agora.example/", f"{BASE_URL}/")
    out: dict[str, Any] = json.loads(text)
    return out


def actor_doc(uri: str, **extra: Any) -> dict[str, Any]:
    """A Mastodon-shaped actor document for ``uri``."""
    host = uri.split("/")[2]
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri,
        "type": "Person",
        "preferredUsername": uri.rstrip("/").rsplit("/", 1)[-1],
        "name": "",
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "following": f"{uri}/following",
        "featured": f"{uri}/collections/featured",
        "endpoints": {"sharedInbox": f"https://{host}/inbox"},
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": PEM},
    }
    doc.update(extra)
    return doc


def store_actor(db: Database, doc_or_uri: dict[str, Any] | str, **extra: Any) -> dict[str, Any]:
    """Store a remote actor and its key, as key resolution does before processing."""
    doc = actor_doc(doc_or_uri, **extra) if isinstance(doc_or_uri, str) else doc_or_uri
    record = actor_record(doc, NOW - 3600)

    def write(c: Any) -> None:
        accounts_store.upsert_actor(c, record.values)
        for key_id, pem, key_type in record.keys:
            accounts_store.put_public_key(c, key_id, doc["id"], pem, key_type)

    db.write_sync(write)
    return doc


def context(
    now: float = NOW,
    fetched: dict[str, dict[str, Any]] | None = None,
    policies: Pipeline | None = None,
) -> InboundContext:
    return InboundContext(urls=URLS, now=now, fetched=fetched or {}, policies=policies)


def process(
    db: Database,
    activity: dict[str, Any],
    *,
    now: float = NOW,
    fetched: dict[str, dict[str, Any]] | None = None,
    policies: Pipeline | None = None,
) -> Effects:
    """Run one activity in one write transaction, as the inbox worker does."""
    ctx = context(now, fetched, policies)
    doc = copy.deepcopy(activity)
    return db.write_sync(lambda c: process_inbound(c, ctx, doc))


def rows(db: Database, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return db.read_sync(lambda c: [tuple(r) for r in c.execute(sql, list(params)).fetchall()])


def count(db: Database, table: str, where: str = "1", params: tuple[Any, ...] = ()) -> int:
    return int(rows(db, f"SELECT count(*) FROM {table} WHERE {where}", params)[0][0])


def notifications(db: Database, account: AccountRow) -> list[tuple[str, str, str | None]]:
    """(type, from actor, object) of an account's notifications, oldest first."""
    return [
        (r[0], r[1], r[2])
        for r in rows(
            db,
            "SELECT type, from_actor_uri, object_uri FROM notifications "
            "WHERE account_id = ? ORDER BY id",
            (account.id,),
        )
    ]


def follow_state(db: Database, follower: str, followee: str) -> str | None:
    found = rows(
        db,
        "SELECT state FROM follows WHERE follower_uri = ? AND followee_uri = ?",
        (follower, followee),
    )
    return str(found[0][0]) if found else None


def get_object(db: Database, uri: str) -> objects_store.ObjectRow | None:
    return db.read_sync(lambda c: objects_store.get_object(c, uri))


def local_note(db: Database, account: AccountRow, slug: str, *, visibility: str = "public") -> str:
    """A post by a local account, stored directly; returns its uri."""
    uri = URLS.object(account.username, slug)
    assert account.actor is not None
    values = {
        "uri": uri,
        "type": "Note",
        "actor_uri": account.actor.uri,
        "local": 1,
        "visibility": visibility,
        "content": f"<p>{slug}</p>",
        "published": NOW - 86400,
    }
    assert db.write_sync(lambda c: objects_store.insert_object(c, values)) is not None
    return uri


def tables_snapshot(db: Database) -> dict[str, int]:
    """Row counts of every table an inbound activity may write."""
    names = (
        "activities", "objects", "object_edits", "object_recipients", "tags", "follows",
        "likes", "blocks", "notifications", "reports", "featured", "deliveries", "actors",
    )  # fmt: skip
    return {name: count(db, name) for name in names}


@pytest.fixture
def ada(db: Database, settings: Settings) -> AccountRow:
    return add_account(db, settings, "ada")


@pytest.fixture
def alice(db: Database) -> dict[str, Any]:
    return store_actor(db, ALICE)


@pytest.fixture
def bob(db: Database) -> dict[str, Any]:
    return store_actor(db, BOB)
