"""Three nodes, one town square: federation end to end between real processes.

Accounts are made with the CLI, tokens with OAuth, actions go through the
client-to-server outbox, and every assertion reads what each node stored
(its SQLite file) or serves (its HTTP API).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from agora_node.devnet import Devnet, DevnetError, LocalNode, NodeClient, run_cli
from tests.e2e.conftest import PUBLIC, eventually, person, signed_post, stored

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it


async def object_of(node: LocalNode, activity_id: str) -> str:
    rows = await stored(node, "SELECT object_uri FROM activities WHERE uri = ?", activity_id)
    assert rows, f"no activity {activity_id}"
    return str(rows[0][0])


async def follow_state(node: LocalNode, follower: str, followee: str) -> str | None:
    rows = await stored(
        node, "SELECT state FROM follows WHERE follower_uri = ? AND followee_uri = ?",
        follower, followee,
    )  # fmt: skip
    return rows[0][0] if rows else None


async def settled(node: LocalNode, object_uri: str) -> bool:
    """Every delivery of every activity about ``object_uri`` has finished."""
    rows = await stored(
        node,
        "SELECT count(*) FROM deliveries d JOIN activities a ON a.uri = d.activity_uri "
        "WHERE a.object_uri = ? AND d.state IN ('pending', 'running')",
        object_uri,
    )
    return rows[0][0] == 0


async def job_done(node: LocalNode, activity_id: str) -> bool:
    """The node's inbox worker has processed this inbound activity."""
    rows = await stored(node, "SELECT state FROM jobs WHERE dedupe_key = ?", f"inbox:{activity_id}")
    return bool(rows) and rows[0][0] == "done"


async def has_object(node: LocalNode, uri: str, *, live: bool = True) -> bool:
    sql = "SELECT 1 FROM objects WHERE uri = ?" + (" AND deleted_at IS NULL" if live else "")
    return bool(await stored(node, sql, uri))


async def follow(a: NodeClient, b: NodeClient, devnet: Devnet) -> None:
    await a.outbox({"type": "Follow", "object": f"@{b.handle}"})
    await eventually(lambda: _accepted(a, b))


async def _accepted(a: NodeClient, b: NodeClient) -> bool:
    return (
        await follow_state(a.node, a.actor, b.actor) == "accepted"
        and await follow_state(b.node, a.actor, b.actor) == "accepted"
    )


async def post(
    client: NodeClient, text: str, *, to: list[str], cc: list[str] | None = None, **extra: Any
) -> str:
    activity_id = await client.outbox(
        {"type": "Note", "content": text, "to": to, "cc": cc or [], **extra}
    )
    return await object_of(client.node, activity_id)


async def home_ids(client: NodeClient) -> list[str]:
    statuses = await client.get("/api/v1/timelines/home", limit=40)
    return [s["reblog"]["uri"] if s.get("reblog") else s["uri"] for s in statuses]


# -- 1. follows ---------------------------------------------------------------------


async def test_follow_by_handle_and_locked_accounts(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    alice = await person(session, devnet["A"], "alice1")
    bob = await person(session, devnet["B"], "bob1")
    # WebFinger → actor → Follow → Accept, by handle, between two processes.
    await follow(alice, bob, devnet)
    followers = await bob.get("/users/bob1/followers", page="true")
    assert alice.actor in followers["orderedItems"]
    following = await alice.get("/users/alice1/following", page="true")
    assert bob.actor in following["orderedItems"]
    # A locked account's follower stays pending until approved.
    dave = await person(session, devnet["B"], "dave1", locked=True)
    await alice.outbox({"type": "Follow", "object": f"@{dave.handle}"})
    await eventually(lambda: _state_is(devnet["B"], alice.actor, dave.actor, "pending"))
    assert await follow_state(devnet["A"], alice.actor, dave.actor) == "pending"
    # B processed the Follow (it is pending there) and queued no Accept with it.
    assert not await stored(
        devnet["B"], "SELECT 1 FROM activities WHERE type = 'Accept' AND actor_uri = ?", dave.actor
    )
    await dave.outbox(
        {"type": "Accept", "object": {"type": "Follow", "actor": alice.actor, "object": dave.actor}}
    )
    await eventually(lambda: _accepted(alice, dave))


async def _state_is(node: LocalNode, a: str, b: str, state: str) -> bool:
    return await follow_state(node, a, b) == state


# -- 2. posts reach followers; boosts reach the followers of the booster -------------


async def test_public_post_home_federated_and_boost(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    alice = await person(session, devnet["A"], "alice2")
    bob = await person(session, devnet["B"], "bob2")
    carol = await person(session, devnet["C"], "carol2")
    await follow(alice, bob, devnet)
    note = await post(bob, "Hello, town square!", to=[PUBLIC], cc=[f"{bob.actor}/followers"])
    await eventually(lambda: has_object(devnet["A"], note))
    assert note in await eventually(lambda: _in_home(alice, note))
    public = await alice.get("/api/v1/timelines/public", limit=40)
    assert note in [s["uri"] for s in public]
    # carol follows nobody: once B has finished delivering it, C has not seen it.
    await eventually(lambda: settled(devnet["B"], note))
    assert not await has_object(devnet["C"], note)
    # carol follows alice; alice boosts; carol sees bob's post through the boost.
    await follow(carol, alice, devnet)
    await alice.outbox({"type": "Announce", "object": note, "to": [PUBLIC]})
    await eventually(lambda: has_object(devnet["C"], note))
    assert note in await eventually(lambda: _in_home(carol, note))


async def _in_home(client: NodeClient, uri: str) -> list[str] | None:
    ids = await home_ids(client)
    return ids if uri in ids else None


# -- 3. replies and mentions ----------------------------------------------------------


async def test_reply_thread_and_mention_notifications(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    alice = await person(session, devnet["A"], "alice3")
    bob = await person(session, devnet["B"], "bob3")
    carol = await person(session, devnet["C"], "carol3")
    await follow(alice, bob, devnet)
    await follow(alice, carol, devnet)
    note = await post(bob, "Who is around?", to=[PUBLIC], cc=[f"{bob.actor}/followers"])
    # C has never seen the post: carol's server fetches it when she replies.
    reply = await post(
        carol, f"@{bob.handle} I am!", to=[PUBLIC], cc=[bob.actor, f"{carol.actor}/followers"],
        inReplyTo=note, tag=[{"type": "Mention", "href": bob.actor, "name": f"@{bob.handle}"}],
    )  # fmt: skip
    for node in (devnet["B"], devnet["A"]):
        rows = await eventually(
            lambda n=node: stored(n, "SELECT in_reply_to FROM objects WHERE uri = ?", reply)
        )
        assert rows[0][0] == note
    # The mention notifies bob on B, and nobody on A or C.
    notes = await eventually(
        lambda: stored(
            devnet["B"],
            "SELECT n.type FROM notifications n JOIN accounts a ON a.id = n.account_id "
            "WHERE a.username = 'bob3' AND n.object_uri = ?",
            reply,
        )
    )
    assert ("mention",) in notes
    for node in (devnet["A"], devnet["C"]):
        assert not await stored(node, "SELECT 1 FROM notifications WHERE object_uri = ?", reply)


# -- 4. like, boost, undo, edit and delete propagate ----------------------------------


async def test_reactions_edits_and_deletes(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    alice = await person(session, devnet["A"], "alice4")
    bob = await person(session, devnet["B"], "bob4")
    await follow(alice, bob, devnet)
    note = await post(bob, "first version", to=[PUBLIC], cc=[f"{bob.actor}/followers"])
    await eventually(lambda: has_object(devnet["A"], note))
    like = await alice.outbox({"type": "Like", "object": note})
    await eventually(lambda: stored(devnet["B"], "SELECT 1 FROM likes WHERE object_uri = ?", note))
    boost = await alice.outbox({"type": "Announce", "object": note, "to": [PUBLIC]})
    await eventually(lambda: stored(devnet["B"], "SELECT 1 FROM objects WHERE boost_of = ?", note))
    await alice.outbox({"type": "Undo", "object": like})
    await alice.outbox({"type": "Undo", "object": boost})
    await eventually(lambda: _none(devnet["B"], "SELECT 1 FROM likes WHERE object_uri = ?", note))
    await eventually(lambda: _none(devnet["B"], "SELECT 1 FROM objects WHERE boost_of = ?", note))
    await bob.outbox({"type": "Update", "object": {"id": note, "type": "Note",
                                                     "content": "second version"}})  # fmt: skip
    await eventually(
        lambda: stored(
            devnet["A"],
            "SELECT 1 FROM objects WHERE uri = ? AND content LIKE ?",
            note,
            "%second version%",
        )
    )
    assert await stored(devnet["A"], "SELECT 1 FROM object_edits WHERE object_uri = ?", note)
    # Keep the Create as it was delivered, to replay it after the delete.
    create = (await stored(devnet["A"], "SELECT data FROM activities WHERE object_uri = ? "
                           "AND type = 'Create'", note))[0][0]  # fmt: skip
    await bob.outbox({"type": "Delete", "object": note})
    await eventually(lambda: _none(devnet["A"], "SELECT 1 FROM objects WHERE uri = ? AND "
                                   "deleted_at IS NULL", note))  # fmt: skip
    # An old copy arriving again (a new id, the same note) does not resurrect it.
    replay = json.loads(create)
    replay["id"] = f"{replay['id']}-again"
    await deliver_as(session, devnet["B"], "bob4", devnet["A"], replay)
    await eventually(lambda: job_done(devnet["A"], replay["id"]))
    assert not await has_object(devnet["A"], note)


async def _none(node: LocalNode, sql: str, *params: Any) -> bool:
    return not await stored(node, sql, *params)


async def deliver_as(
    session: aiohttp.ClientSession,
    origin: LocalNode,
    username: str,
    target: LocalNode,
    activity: dict[str, Any],
) -> None:
    """POST an activity to ``target``'s shared inbox, signed with the author's real key."""
    status = await signed_post(session, origin, username, target, activity)
    assert status == 202, status


# -- 5. followers-only and direct posts reach exactly their audience -------------------


async def test_private_and_direct_audiences(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    alice = await person(session, devnet["A"], "alice5")
    bob = await person(session, devnet["B"], "bob5")
    carol = await person(session, devnet["C"], "carol5")
    await follow(alice, bob, devnet)
    private = await post(bob, "followers only", to=[f"{bob.actor}/followers"])
    direct = await post(bob, "just for carol", to=[carol.actor])
    await eventually(lambda: has_object(devnet["A"], private))
    await eventually(lambda: has_object(devnet["C"], direct))
    await eventually(lambda: settled(devnet["B"], private))
    await eventually(lambda: settled(devnet["B"], direct))
    assert not await has_object(devnet["C"], private)
    assert not await has_object(devnet["A"], direct)


# -- 6. blocks -------------------------------------------------------------------------


async def test_blocking(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    bob = await person(session, devnet["B"], "bob6")
    carol = await person(session, devnet["C"], "carol6")
    await follow(carol, bob, devnet)
    note = await post(bob, "before the block", to=[PUBLIC], cc=[f"{bob.actor}/followers"])
    await eventually(lambda: has_object(devnet["C"], note))
    await bob.outbox({"type": "Block", "object": carol.actor})
    await eventually(lambda: _state_is_none(devnet["C"], carol.actor, bob.actor))
    assert await follow_state(devnet["B"], carol.actor, bob.actor) is None
    # carol's own server no longer lets her act on bob's posts...
    try:
        await carol.outbox({"type": "Like", "object": note})
        raise AssertionError("C let a blocked account like the blocker's post")
    except DevnetError as exc:
        assert "422" in str(exc)
    # ...and a Like that still arrives (a server that ignores blocks) is not shown to bob.
    like = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{carol.actor}#likes/after-block",
        "type": "Like",
        "actor": carol.actor,
        "object": note,
    }
    await deliver_as(session, devnet["C"], "carol6", devnet["B"], like)
    await eventually(lambda: job_done(devnet["B"], like["id"]))
    assert not await stored(
        devnet["B"],
        "SELECT 1 FROM notifications n JOIN accounts a ON a.id = n.account_id "
        "WHERE a.username = 'bob6' AND n.from_actor_uri = ? AND n.type = 'favourite'",
        carol.actor,
    )
    # bob's followers-only posts never reach C.
    private = await post(bob, "not for carol", to=[f"{bob.actor}/followers"])
    await eventually(lambda: settled(devnet["B"], private))
    assert not await has_object(devnet["C"], private)


async def _state_is_none(node: LocalNode, a: str, b: str) -> bool:
    return await follow_state(node, a, b) is None


# -- 7. outage ---------------------------------------------------------------------------


async def test_outage_is_healed_by_the_retry_queue(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    bob = await person(session, devnet["B"], "bob7")
    carol = await person(session, devnet["C"], "carol7")
    await follow(carol, bob, devnet)
    node_c = devnet["C"]
    node_c.stop()
    try:
        note = await post(bob, "posted while C was down", to=[PUBLIC],
                          cc=[f"{bob.actor}/followers"])  # fmt: skip
        # B tried and failed at least once.
        await eventually(
            lambda: stored(
                devnet["B"],
                "SELECT 1 FROM deliveries WHERE host = ? AND attempts > 0 AND state != 'done'",
                node_c.netloc,
            )
        )
    finally:
        node_c.start()
        await node_c.wait_ready(session)
    started = time.monotonic()
    await eventually(lambda: has_object(node_c, note), timeout=60)
    assert time.monotonic() - started < 60


# -- 8. account moves ---------------------------------------------------------------------


async def test_account_move_takes_followers_along(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]

    alice = await person(session, devnet["A"], "alice8")
    bob = await person(session, devnet["B"], "bob8")
    new_home = await person(session, devnet["C"], "alice8new")
    await follow(bob, alice, devnet)
    await asyncio.to_thread(
        run_cli, devnet["C"].config, "account", "alias", "alice8new", "--add", alice.actor
    )
    await asyncio.to_thread(
        run_cli, devnet["A"].config, "account", "move", "alice8", "--to", new_home.actor
    )
    await eventually(lambda: _accepted(bob, new_home), timeout=60)
    assert await follow_state(devnet["B"], bob.actor, alice.actor) is None


# -- 9. a crash of the receiving node ------------------------------------------------------


async def test_202s_survive_kill_9_of_the_receiver(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    alice = await person(session, devnet["A"], "alice9")
    node_a, node_c = devnet["A"], devnet["C"]

    def create(i: int) -> dict[str, Any]:
        note = {
            "id": f"{alice.actor}/crash-notes/{i}",
            "type": "Note",
            "attributedTo": alice.actor,
            "content": f"<p>before the crash {i}</p>",
            "to": [PUBLIC],
            "published": "2026-11-26T00:00:00Z",
        }
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note['id']}/activity",
            "type": "Create",
            "actor": alice.actor,
            "object": note,
            "to": [PUBLIC],
        }

    creates = [create(i) for i in range(60)]
    # All at once: most are answered 202 before the worker has processed them.
    await asyncio.gather(*(deliver_as(session, node_a, "alice9", node_c, c) for c in creates))
    node_c.stop(hard=True)  # SIGKILL, serving and worker process, right after the last 202
    node_c.start()
    await node_c.wait_ready(session)
    for c in creates:
        await eventually(lambda uri=c["object"]["id"]: has_object(node_c, uri), timeout=60)
