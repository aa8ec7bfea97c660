"""Statuses through the Mastodon API on a live app: post, read, delete, thread, marks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.c2s_rig import (
    Node,
    account,
    add_follower,
    remote_note,
    settle,
    token_for,
)
from tests.conftest import BASE_URL


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _post(node: Node, token: str | None = None, **form: Any) -> Any:
    headers = _auth(token or node.token)
    return await node.client.post("/api/v1/statuses", data=form, headers=headers)


async def _status(node: Node, **form: Any) -> dict[str, Any]:
    resp = await _post(node, **form)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_post_read_and_federate(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    add_follower(node.db, a.add_actor("bob"))
    status = await _status(node, status="Hello <town> #square", spoiler_text="cw")
    assert status["account"]["acct"] == "alice" and status["visibility"] == "public"
    assert "&lt;town&gt;" in status["content"] and status["spoiler_text"] == "cw"
    assert status["sensitive"] is True and status["tags"][0]["name"] == "square"
    assert status["uri"].startswith(f"{BASE_URL}/users/alice/statuses/")
    await settle(node)
    (delivered,) = a.inbox_posts()
    assert delivered["type"] == "Create" and delivered["object"]["id"] == status["uri"]
    got = await node.client.get(f"/api/v1/statuses/{status['id']}")
    assert got.status == 200 and (await got.json())["id"] == status["id"]
    as_json = await node.client.post(
        "/api/v1/statuses",
        json={"status": "from a web app", "visibility": "unlisted", "sensitive": True},
        headers=_auth(node.token),
    )
    body = await as_json.json()
    assert as_json.status == 200 and body["visibility"] == "unlisted" and body["sensitive"]


@pytest.mark.parametrize(
    ("form", "status", "needle"),
    [
        ({"status": "   "}, 422, "Text can't be blank"),
        ({}, 422, "Text can't be blank"),
        ({"status": "x", "visibility": "everyone"}, 422, "visibility"),
        ({"status": "x", "media_ids[]": "1"}, 422, "no upload 1 to attach"),
        ({"status": "x", "sensitive": "perhaps"}, 422, "sensitive"),
        ({"status": "x", "in_reply_to_id": "999999"}, 404, "Record not found"),
        ({"status": "x", "in_reply_to_id": "nope"}, 404, "Record not found"),
        ({"status": "x" * 5001}, 422, "5000"),
    ],
)
async def test_bad_posts_store_nothing(
    node, form: dict[str, str], status: int, needle: str
) -> None:  # type: ignore[no-untyped-def]
    before = await node.counts()
    resp = await _post(node, **form)
    assert resp.status == status
    assert needle in (await resp.json())["error"]
    assert await node.counts() == before


async def test_bad_json_and_missing_or_narrow_tokens(node) -> None:  # type: ignore[no-untyped-def]
    deep = b'{"status": ' + b"[" * 40 + b"]" * 40 + b"}"
    headers = {**_auth(node.token), "Content-Type": "application/json"}
    resp = await node.client.post("/api/v1/statuses", data=deep, headers=headers)
    assert resp.status == 400 and "nested" in (await resp.json())["error"]
    resp = await node.client.post("/api/v1/statuses", data=b"{oops", headers=headers)
    assert resp.status == 400
    resp = await node.client.post("/api/v1/statuses", data={"status": "hi"})
    assert resp.status == 401
    reader = token_for(node.db, node.alice, "read")
    resp = await _post(node, reader, status="hi")
    assert resp.status == 403 and (await resp.json())["scope"] == "write:statuses"


async def test_reply_delete_and_redraft(node) -> None:  # type: ignore[no-untyped-def]
    carl = account(node.db, node.settings, "carl")
    carl_token = token_for(node.db, carl)
    parent = await _status(node, status="a question")
    reply = await _status(node, status="@alice an answer", in_reply_to_id=parent["id"], token=None)
    assert reply["in_reply_to_id"] == parent["id"]
    other = await _post(node, carl_token, status="mine, by carl")
    carls = await other.json()
    resp = await node.client.delete(f"/api/v1/statuses/{carls['id']}", headers=_auth(node.token))
    assert resp.status == 404  # not alice's to delete
    resp = await node.client.delete(f"/api/v1/statuses/{reply['id']}", headers=_auth(node.token))
    deleted = await resp.json()
    assert resp.status == 200 and deleted["text"] == "@alice an answer"
    assert (await node.client.get(f"/api/v1/statuses/{reply['id']}")).status == 404


async def test_context_shows_what_the_viewer_may_read(node) -> None:  # type: ignore[no-untyped-def]
    root = await _status(node, status="root")
    child = await _status(node, status="child", in_reply_to_id=root["id"])
    private = await _status(
        node, status="for followers", in_reply_to_id=child["id"], visibility="private"
    )
    grandchild = await _status(node, status="grandchild", in_reply_to_id=child["id"])
    anonymous = await (await node.client.get(f"/api/v1/statuses/{child['id']}/context")).json()
    assert [s["id"] for s in anonymous["ancestors"]] == [root["id"]]
    assert [s["id"] for s in anonymous["descendants"]] == [grandchild["id"]]
    mine = await (
        await node.client.get(f"/api/v1/statuses/{root['id']}/context", headers=_auth(node.token))
    ).json()
    assert mine["ancestors"] == []
    assert [s["id"] for s in mine["descendants"]] == [child["id"], private["id"], grandchild["id"]]
    hidden = await node.client.get(f"/api/v1/statuses/{private['id']}/context")
    assert hidden.status == 404


async def test_favourite_and_reblog_are_idempotent(node, remotes) -> None:  # type: ignore[no-untyped-def]
    _, b, _ = remotes
    carol = b.add_actor("carol")
    post = remote_note(b, carol)
    # Known here first (the client API names statuses by our ids).
    await node.send({"type": "Like", "object": post["id"]})
    await node.send({"type": "Undo", "object": {"type": "Like", "object": post["id"]}})
    await settle(node)
    (row,) = await node.rows("SELECT id FROM objects WHERE uri = ?", post["id"])
    sid = str(row[0])
    h = _auth(node.token)
    for _ in range(2):
        resp = await node.client.post(f"/api/v1/statuses/{sid}/favourite", headers=h)
        body = await resp.json()
        assert resp.status == 200 and body["favourited"] is True
        assert body["favourites_count"] == 1
    for _ in range(2):
        resp = await node.client.post(f"/api/v1/statuses/{sid}/unfavourite", headers=h)
        body = await resp.json()
        assert resp.status == 200 and body["favourited"] is False
    for _ in range(2):
        resp = await node.client.post(f"/api/v1/statuses/{sid}/reblog", headers=h)
        boost = await resp.json()
        assert resp.status == 200 and boost["reblog"]["id"] == sid
        assert boost["reblog"]["reblogged"] is True and boost["id"] != sid
    assert await node.rows("SELECT count(*) FROM objects WHERE boost_of = ?", post["id"]) == [(1,)]
    resp = await node.client.post(f"/api/v1/statuses/{sid}/unreblog", headers=h)
    body = await resp.json()
    assert resp.status == 200 and body["id"] == sid and body["reblogged"] is False
    await settle(node)
    kinds = [p["type"] for p in b.inbox_posts()]
    assert kinds.count("Like") == 2 and kinds.count("Announce") == 1 and kinds.count("Undo") == 3
