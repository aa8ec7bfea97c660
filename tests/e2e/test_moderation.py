"""Domain moderation between real node processes (A blocks B, limits C).

The admin of A acts through the CLI while A runs; A's serving process and its
worker process take the change within seconds. Forged, signed input comes
from B's real keys; every assertion reads what each node stored or answers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from agora_node.devnet import Devnet, LocalNode, run_cli
from tests.e2e.conftest import PUBLIC, eventually, person, signed_post, stored
from tests.e2e.test_town_square import follow, follow_state, has_object, post, settled

pytestmark = pytest.mark.e2e


def note_for(author: str, to: list[str], n: int) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{author}/activities/forged-{n}",
        "type": "Create",
        "actor": author,
        "to": to,
        "object": {
            "id": f"{author}/notes/forged-{n}", "type": "Note", "attributedTo": author,
            "content": f"forged {n}", "to": to,
            "tag": [{"type": "Mention", "href": t} for t in to if t != PUBLIC],
        },
    }  # fmt: skip


async def test_a_suspended_server_is_cut_off_and_comes_back(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    a, b, c = devnet["A"], devnet["B"], devnet["C"]
    alice = await person(session, a, "alice")
    bob = await person(session, b, "bob")
    dave = await person(session, b, "dave")  # on B, unknown to A
    carol = await person(session, c, "carol")
    await follow(bob, alice, devnet)
    await follow(carol, alice, devnet)

    out = await asyncio.to_thread(
        run_cli, a.config, "domain", "block", b.host, "--private-comment", "spam wave"
    )
    assert out.startswith(f"blocked {b.host} (suspend): ") and ", 1 follows ended" in out
    assert await stored(a, "SELECT suspended_at FROM actors WHERE uri = ?", bob.actor) != [(None,)]
    # A's processes take the rule: B's signed deliveries get 403, before any fetch.
    tries = iter(range(1000))

    async def refused() -> bool:
        n = next(tries)
        return await signed_post(session, b, "bob", a, note_for(bob.actor, [alice.actor], n)) == 403

    await eventually(refused)  # (what came in the seconds before it took is kept)
    count = "SELECT count(*) FROM objects WHERE actor_uri = ?"
    kept = await stored(a, count, bob.actor)
    forged = note_for(bob.actor, [alice.actor], 9999)
    assert await signed_post(session, b, "bob", a, forged) == 403
    assert await stored(a, count, bob.actor) == kept
    assert not await stored(a, "SELECT 1 FROM objects WHERE uri = ?", forged["object"]["id"])
    # bob's own server hears 403 too, and gives up rather than retrying.
    mention = await post(bob, f"hey @alice@{a.netloc}", to=[alice.actor])
    await eventually(lambda: settled(b, mention))
    assert not await has_object(a, mention)
    # A sends nothing to B: alice's public post reaches carol on C, never B.
    hello = await post(alice, "hello, friends", to=[PUBLIC], cc=[f"{alice.actor}/followers"])
    await eventually(lambda: has_object(c, hello))
    await eventually(lambda: settled(a, hello))
    assert not await has_object(b, hello)
    assert not await stored(
        a, "SELECT 1 FROM deliveries WHERE host = ? AND state = 'done' AND activity_uri IN "
        "(SELECT uri FROM activities WHERE object_uri = ?)", b.netloc, hello,
    )  # fmt: skip
    # Nor does it look B's people up: a search that would resolve finds nothing.
    found = await alice.get("/api/v2/search", q=f"@{dave.handle}", resolve="true")
    assert found["accounts"] == []
    assert not await stored(a, "SELECT 1 FROM actors WHERE uri = ?", dave.actor)
    # The log names the action and the reason.
    log = await asyncio.to_thread(run_cli, a.config, "audit", "--json")
    assert json.loads(log)[0]["action"] == "domain_block"
    assert json.loads(log)[0]["reason"] == "spam wave"

    # Lifted: bob is no longer marked, and alice's follow of him goes out and is
    # accepted (B still has bob following alice: a cut is silent, as on Mastodon).
    await asyncio.to_thread(run_cli, a.config, "domain", "unblock", b.host)
    await eventually(
        lambda: _status_is(session, b, "bob", a, note_for(bob.actor, [alice.actor], 5000), 202)
    )
    assert await stored(a, "SELECT suspended_at FROM actors WHERE uri = ?", bob.actor) == [(None,)]
    await follow(alice, bob, devnet)
    assert await follow_state(a, alice.actor, bob.actor) == "accepted"


async def _status_is(
    session: aiohttp.ClientSession, origin: LocalNode, username: str, target: LocalNode,
    activity: dict[str, Any], status: int,
) -> bool:  # fmt: skip
    return await signed_post(session, origin, username, target, activity) == status


async def _in_timeline(who: Any, name: str, uri: str) -> bool:
    statuses = await who.get(f"/api/v1/timelines/{name}", limit=40)
    return uri in [s["uri"] for s in statuses]


async def test_a_silenced_server_reaches_followers_only(devnet: Devnet, session) -> None:  # type: ignore[no-untyped-def]
    a, c = devnet["A"], devnet["C"]
    erin = await person(session, a, "erin")
    fay = await person(session, a, "fay")
    gus = await person(session, c, "gus")
    await follow(erin, gus, devnet)  # erin follows gus; fay does not
    await asyncio.to_thread(run_cli, a.config, "domain", "block", c.host, "--severity", "silence")
    marked = await stored(a, "SELECT silenced_at FROM actors WHERE uri = ?", gus.actor)
    assert marked and marked[0][0] is not None
    # gus posts in public mentioning fay, who does not follow him.
    note = await post(
        gus, f"hello @fay@{a.netloc}", to=[PUBLIC, fay.actor], cc=[f"{gus.actor}/followers"]
    )
    await eventually(lambda: has_object(a, note))
    # His follower erin sees it at home; it stays out of A's public timeline for fay,
    # and fay is not notified of the mention.
    await eventually(lambda: _in_timeline(erin, "home", note))
    public = await fay.get("/api/v1/timelines/public", limit=40)
    assert note not in [s["uri"] for s in public]
    notes = await fay.get("/api/v1/notifications")
    assert all(not n["account"]["acct"].startswith("gus@") for n in notes)
    assert all(n.get("status", {}).get("uri") != note for n in notes)
    # Federation itself goes on: erin's reply reaches gus on C.
    reply = await post(erin, "hi gus", to=[gus.actor], inReplyTo=note)
    await eventually(lambda: has_object(c, reply))


async def test_a_report_is_forwarded_to_the_reported_accounts_server(
    devnet: Devnet, session
) -> None:  # type: ignore[no-untyped-def]
    a, b = devnet["A"], devnet["B"]
    ria = await person(session, a, "ria")
    ben = await person(session, b, "ben")
    found = await ria.get("/api/v2/search", q=f"@{ben.handle}", resolve="true")
    (account,) = found["accounts"]
    resp = await session.post(
        f"{a.base_url}/api/v1/reports",
        data={"account_id": account["id"], "comment": "spamming replies", "forward": "true",
              "category": "spam"},
        headers=ria.headers,
    )  # fmt: skip
    assert resp.status == 200, await resp.text()
    # B's queue has it, from A's instance actor (ria is not named), about ben.
    rows = await eventually(
        lambda: stored(b, "SELECT reporter_uri, target_uri, content, local FROM reports")
    )
    assert rows == [(f"{a.base_url}/actor", ben.actor, "spamming replies", 0)]
    listed = await asyncio.to_thread(run_cli, b.config, "report", "list")
    assert "[from another server]" in listed and ben.actor in listed
    # And the other way: ben reports ria, A's queue gets B's Flag.
    found = await ben.get("/api/v2/search", q=f"@{ria.handle}", resolve="true")
    (back,) = found["accounts"]
    resp = await session.post(
        f"{b.base_url}/api/v1/reports",
        data={"account_id": back["id"], "comment": "rude", "forward": "true"},
        headers=ben.headers,
    )
    assert resp.status == 200, await resp.text()
    came = await eventually(
        lambda: stored(a, "SELECT reporter_uri, target_uri, content FROM reports WHERE local = 0")
    )
    assert came == [(f"{b.base_url}/actor", ria.actor, "rude")]
