"""Editing, bookmarks, pins, favourites, idempotent posting, notifications and markers."""

from __future__ import annotations

from typing import Any

from tests.api.c2s_rig import Node, account, add_follower, settle, token_for


def _h(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


async def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _post(node: Node, token: str | None = None, **form: str) -> dict[str, Any]:
    resp = await node.client.post("/api/v1/statuses", data=form, headers=_h(token or node.token))
    return dict(await _ok(resp))


async def test_edit_history_and_source(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    add_follower(node.db, a.add_actor("bob"))
    first = await _post(node, status="first words", visibility="unlisted")
    one = f"/api/v1/statuses/{first['id']}"
    edited = await _ok(
        await node.client.put(
            one, data={"status": "better words", "spoiler_text": "cw"}, headers=_h(node.token)
        )
    )
    assert "better words" in edited["content"] and edited["edited_at"] is not None
    assert edited["visibility"] == "unlisted" and edited["spoiler_text"] == "cw"
    source = await _ok(await node.client.get(f"{one}/source", headers=_h(node.token)))
    assert source == {"id": first["id"], "text": "better words", "spoiler_text": "cw"}
    history = await _ok(await node.client.get(f"{one}/history"))
    assert ["first words" in v["content"] for v in history] == [True, False]
    assert history[1]["spoiler_text"] == "cw" and history[0]["account"]["acct"] == "alice"
    await settle(node)
    kinds = [p["type"] for p in a.inbox_posts()]
    assert kinds == ["Create", "Update"]
    same = await node.client.put(one, data={"status": "better words", "spoiler_text": "cw"},
                                 headers=_h(node.token))  # fmt: skip
    assert same.status == 422
    blank = await node.client.put(one, data={"status": " "}, headers=_h(node.token))
    assert blank.status == 422
    carl = account(node.db, node.settings, "carl")
    theirs = await node.client.put(one, data={"status": "x"}, headers=_h(token_for(node.db, carl)))
    assert theirs.status == 404


async def test_bookmarks_pins_and_favourites_lists(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    add_follower(node.db, a.add_actor("bob"))
    posts = [await _post(node, status=f"post {i}") for i in range(3)]
    h = _h(node.token)
    for p in (posts[0], posts[2]):
        body = await _ok(await node.client.post(f"/api/v1/statuses/{p['id']}/bookmark", headers=h))
        assert body["bookmarked"] is True
    marked = await _ok(await node.client.get("/api/v1/bookmarks", headers=h))
    assert [s["id"] for s in marked] == [posts[2]["id"], posts[0]["id"]]
    await _ok(await node.client.post(f"/api/v1/statuses/{posts[2]['id']}/unbookmark", headers=h))
    assert [s["id"] for s in await _ok(await node.client.get("/api/v1/bookmarks", headers=h))] == [
        posts[0]["id"]
    ]
    await _ok(await node.client.post(f"/api/v1/statuses/{posts[1]['id']}/favourite", headers=h))
    favs = await _ok(await node.client.get("/api/v1/favourites", headers=h))
    assert [s["id"] for s in favs] == [posts[1]["id"]]
    for _ in range(2):
        pinned = await _ok(
            await node.client.post(f"/api/v1/statuses/{posts[1]['id']}/pin", headers=h)
        )
        assert pinned["pinned"] is True
    me = await _ok(await node.client.get("/api/v1/accounts/verify_credentials", headers=h))
    shown = await _ok(await node.client.get(f"/api/v1/accounts/{me['id']}/statuses?pinned=true"))
    assert [s["id"] for s in shown] == [posts[1]["id"]]
    featured = await (
        await node.get(f"{node.settings.base_url}/users/alice/collections/featured")
    ).json(content_type=None)
    assert featured["totalItems"] == 1
    await _ok(await node.client.post(f"/api/v1/statuses/{posts[1]['id']}/unpin", headers=h))
    await settle(node)
    kinds = [p["type"] for p in a.inbox_posts()]
    assert kinds.count("Add") == 1 and kinds.count("Remove") == 1
    private = await _post(node, status="secret", visibility="private")
    refused = await node.client.post(f"/api/v1/statuses/{private['id']}/pin", headers=h)
    assert refused.status == 422
    assert (await node.client.get("/api/v1/bookmarks")).status == 401


async def test_idempotency_key_returns_the_first_post(node) -> None:  # type: ignore[no-untyped-def]
    headers = _h(node.token, **{"Idempotency-Key": "draft-1"})
    first = await _ok(
        await node.client.post("/api/v1/statuses", data={"status": "once"}, headers=headers)
    )
    again = await _ok(
        await node.client.post("/api/v1/statuses", data={"status": "once"}, headers=headers)
    )
    assert again["id"] == first["id"]
    other = await _post(node, status="once")
    assert other["id"] != first["id"]
    rows = await node.rows("SELECT count(*) FROM objects WHERE local = 1")
    assert rows == [(2,)]


async def test_notifications_dismiss_clear_unread_and_markers(node) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    bob_token = token_for(node.db, bob)
    for i in range(3):
        await _post(node, bob_token, status=f"@alice hello {i}")
    h = _h(node.token)
    listed = await _ok(await node.client.get("/api/v1/notifications", headers=h))
    assert [n["type"] for n in listed] == ["mention"] * 3
    count = await _ok(await node.client.get("/api/v1/notifications/unread_count", headers=h))
    assert count == {"count": 3}
    marker = await _ok(
        await node.client.post(
            "/api/v1/markers", data={"notifications[last_read_id]": listed[1]["id"]}, headers=h
        )
    )
    assert marker["notifications"]["last_read_id"] == listed[1]["id"]
    assert marker["notifications"]["version"] == 1
    count = await _ok(await node.client.get("/api/v1/notifications/unread_count", headers=h))
    assert count == {"count": 1}
    got = await _ok(
        await node.client.get("/api/v1/markers?timeline[]=notifications&timeline[]=home", headers=h)
    )
    assert set(got) == {"notifications"}
    again = await _ok(
        await node.client.post(
            "/api/v1/markers", json={"notifications": {"last_read_id": listed[0]["id"]}}, headers=h
        )
    )
    assert again["notifications"]["version"] == 2
    bad = await node.client.post("/api/v1/markers", data={"home[last_read_id]": "x"}, headers=h)
    assert bad.status == 422
    await _ok(await node.client.post(f"/api/v1/notifications/{listed[0]['id']}/dismiss", headers=h))
    gone = await node.client.post(f"/api/v1/notifications/{listed[0]['id']}/dismiss", headers=h)
    assert gone.status == 404
    assert len(await _ok(await node.client.get("/api/v1/notifications", headers=h))) == 2
    await _ok(await node.client.post("/api/v1/notifications/clear", headers=h))
    assert await _ok(await node.client.get("/api/v1/notifications", headers=h)) == []
