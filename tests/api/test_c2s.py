"""C2S end to end: a real token, the real app, fake remote servers on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.protocol.validation import validate_activity
from agora_node.store import objects as objects_store
from agora_node.store import social
from tests.api.c2s_rig import (
    AS,
    PUBLIC,
    account,
    actor_key_pem,
    add_follower,
    remote_note,
    settle,
    signed_get_headers,
    store_remote_actor,
    token_for,
    verify_delivery,
    wait_for,
)
from tests.conftest import BASE_URL
from tests.federation.remote import signed_post

ALICE = f"{BASE_URL}/users/alice"
FOLLOWERS = f"{ALICE}/followers"


def note(content: str, to: list[str], cc: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "Note", "content": content, "to": to, "cc": cc or [], **extra}


def create(obj: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"@context": AS, "type": "Create", "object": obj, **extra}


async def test_public_post_is_delivered_once_per_shared_inbox_signed(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    bob, bea = a.add_actor("bob"), a.add_actor("bea")
    add_follower(node.db, bob)
    add_follower(node.db, bea)
    body = create(
        note(
            "<p>ignored: the plain-text source wins</p>",
            [PUBLIC],
            source={
                "content": "Hello #Fediverse, see https://example.org/a?b=1&c=2 <script>x</script>",
                "mediaType": "text/plain",
            },
        ),
        id="https://evil.example/forged",
        actor="https://evil.example/users/mallory",
        published="1999-01-01T00:00:00Z",
    )
    location = await node.send(body)
    assert location.startswith(f"{ALICE}/activities/")
    await settle(node)
    posts = a.deliveries()
    assert len(posts) == 1 and posts[0].path == "/inbox"
    verify_delivery(a, posts[0], await actor_key_pem(node))
    activity = posts[0].json()
    validate_activity(activity)
    assert activity["id"] == location and activity["actor"] == ALICE
    assert activity["published"] != "1999-01-01T00:00:00Z"
    obj = activity["object"]
    assert obj["type"] == "Note" and obj["attributedTo"] == ALICE
    assert obj["id"].startswith(f"{ALICE}/statuses/")
    assert obj["to"] == [PUBLIC] and obj["cc"] == [FOLLOWERS]
    assert activity["to"] == [PUBLIC] and activity["cc"] == [FOLLOWERS]
    assert "<script>" not in obj["content"] and "&lt;script&gt;" in obj["content"]
    assert 'href="https://example.org/a?b=1&amp;c=2"' in obj["content"]
    assert {"type": "Hashtag", "href": f"{BASE_URL}/tags/fediverse", "name": "#fediverse"} in obj[
        "tag"
    ]
    assert obj["url"].startswith(f"{BASE_URL}/@alice/")
    # Served at its ids, as JSON and as a page.
    served = await (await node.get(obj["id"])).json(content_type=None)
    assert served["id"] == obj["id"] and served["content"] == obj["content"]
    got = await (await node.get(location)).json(content_type=None)
    assert got["id"] == location and got["object"]["id"] == obj["id"]
    page = await node.get(obj["url"], accept="text/html")
    assert page.status == 200 and "&lt;script&gt;" in await page.text()
    # The outbox lists it.
    first = await (await node.get(f"{ALICE}/outbox?page=true")).json(content_type=None)
    assert [item["id"] for item in first["orderedItems"]] == [location]


async def test_followers_only_post_reaches_followers_and_mentioned_only(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b, c = remotes
    bob, carol, dave = a.add_actor("bob"), b.add_actor("carol"), c.add_actor("dave")
    add_follower(node.db, bob)
    store_remote_actor(node.db, dave)  # known, but neither following nor mentioned
    location = await node.send(create(note(f"for friends and {b.handle(carol)}", [FOLLOWERS])))
    await settle(node)
    assert len(a.deliveries()) == 1 and len(b.deliveries()) == 1
    assert c.deliveries() == []
    activity = b.deliveries()[0].json()
    obj = activity["object"]
    assert obj["to"] == [FOLLOWERS] and obj["cc"] == [carol.uri]
    assert PUBLIC not in str(activity)
    assert {"type": "Mention", "href": carol.uri, "name": f"@carol@{b.netloc}"} in obj["tag"]
    assert f'href="{carol.uri}"' in obj["content"] or "u-url mention" in obj["content"]
    # Not for anyone else to read: 404 anonymously, shown to its author and to a follower.
    assert (await node.get(obj["id"])).status == 404
    assert (await node.get(location)).status == 404
    assert (await node.get(obj["id"], token=node.token)).status == 200
    url = obj["id"]
    for actor, status in ((bob, 200), (carol, 200), (dave, 404)):
        headers = signed_get_headers(actor, url)
        resp = await node.client.get(url.replace(BASE_URL, ""), headers=headers)
        assert resp.status == status, actor.username
    anon = await (await node.get(f"{ALICE}/outbox")).json(content_type=None)
    assert anon["totalItems"] == 0
    owner = await (await node.get(f"{ALICE}/outbox", token=node.token)).json(content_type=None)
    assert owner["totalItems"] == 1


async def test_direct_post_goes_to_the_mentioned_only(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = remotes
    bob, carol = a.add_actor("bob"), b.add_actor("carol")
    add_follower(node.db, bob)
    await node.send(create(note(f"psst {b.handle(carol)}", [])))
    await settle(node)
    assert a.deliveries() == []
    (received,) = b.deliveries()
    obj = received.json()["object"]
    assert obj["to"] == [carol.uri] and obj["cc"] == []
    assert PUBLIC not in str(received.json()) and FOLLOWERS not in str(received.json())


async def test_reply_fetches_the_parent_and_adds_its_author(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = remotes
    bob, carol = a.add_actor("bob"), b.add_actor("carol")
    add_follower(node.db, bob)
    parent = remote_note(b, carol)
    await node.send(create(note("I agree", [PUBLIC], inReplyTo=parent["id"])))
    await settle(node)
    assert len(a.deliveries()) == 1 and len(b.deliveries()) == 1
    obj = b.deliveries()[0].json()["object"]
    assert obj["inReplyTo"] == parent["id"] and carol.uri in obj["cc"]
    stored = await node.db.read(lambda c: objects_store.get_object(c, parent["id"]))
    assert stored is not None and stored.actor_uri == carol.uri


async def test_edit_sends_update_and_keeps_history(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a = remotes[0]
    add_follower(node.db, a.add_actor("bob"))
    await node.send(create(note("first version", [PUBLIC])))
    await settle(node)
    note_id = a.deliveries()[0].json()["object"]["id"]
    update = {
        "type": "Update",
        "object": {"id": note_id, "type": "Note", "content": "second version", "summary": "cw"},
    }
    await node.send(update)
    await settle(node)
    sent = a.deliveries()[1].json()
    assert sent["type"] == "Update" and sent["object"]["id"] == note_id
    assert "second version" in sent["object"]["content"] and sent["object"]["updated"]
    assert sent["object"]["summary"] == "cw" and sent["object"]["sensitive"] is True
    assert sent["to"] == [PUBLIC] and sent["cc"] == [FOLLOWERS]
    history = await node.db.read(lambda c: objects_store.object_history(c, note_id))
    assert len(history) == 1 and "first version" in history[0]["content"]
    served = await (await node.get(note_id)).json(content_type=None)
    assert "second version" in served["content"]
    outbox = await (await node.get(f"{ALICE}/outbox?page=true")).json(content_type=None)
    assert "second version" in outbox["orderedItems"][0]["object"]["content"]
    # Someone else's post, or an unchanged one, is refused.
    again = await node.outbox(update)
    assert again.status == 422


async def test_delete_sends_delete_and_leaves_a_tombstone(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a = remotes[0]
    add_follower(node.db, a.add_actor("bob"))
    await node.send(create(note("soon gone", [PUBLIC])))
    await settle(node)
    note_id = a.deliveries()[0].json()["object"]["id"]
    create_id = a.deliveries()[0].json()["id"]
    await node.send({"type": "Delete", "object": note_id})
    await settle(node)
    sent = a.deliveries()[1].json()
    assert sent["type"] == "Delete" and sent["object"] == {"id": note_id, "type": "Tombstone"}
    gone = await node.get(note_id)
    assert gone.status == 410
    assert (await gone.json(content_type=None))["type"] == "Tombstone"
    assert (await node.get(note_id, accept="text/html")).status == 410
    assert (await node.get(create_id)).status == 410
    assert (await (await node.get(f"{ALICE}/outbox")).json(content_type=None))["totalItems"] == 0
    assert (await node.outbox({"type": "Delete", "object": note_id})).status == 410


async def test_like_and_boost_and_their_undo(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = remotes
    add_follower(node.db, a.add_actor("bob"))
    carol = b.add_actor("carol")
    post = remote_note(b, carol)
    like_id = await node.send({"type": "Like", "object": post["id"]})
    await settle(node)
    (liked,) = b.deliveries()
    assert liked.path == "/users/carol/inbox" and liked.json()["type"] == "Like"
    assert a.deliveries() == []
    assert (await node.outbox({"type": "Like", "object": post["id"]})).status == 422
    await node.send({"type": "Undo", "object": like_id})
    await settle(node)
    undo = b.deliveries()[1].json()
    assert undo["type"] == "Undo" and undo["object"]["id"] == like_id
    likes = await node.rows("SELECT count(*) FROM likes")
    assert likes[0][0] == 0

    boost_id = await node.send({"type": "Announce", "object": post["id"]})
    await settle(node)
    boost = b.deliveries()[2].json()
    assert boost["type"] == "Announce" and boost["to"] == [PUBLIC]
    assert carol.uri in boost["cc"] and FOLLOWERS in boost["cc"]
    assert a.deliveries()[0].json()["id"] == boost_id
    outbox = await (await node.get(f"{ALICE}/outbox?page=true")).json(content_type=None)
    assert [i["id"] for i in outbox["orderedItems"]] == [boost_id]
    await node.send({"type": "Undo", "object": {"type": "Announce", "object": post["id"]}})
    await settle(node)
    assert a.deliveries()[1].json()["type"] == "Undo"
    assert b.deliveries()[3].json()["object"]["id"] == boost_id
    assert (await node.get(boost_id)).status == 410
    assert await node.rows("SELECT count(*) FROM objects WHERE boost_of IS NOT NULL") == [(0,)]


async def test_undone_boost_leaves_the_outbox(node, remotes) -> None:  # type: ignore[no-untyped-def]
    b = remotes[1]
    post = remote_note(b, b.add_actor("carol"))
    boost_id = await node.send({"type": "Announce", "object": post["id"]})
    await node.send({"type": "Undo", "object": boost_id})
    assert (await (await node.get(f"{ALICE}/outbox")).json(content_type=None))["totalItems"] == 0


async def test_follow_by_handle_through_webfinger(node, remotes) -> None:  # type: ignore[no-untyped-def]
    b = remotes[1]
    carol = b.add_actor("carol")
    follow_id = await node.send({"type": "Follow", "object": b.handle(carol)})
    await settle(node)
    assert len(b.webfinger_requests()) == 1
    (sent,) = b.deliveries()
    assert sent.path == "/users/carol/inbox"
    assert sent.json()["object"] == carol.uri and sent.json()["id"] == follow_id
    state = await node.rows("SELECT state FROM follows WHERE followee_uri = ?", carol.uri)
    assert state == [("pending",)]
    # carol accepts
    accept = {
        "@context": AS,
        "id": carol.new_id(),
        "type": "Accept",
        "actor": carol.uri,
        "object": follow_id,
    }
    raw, headers = signed_post(carol, f"{BASE_URL}/users/alice/inbox", accept)
    assert (await node.client.post("/users/alice/inbox", data=raw, headers=headers)).status == 202

    await wait_for(
        lambda: node.rows("SELECT state FROM follows WHERE followee_uri = ?", carol.uri),
        expect=[("accepted",)],
    )
    # A second lookup uses the stored actor: no new WebFinger.
    assert (await node.outbox({"type": "Follow", "object": b.handle(carol)})).status == 409
    assert len(b.webfinger_requests()) == 1
    await node.send({"type": "Undo", "object": follow_id})
    await settle(node)
    assert b.deliveries()[1].json()["type"] == "Undo"
    assert await node.rows("SELECT * FROM follows") == []


async def test_block_ends_follows_and_followers_only_delivery(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a = remotes[0]
    bob = a.add_actor("bob")
    add_follower(node.db, bob)
    node.db.write_sync(lambda c: social.put_follow(c, ALICE, bob.uri, None, "accepted", 0))
    block_id = await node.send({"type": "Block", "object": a.handle(bob)})
    await settle(node)
    (sent,) = a.deliveries()
    assert sent.path == "/users/bob/inbox" and sent.json()["type"] == "Block"
    assert await node.rows("SELECT * FROM follows") == []
    await node.send(create(note("friends only", [FOLLOWERS])))
    await settle(node)
    assert len(a.deliveries()) == 1
    await node.send({"type": "Undo", "object": block_id})
    await settle(node)
    assert a.deliveries()[1].json()["type"] == "Undo"
    assert await node.rows("SELECT * FROM blocks") == []


async def test_home_timeline_is_the_owners_inbox(node, remotes) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    node.db.write_sync(lambda c: social.put_follow(c, ALICE, bob.actor.uri, None, "accepted", 0))  # type: ignore[union-attr]
    carl = account(node.db, node.settings, "carl")
    bob_token = token_for(node.db, bob)
    carl_token = token_for(node.db, carl)
    own = await node.send(create(note("mine", [PUBLIC])))
    followed = await node.send(create(note("bob here", [PUBLIC])), token=bob_token, user="bob")
    await node.send(create(note("carl in public", [PUBLIC])), token=carl_token, user="carl")
    dm = await node.send(create(note("hi @alice", [])), token=carl_token, user="carl")
    resp = await node.get(f"{ALICE}/inbox?page=true", token=node.token)
    assert resp.status == 200
    items = [i["id"] for i in (await resp.json(content_type=None))["orderedItems"]]
    assert items == [dm, followed, own]
    assert (await node.get(f"{ALICE}/inbox", token=bob_token)).status == 403
    assert (await node.get(f"{ALICE}/inbox")).status == 401


async def test_inbox_and_mastodon_home_list_the_same_timeline(node, remotes) -> None:  # type: ignore[no-untyped-def]
    """Both APIs page one home query: same posts, same order; boosts as Announces,
    edited posts as they are now, the count matching what the pages hold."""
    b, _, _ = remotes
    carol = b.add_actor("carol")
    post = remote_note(b, carol)
    bob = account(node.db, node.settings, "bob")
    node.db.write_sync(lambda c: social.put_follow(c, ALICE, bob.actor.uri, None, "accepted", 0))  # type: ignore[union-attr]
    bob_token = token_for(node.db, bob)
    own = await node.send(create(note("mine", [PUBLIC])))
    boosted = await node.send(
        {"type": "Announce", "object": post["id"]}, token=bob_token, user="bob"
    )
    followed = await node.send(create(note("bob here", [PUBLIC])), token=bob_token, user="bob")
    created = await (await node.get(followed)).json(content_type=None)
    source = {"content": "bob, edited", "mediaType": "text/plain"}
    edit = {"type": "Update", "object": {**created["object"], "source": source}}
    await node.send(edit, token=bob_token, user="bob")
    await settle(node)
    inbox = await (await node.get(f"{ALICE}/inbox", token=node.token)).json(content_type=None)
    assert inbox["totalItems"] == 3
    resp = await node.get(f"{ALICE}/inbox?page=true", token=node.token)
    items = (await resp.json(content_type=None))["orderedItems"]
    assert [i["id"] for i in items] == [followed, boosted, own]
    assert [i["type"] for i in items] == ["Create", "Announce", "Create"]
    assert "bob, edited" in items[0]["object"]["content"]
    home = await node.get("/api/v1/timelines/home", token=node.token, accept="application/json")
    statuses = await home.json()
    assert [s["uri"] for s in statuses] == [
        created["object"]["id"],
        boosted,
        items[2]["object"]["id"],
    ]
    assert statuses[1]["reblog"]["uri"] == post["id"]


async def test_authorisation(node, remotes) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    before = await node.counts()
    hello = create(note("hello", [PUBLIC]))
    assert (await node.outbox(hello, token="")).status == 401
    assert (await node.outbox(hello, token="not-a-token")).status == 401
    mine = await node.outbox(hello, token=token_for(node.db, bob))
    assert mine.status == 403 and "your" in (await mine.json())["error"]
    reader = token_for(node.db, node.alice, "read")
    narrow = await node.outbox(hello, token=reader)
    assert narrow.status == 403 and (await narrow.json())["scope"] == "write:statuses"
    likes_only = token_for(node.db, node.alice, "write:favourites")
    assert (await node.outbox(hello, token=likes_only)).status == 403
    follows_only = token_for(node.db, node.alice, "follow")
    assert (await node.outbox(hello, token=follows_only)).status == 403
    assert await node.counts() == before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"type": "Note", "content": "x", "a": ' + b"[" * 40 + b"]" * 40 + b"}", 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
        (b'{"content": "no type"}', 400),
        (
            b'{"type": "Move", "object": "https://x.example/u", "target": "https://y.example/u"}',
            422,
        ),
        (b'{"type": "Create", "object": {"type": "Article", "content": "x", "to": []}}', 422),
        (b'{"type": "Note", "content": "x", "inReplyTo": "javascript:alert(1)"}', 400),
        (b'{"type": "Note", "content": "x", "to": ["not a uri"]}', 400),
        (b'{"type": "Note", "content": "", "to": []}', 422),
        (b'{"type": "Note", "content": "' + b"x" * 100_001 + b'"}', 400),
        (b'{"type": "Note", "content": "' + b"x" * 5001 + b'"}', 422),
        (b'{"type": "Note", "content": "x", "tag": [{"type": "Mention"}]}', 400),
        (b'{"type": "Like", "object": "https://127.0.0.1:1/none"}', 422),
        (b'{"type": "Follow", "object": "@nobody@invalid..host"}', 422),
        (b'{"type": "Delete", "object": "https://agora.test/users/alice/statuses/nope"}', 404),
        (b'{"type": "Undo", "object": "https://agora.test/users/alice/activities/nope"}', 404),
    ],
)
async def test_bad_bodies_store_nothing(node, body: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    before = await node.counts()
    resp = await node.outbox(None, raw=body)
    assert resp.status == status, await resp.text()
    assert "error" in await resp.json()
    assert await node.counts() == before


async def test_wrong_content_type_and_unknown_account(node) -> None:  # type: ignore[no-untyped-def]
    resp = await node.client.post(
        "/users/alice/outbox",
        data=b"content=hi",
        headers={
            "Authorization": f"Bearer {node.token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert resp.status == 415
    assert (await node.outbox({"type": "Note", "content": "x"}, user="nobody")).status == 404


async def test_bare_note_is_wrapped_and_local_mentions_notify(node) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    location = await node.send({"type": "Note", "content": "hey @bob", "to": [], "cc": []})
    activity = await (await node.get(location, token=node.token)).json(content_type=None)
    assert activity["type"] == "Create" and activity["object"]["to"] == [bob.actor.uri]  # type: ignore[union-attr]
    notes = await node.rows("SELECT type, account_id FROM notifications")
    assert notes == [("mention", bob.id)]
    deliveries = await node.rows("SELECT count(*) FROM deliveries")
    assert deliveries == [(0,)]
