"""Polls through the Mastodon API and over ActivityPub: ours, and remote ones."""

from __future__ import annotations

from typing import Any

from agora_node.app import create_app
from agora_node.context import DB
from agora_node.protocol.vocab import PUBLIC
from agora_node.store import polls as polls_store
from tests.api.c2s_rig import (
    Node,
    account,
    add_follower,
    answer,
    auth,
    post_status,
    remote_note,
    settle,
    store_remote_actor,
    token_for,
    wait_for,
)
from tests.conftest import BASE_URL
from tests.federation.remote import AS, signed_post


async def _ask(node: Node, **extra: str) -> dict[str, Any]:
    form = {
        "status": "What shall we plant?",
        "poll[options][]": ["Tomatoes", "Beans", "Squash"],
        "poll[expires_in]": "3600",
        **extra,
    }
    resp = await node.client.post("/api/v1/statuses", data=form, headers=auth(node.token))
    return dict(await answer(resp))


async def _vote(node: Node, token: str, poll_id: str, *choices: str, status: int = 200) -> Any:
    resp = await node.client.post(
        f"/api/v1/polls/{poll_id}/votes", data={"choices[]": list(choices)}, headers=auth(token)
    )
    return await answer(resp, status)


async def test_a_local_poll_is_federated_voted_and_counted(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    bob_remote = a.add_actor("bob")
    add_follower(node.db, bob_remote)
    status = await _ask(node)
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == ["Tomatoes", "Beans", "Squash"]
    assert poll["votes_count"] == 0 and poll["expired"] is False and poll["multiple"] is False
    assert poll["voted"] is True  # the author's own poll counts as answered
    await settle(node)
    (created,) = [d.json() for d in a.deliveries() if d.json()["type"] == "Create"]
    question = created["object"]
    assert question["type"] == "Question" and [o["name"] for o in question["oneOf"]] == [
        "Tomatoes", "Beans", "Squash",
    ]  # fmt: skip
    assert question["endTime"] and question["votersCount"] == 0
    # A local voter.
    carl = token_for(node.db, account(node.db, node.settings, "carl"))
    voted = await _vote(node, carl, poll["id"], "1")
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1, 0]
    for bad in (["1"], ["0", "1"], ["7"], ["x"], []):
        await _vote(node, carl, poll["id"], *bad, status=422)
    # A remote vote, as Mastodon sends it: a named note to the poll's author.
    erin = a.add_actor("erin")
    store_remote_actor(node.db, erin)
    ballot = {
        "@context": AS, "id": erin.new_id(), "type": "Create", "actor": erin.uri,
        "to": [f"{BASE_URL}/users/alice"],
        "object": {
            "id": erin.new_id(), "type": "Note", "attributedTo": erin.uri, "name": "Tomatoes",
            "inReplyTo": status["uri"], "to": [f"{BASE_URL}/users/alice"],
        },
    }  # fmt: skip
    raw, headers = signed_post(erin, f"{BASE_URL}/users/alice/inbox", ballot)
    assert (await node.client.post("/users/alice/inbox", data=raw, headers=headers)).status == 202

    async def counts() -> list[int]:
        body = await answer(await node.client.get(f"/api/v1/polls/{poll['id']}"))
        return [o["votes_count"] for o in body["options"]]

    await wait_for(counts, expect=[1, 1, 0])
    assert await node.rows("SELECT count(*) FROM objects WHERE in_reply_to = ?", status["uri"]) == [
        (0,)
    ]  # a vote is not a reply
    await settle(node)
    updates = [d.json() for d in a.deliveries() if d.json()["type"] == "Update"]
    totals = [o["replies"]["totalItems"] for o in updates[-1]["object"]["oneOf"]]
    assert totals == [1, 1, 0] and updates[-1]["object"]["votersCount"] == 2
    # The note at its id shows the totals too.
    doc = await (await node.get(status["uri"])).json(content_type=None)
    assert [o["replies"]["totalItems"] for o in doc["oneOf"]] == [1, 1, 0]
    # A second remote vote by the same voter on a one-choice poll is ignored.
    again = {**ballot, "id": erin.new_id(), "object": {**ballot["object"], "id": erin.new_id(),
             "name": "Beans"}}  # fmt: skip
    raw, headers = signed_post(erin, f"{BASE_URL}/users/alice/inbox", again)
    assert (await node.client.post("/users/alice/inbox", data=raw, headers=headers)).status == 202
    await settle(node)
    assert await counts() == [1, 1, 0]


async def test_poll_options_hidden_totals_and_bad_polls(node) -> None:  # type: ignore[no-untyped-def]
    several = await _ask(node, **{"poll[multiple]": "true", "poll[hide_totals]": "true"})
    carl = token_for(node.db, account(node.db, node.settings, "carl"))
    voted = await _vote(node, carl, several["poll"]["id"], "0", "2")
    assert voted["own_votes"] == [0, 2] and voted["multiple"] is True
    assert [o["votes_count"] for o in voted["options"]] == [None, None, None]
    own_view = await answer(
        await node.client.get(f"/api/v1/polls/{several['poll']['id']}", headers=auth(node.token))
    )
    assert [o["votes_count"] for o in own_view["options"]] == [1, 0, 1]
    assert own_view["voters_count"] == 1
    bad_polls: list[dict[str, Any]] = [
        {"poll": {"options": ["only one"], "expires_in": 3600}},
        {"poll": {"options": ["a", "b", "c", "d", "e"], "expires_in": 3600}},
        {"poll": {"options": ["a", "a"], "expires_in": 3600}},
        {"poll": {"options": ["a", "x" * 51], "expires_in": 3600}},
        {"poll": {"options": ["a", "b"], "expires_in": 10}},
        {"poll": {"options": ["a", "b"]}},
        {"poll": {"options": "a,b", "expires_in": "soon"}},
        {"poll": ["a", "b"]},
    ]
    for body in bad_polls:
        resp = await node.client.post(
            "/api/v1/statuses", json={"status": "q", **body}, headers=auth(node.token)
        )
        assert resp.status == 422, (body, await resp.text())
    instance = await answer(await node.client.get("/api/v2/instance"))
    assert instance["configuration"]["polls"]["max_options"] == 4
    assert (await node.client.get("/api/v1/polls/99999")).status == 404
    plain = await answer(
        await node.client.post("/api/v1/statuses", data={"status": "no poll"}, headers=auth(carl))
    )
    await _vote(node, node.token, plain["id"], "0", status=422)


async def test_a_remote_poll_is_shown_and_votes_go_to_its_author(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    dan = a.add_actor("dan")
    store_remote_actor(node.db, dan)
    question = remote_note(
        a, dan, type="Question", content="<p>Rain tomorrow?</p>",
        anyOf=[
            {"type": "Note", "name": "Yes", "replies": {"type": "Collection", "totalItems": 3}},
            {"type": "Note", "name": "No", "replies": {"type": "Collection", "totalItems": 1}},
        ],
        endTime="2999-01-01T00:00:00Z", votersCount=3, to=[PUBLIC],
    )  # fmt: skip
    found = await answer(
        await node.client.get(
            f"/api/v2/search?q={question['id']}&resolve=true", headers=auth(node.token)
        )
    )
    (status,) = found["statuses"]
    poll = status["poll"]
    assert [o["votes_count"] for o in poll["options"]] == [3, 1]
    assert poll["voters_count"] == 3 and poll["multiple"] is True and poll["voted"] is False
    voted = await _vote(node, node.token, poll["id"], "0", "1")
    assert voted["voted"] is True and voted["own_votes"] == [0, 1]
    await settle(node)
    ballots = [d.json() for d in a.deliveries() if d.path == "/users/dan/inbox"]
    assert sorted(b["object"]["name"] for b in ballots) == ["No", "Yes"]
    for ballot in ballots:
        assert ballot["type"] == "Create" and ballot["object"]["inReplyTo"] == question["id"]
        assert ballot["to"] == [dan.uri] and "content" not in ballot["object"]
    await _vote(node, node.token, poll["id"], "0", status=422)


async def test_editing_a_poll_replaces_it_and_its_votes(node) -> None:  # type: ignore[no-untyped-def]
    status = await _ask(node)
    carl = token_for(node.db, account(node.db, node.settings, "carl"))
    await _vote(node, carl, status["poll"]["id"], "0")
    one = f"/api/v1/statuses/{status['id']}"
    kept = await answer(
        await node.client.put(one, data={"status": "What now?"}, headers=auth(node.token))
    )
    assert [o["votes_count"] for o in kept["poll"]["options"]] == [1, 0, 0]
    changed = await answer(
        await node.client.put(
            one,
            json={"status": "What now?", "poll": {"options": ["Tea", "Coffee"], "expires_in": 900}},
            headers=auth(node.token),
        )
    )
    assert [o["title"] for o in changed["poll"]["options"]] == ["Tea", "Coffee"]
    assert [o["votes_count"] for o in changed["poll"]["options"]] == [0, 0]
    again = await _vote(node, carl, status["poll"]["id"], "1")
    assert again["own_votes"] == [1]
    plain = await post_status(node, node.token, status="no poll yet")
    added = await answer(
        await node.client.put(
            f"/api/v1/statuses/{plain['id']}",
            json={"status": "no poll yet", "poll": {"options": ["a", "b"], "expires_in": 600}},
            headers=auth(node.token),
        )
    )
    assert [o["title"] for o in added["poll"]["options"]] == ["a", "b"]
    bad = await node.client.put(
        one, json={"status": "x", "poll": {"options": ["only"], "expires_in": 600}},
        headers=auth(node.token),
    )  # fmt: skip
    assert bad.status == 422


async def test_the_author_and_the_voters_hear_when_a_poll_ends(node, aiohttp_client) -> None:  # type: ignore[no-untyped-def]
    status = await _ask(node)
    carl = token_for(node.db, account(node.db, node.settings, "carl"))
    dora = token_for(node.db, account(node.db, node.settings, "dora"))  # never votes
    await _vote(node, carl, status["poll"]["id"], "1")
    ends = node.db.read_sync(lambda c: polls_store.ended_unannounced(c, 4e9, 10))
    assert status["uri"] in ends  # tracked, not yet due
    node.db.write_sync(
        lambda c: c.execute("UPDATE poll_ends SET ends_at = 1 WHERE poll_uri = ?", [status["uri"]])
    )
    await node.client.close()  # the node starts again: its first sweep finds the ended poll
    again = await aiohttp_client(create_app(node.settings))

    async def polls_heard(token: str) -> list[dict[str, Any]]:
        resp = await again.get("/api/v1/notifications?types[]=poll", headers=auth(token))
        return list(await resp.json())

    async def alice_heard() -> list[tuple[str, str]]:
        return [(n["type"], n["status"]["id"]) for n in await polls_heard(node.token)]

    await wait_for(alice_heard, expect=[("poll", status["id"])])
    assert [n["type"] for n in await polls_heard(carl)] == ["poll"]
    assert await polls_heard(dora) == []
    # announced once
    assert again.server.app[DB].read_sync(lambda c: polls_store.ended_unannounced(c, 4e9, 10)) == []
