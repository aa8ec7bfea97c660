"""The inbox over real HTTP: a fake remote on 127.0.0.1 signs and receives."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlite_utils
from aiohttp.test_utils import TestClient

from agora_node.app import create_app
from agora_node.context import DB, SETTINGS
from agora_node.federation.blocklist import HOST_BLOCKLIST
from agora_node.protocol.httpsig import parse_signature, verify_signature
from agora_node.protocol.keys import load_public_key
from agora_node.store import deliveries as deliveries_store
from agora_node.store import domain_blocks as blocks_store
from agora_node.store import jobs as jobs_store
from agora_node.store import social
from agora_node.store.spool import count_waiting
from tests.conftest import BASE_URL, add_account
from tests.federation.conftest import node_settings
from tests.federation.remote import RemoteActor, signed_post

ALICE = f"{BASE_URL}/users/alice"
INBOX_URL = f"{ALICE}/inbox"


async def post(client: TestClient, actor: RemoteActor, doc: Any, **kw: Any) -> Any:  # type: ignore[type-arg]
    path = kw.pop("path", "/users/alice/inbox")
    body, headers = signed_post(actor, BASE_URL + path, doc, **kw)
    return await client.post(path, data=body, headers=headers)


def follow_of(actor: RemoteActor, target: str = ALICE) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": actor.new_id("follows"),
        "type": "Follow",
        "actor": actor.uri,
        "object": target,
    }


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def count_jobs(client: TestClient) -> int:  # type: ignore[type-arg]
    """Activities stored by the inbox: queued as jobs, or spooled and not yet queued.

    Read the way ``agora-node queue`` reads them: the queue and the spool
    cursors in one transaction, then the rows past those cursors.
    """

    def queued(c: sqlite_utils.Database) -> tuple[int, dict[str, int], set[str]]:
        cursors, finished = jobs_store.spool_cursors(c)
        return sum(jobs_store.job_counts(c, "inbox").values()), cursors, finished

    total, cursors, finished = await client.server.app[DB].read(queued)
    db_path = client.server.app[SETTINGS].database.path
    return total + count_waiting(db_path, cursors, finished)


async def test_follow_is_accepted_and_accept_delivered_signed(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    follow = follow_of(bob)
    resp = await post(node, bob, follow)
    assert resp.status == 202
    db = node.server.app[DB]
    stored = await wait_for(lambda: db.read(lambda c: social.get_follow(c, bob.uri, ALICE)))
    assert stored.state == "accepted"
    delivered = await wait_for(lambda: asyncio.sleep(0, remote.deliveries()))
    accept = delivered[0]
    assert accept.path == "/users/bob/inbox"
    doc = accept.json()
    assert doc["type"] == "Accept" and doc["actor"] == ALICE and doc["object"]["id"] == follow["id"]
    # The Accept's signature verifies with alice's published key.
    actor_doc = await (
        await node.get("/users/alice", headers={"Accept": "application/activity+json"})
    ).json(content_type=None)
    parsed = parse_signature("POST", remote.base + accept.path, accept.headers)
    assert parsed.key_id == f"{ALICE}#main-key"
    verify_signature(parsed, load_public_key(actor_doc["publicKey"]["publicKeyPem"]))
    assert "digest" in parsed.covered and "date" in parsed.covered


async def test_replay_is_a_no_op(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    follow = follow_of(bob)
    first, second = await asyncio.gather(post(node, bob, follow), post(node, bob, follow))
    assert first.status == second.status == 202
    assert (await post(node, bob, follow)).status == 202
    assert await count_jobs(node) == 1
    await wait_for(lambda: asyncio.sleep(0, remote.deliveries()))
    await asyncio.sleep(0.2)
    assert len(remote.deliveries()) == 1


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: h.pop("Signature"), "missing_signature"),
        (lambda h, b: h.__setitem__("Signature", "garbage\u00e9" * 3), "unparsable_header"),
        (lambda h, b: h.__setitem__("Digest", "SHA-256=AAAA"), "digest_mismatch"),
        (lambda h, b: h.__setitem__("Date", "Mon, 01 Jan 2001 00:00:00 GMT"), "bad_signature"),
    ],
)
async def test_bad_signatures_are_refused_without_fetching(node, remote, mutate, reason) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    body, headers = signed_post(bob, INBOX_URL, follow_of(bob))
    mutate(headers, body)
    resp = await node.post("/users/alice/inbox", data=body, headers=headers)
    assert resp.status == 401
    payload = await resp.json()
    if reason != "bad_signature":
        assert payload["reason"] == reason
    else:
        assert payload["reason"] in ("stale_date", "bad_signature")
    assert await count_jobs(node) == 0
    assert remote.fetches() == [] or reason == "bad_signature"


async def test_stale_and_future_dates(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    for offset, reason in ((-3900 - 60, "stale_date"), (3600 + 60, "future_date")):
        resp = await post(node, bob, follow_of(bob), now=time.time() + offset)
        assert resp.status == 401
        assert (await resp.json())["reason"] == reason
    assert remote.fetches() == []
    assert await count_jobs(node) == 0


async def test_key_owner_must_be_actor(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    mallory = remote.add_actor("mallory")
    resp = await post(node, mallory, follow_of(bob))
    assert resp.status == 401
    assert (await resp.json())["reason"] == "key_owner_mismatch"
    assert await count_jobs(node) == 0


async def test_activity_id_on_another_host_is_forbidden(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    follow = follow_of(bob)
    follow["id"] = "https://elsewhere.example/follows/1"
    resp = await post(node, bob, follow)
    assert resp.status == 403
    assert await count_jobs(node) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b'{"type": "Follow", "a": ' + b"[" * 40 + b"]" * 40 + b"}", 400),
        (b'{"id": ' + b"9" * 5000 + b"}", 400),
        (b'["a list"]', 400),
        (b'"a string"', 400),
        (b"\xff\xfe", 400),
    ],
)
async def test_malformed_bodies_are_400(node, remote, body: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    resp = await post(node, bob, None, body=body)
    assert resp.status == status
    assert "error" in await resp.json()
    assert await count_jobs(node) == 0
    assert remote.fetches() == []


async def test_oversized_body_is_413(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    follow = follow_of(bob)
    follow["padding"] = "x" * (1024 * 1024)
    resp = await post(node, bob, follow)
    assert resp.status == 413
    assert await count_jobs(node) == 0


async def test_graph_keywords_and_schema_errors(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    graph = follow_of(bob)
    graph["@graph"] = []
    resp = await post(node, bob, graph)
    assert resp.status == 400
    bad = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": bob.new_id(),
        "type": "Create",
        "actor": bob.uri,
        "object": {"id": bob.new_id("notes"), "type": "Note", "attributedTo": bob.uri,
                   "content": "x" * 200_001, "to": ["https://www.w3.org/ns/activitystreams#Public"]},
    }  # fmt: skip
    resp = await post(node, bob, bad)
    assert resp.status == 400
    assert (await resp.json())["path"] == "$.object.content"
    assert await count_jobs(node) == 0


async def test_blocked_domain_refused_before_fetch(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    settings = node_settings(tmp_path, remote, blocked_domains=["127.0.0.1"])
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice")
    bob = remote.add_actor("bob")
    resp = await post(client, bob, follow_of(bob))
    assert resp.status == 403
    assert remote.requests == []


async def test_host_blocked_in_database_refused_before_fetch(node, remote) -> None:  # type: ignore[no-untyped-def]
    # Given a domain suspended in the database (after the node started)
    bob = remote.add_actor("bob")
    host = urlsplit(bob.uri).netloc
    domain = host.split(":")[0]
    block = await node.server.app[DB].write(
        lambda c: blocks_store.put_block(
            c, domain=domain, severity="suspend", reject_media=False, reject_reports=False,
            obfuscate=False, private_comment="", public_comment="", now=1.0,
        )
    )  # fmt: skip
    # When its list is next read, then its activities are refused before any fetch
    await node.server.app[HOST_BLOCKLIST].refresh()
    resp = await post(node, bob, follow_of(bob))
    assert resp.status == 403
    assert "does not accept activities from your domain" in (await resp.json())["error"]
    assert remote.requests == []
    assert await count_jobs(node) == 0
    # And a subdomain of a blocked domain is refused too
    assert node.server.app[HOST_BLOCKLIST].is_blocked(f"social.{host.split(':')[0]}")
    await node.server.app[DB].write(lambda c: blocks_store.delete_block(c, block.id))
    await node.server.app[HOST_BLOCKLIST].refresh()
    resp = await post(node, bob, follow_of(bob))
    assert resp.status == 202


async def test_valid_activity_revives_an_unavailable_host(node, remote) -> None:  # type: ignore[no-untyped-def]
    # Given the sender's server marked unavailable after failures on 7 days
    bob = remote.add_actor("bob")
    host = urlsplit(bob.uri).netloc
    db = node.server.app[DB]
    for day in range(1, 8):
        await db.write(
            lambda c, day=day: deliveries_store.record_host_failure(
                c, host, f"2026-11-0{day}", unavailable_after_days=7,
                circuit_failures=3, circuit_open_until=time.time() + 3600,
            )
        )  # fmt: skip
    state = await db.read(lambda c: deliveries_store.get_host_state(c, host))
    assert state is not None and state.unavailable
    # When it sends a valid activity, then once processed its host is available again
    resp = await post(node, bob, follow_of(bob))
    assert resp.status == 202

    async def revived() -> bool:
        got = await db.read(lambda c: deliveries_store.get_host_state(c, host))
        return got is not None and not got.unavailable and got.circuit_open_until is None

    await wait_for(revived)


async def test_unknown_actor_self_delete_needs_no_fetch(node, remote) -> None:  # type: ignore[no-untyped-def]
    ghost = remote.add_actor("ghost")
    delete = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ghost.uri}#delete",
        "type": "Delete",
        "actor": ghost.uri,
        "object": ghost.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    resp = await post(node, ghost, delete, path="/inbox")
    assert resp.status == 202
    assert remote.requests == []
    assert await count_jobs(node) == 0


async def test_unknown_inbox_is_404(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    resp = await post(node, bob, follow_of(bob), path="/users/nobody/inbox")
    assert resp.status == 404


async def test_key_rotation_refetches_once(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    settings = node_settings(tmp_path, remote, key_refetch_after=0)
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice")
    bob = remote.add_actor("bob")
    assert (await post(client, bob, follow_of(bob), path="/inbox")).status == 202
    fetches_before = len(remote.fetches())
    bob.rotate_key()
    assert (await post(client, bob, follow_of(bob), path="/inbox")).status == 202
    assert len(remote.fetches()) == fetches_before + 1
    # A flood of bad signatures does not cause a fetch storm.
    bob.rotate_key()
    body, headers = signed_post(bob, f"{BASE_URL}/inbox", follow_of(bob))
    statuses = []
    for _ in range(5):
        bob.rotate_key()
        body, headers = signed_post(bob, f"{BASE_URL}/inbox", follow_of(bob))
        statuses.append((await client.post("/inbox", data=body, headers=headers)).status)
    assert len(remote.fetches()) <= fetches_before + 2
    assert 401 in statuses


async def test_accepted_job_survives_a_restart(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    settings = node_settings(tmp_path, remote)
    client = await aiohttp_client(create_app(settings, run_workers=False))
    add_account(client.server.app[DB], settings, "alice")
    bob = remote.add_actor("bob")
    assert (await post(client, bob, follow_of(bob))).status == 202
    await client.close()
    # A new process on the same file finds the job and processes it.
    client = await aiohttp_client(create_app(settings))
    db = client.server.app[DB]
    await wait_for(lambda: db.read(lambda c: social.get_follow(c, bob.uri, ALICE)))
    counts = await db.read(lambda c: jobs_store.job_counts(c, "inbox"))
    assert counts.get("done") == 1
    delivered = await wait_for(lambda: asyncio.sleep(0, remote.deliveries()))
    assert json.loads(delivered[0].body)["type"] == "Accept"


async def test_configured_policies_run_before_storage(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    settings = node_settings(tmp_path, remote)
    settings = dataclasses.replace(settings, policies=({"name": "max_mentions", "max": 1},))
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice")
    bob = remote.add_actor("bob")
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": bob.new_id("activities"),
        "type": "Create",
        "actor": bob.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": bob.new_id("notes"), "type": "Note", "attributedTo": bob.uri,
            "content": "hellthread", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "tag": [{"type": "Mention", "href": ALICE},
                    {"type": "Mention", "href": "https://elsewhere.example/users/x"}],
        },
    }  # fmt: skip
    assert (await post(client, bob, note)).status == 202
    db = client.server.app[DB]

    async def done() -> bool:
        counts = await db.read(lambda c: jobs_store.job_counts(c, "inbox"))
        return counts.get("done") == 1

    await wait_for(done)
    stored = await db.read(
        lambda c: c.execute(
            "SELECT count(*) FROM objects WHERE uri = ?", [note["object"]["id"]]
        ).fetchone()[0]
    )
    assert stored == 0
