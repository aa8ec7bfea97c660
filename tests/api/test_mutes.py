"""Muting accounts and conversations, and private notes, through the Mastodon API."""

from __future__ import annotations

import time

from tests.api.c2s_rig import Node, account, answer, auth, post_status, settle, token_for


async def _ids(node: Node, path: str, token: str) -> list[str]:
    return [s["id"] for s in await answer(await node.client.get(path, headers=auth(token)))]


async def _setup(node: Node) -> tuple[str, str, str]:
    """Bob and alice follow each other; returns bob's token, bob's id, alice's id."""
    bob = account(node.db, node.settings, "bob")
    bob_token = token_for(node.db, bob)
    me = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(node.token))
    )
    bob_me = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(bob_token))
    )
    await answer(
        await node.client.post(f"/api/v1/accounts/{bob_me['id']}/follow", headers=auth(node.token))
    )
    await answer(
        await node.client.post(f"/api/v1/accounts/{me['id']}/follow", headers=auth(bob_token))
    )
    return bob_token, bob_me["id"], me["id"]


async def test_a_muted_account_leaves_timelines_and_notifications(node) -> None:  # type: ignore[no-untyped-def]
    bob_token, bob_id, alice_id = await _setup(node)
    mine = await post_status(node, node.token, status="alice writes")
    loud = await post_status(node, bob_token, status="bob writes")
    boost_by_alice = await answer(
        await node.client.post(f"/api/v1/statuses/{loud['id']}/reblog", headers=auth(node.token))
    )
    assert loud["id"] in await _ids(node, "/api/v1/timelines/home", node.token)
    rel = await answer(
        await node.client.post(
            f"/api/v1/accounts/{bob_id}/mute",
            data={"notifications": "true"},
            headers=auth(node.token),
        )
    )
    assert rel["muting"] is True and rel["muting_notifications"] is True
    assert rel["following"] is True  # a mute is not an unfollow
    home = await _ids(node, "/api/v1/timelines/home", node.token)
    assert loud["id"] not in home and boost_by_alice["id"] not in home and mine["id"] in home
    public = await _ids(node, "/api/v1/timelines/public", node.token)
    assert loud["id"] not in public and mine["id"] in public
    # Others still see bob, and his profile still lists his posts.
    assert loud["id"] in await _ids(node, "/api/v1/timelines/public", bob_token)
    assert loud["id"] in await _ids(node, f"/api/v1/accounts/{bob_id}/statuses", node.token)
    # Bob favourites alice's post: muted with notifications, alice hears nothing.
    await answer(
        await node.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=auth(bob_token))
    )
    await settle(node)
    notes = await answer(await node.client.get("/api/v1/notifications", headers=auth(node.token)))
    assert [n for n in notes if n["account"]["id"] == bob_id] == []
    # Muting again without notifications replaces the mute: his notifications come back.
    rel = await answer(
        await node.client.post(
            f"/api/v1/accounts/{bob_id}/mute",
            json={"notifications": False},
            headers=auth(node.token),
        )
    )
    assert rel["muting"] is True and rel["muting_notifications"] is False
    notes = await answer(await node.client.get("/api/v1/notifications", headers=auth(node.token)))
    assert "favourite" in [n["type"] for n in notes if n["account"]["id"] == bob_id]
    assert loud["id"] not in await _ids(node, "/api/v1/timelines/home", node.token)
    muted = await answer(await node.client.get("/api/v1/mutes", headers=auth(node.token)))
    assert [(a["id"], a["mute_expires_at"]) for a in muted] == [(bob_id, None)]
    rel = await answer(
        await node.client.post(f"/api/v1/accounts/{bob_id}/unmute", headers=auth(node.token))
    )
    assert rel["muting"] is False
    assert loud["id"] in await _ids(node, "/api/v1/timelines/home", node.token)
    assert await answer(await node.client.get("/api/v1/mutes", headers=auth(node.token))) == []
    # Bob cannot tell.
    bobs_view = await answer(
        await node.client.get(
            f"/api/v1/accounts/relationships?id[]={alice_id}", headers=auth(bob_token)
        )
    )
    assert bobs_view[0]["muting"] is False


async def test_a_mute_with_a_duration_lifts_by_itself(node) -> None:  # type: ignore[no-untyped-def]
    bob_token, bob_id, _ = await _setup(node)
    loud = await post_status(node, bob_token, status="bob again")
    before = time.time()
    await answer(
        await node.client.post(
            f"/api/v1/accounts/{bob_id}/mute", data={"duration": "1"}, headers=auth(node.token)
        )
    )
    muted = await answer(await node.client.get("/api/v1/mutes", headers=auth(node.token)))
    ends = muted[0]["mute_expires_at"]
    assert ends is not None and ends > time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(before))
    assert loud["id"] not in await _ids(node, "/api/v1/timelines/home", node.token)
    time.sleep(1.2)
    assert loud["id"] in await _ids(node, "/api/v1/timelines/home", node.token)
    assert await answer(await node.client.get("/api/v1/mutes", headers=auth(node.token))) == []
    rels = await answer(
        await node.client.get(
            f"/api/v1/accounts/relationships?id={bob_id}", headers=auth(node.token)
        )
    )
    assert rels[0]["muting"] is False


async def test_mute_input_is_checked(node) -> None:  # type: ignore[no-untyped-def]
    _, bob_id, alice_id = await _setup(node)
    path = f"/api/v1/accounts/{bob_id}/mute"
    for bad in ({"duration": "soon"}, {"duration": "-5"}, {"notifications": "perhaps"}):
        resp = await node.client.post(path, data=bad, headers=auth(node.token))
        assert resp.status == 422 and "error" in await resp.json()
    own = await node.client.post(f"/api/v1/accounts/{alice_id}/mute", headers=auth(node.token))
    assert own.status == 422
    assert (
        await node.client.post("/api/v1/accounts/99999/mute", headers=auth(node.token))
    ).status == 404
    read_only = token_for(node.db, node.alice, "read")
    assert (await node.client.post(path, headers=auth(read_only))).status == 403
    assert (await node.client.get("/api/v1/mutes")).status == 401
    assert await answer(await node.client.get("/api/v1/mutes", headers=auth(node.token))) == []


async def test_a_muted_conversation_sends_no_notifications(node) -> None:  # type: ignore[no-untyped-def]
    bob_token, _, _ = await _setup(node)
    root = await post_status(node, node.token, status="a thread")
    other = await post_status(node, node.token, status="another thread")
    muted = await answer(
        await node.client.post(f"/api/v1/statuses/{root['id']}/mute", headers=auth(node.token))
    )
    assert muted["muted"] is True
    reply = await post_status(node, bob_token, status="@alice a reply", in_reply_to_id=root["id"])
    await post_status(node, bob_token, status="@alice deeper", in_reply_to_id=reply["id"])
    await post_status(node, bob_token, status="@alice elsewhere", in_reply_to_id=other["id"])
    await answer(
        await node.client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=auth(bob_token))
    )
    await settle(node)
    notes = await answer(await node.client.get("/api/v1/notifications", headers=auth(node.token)))
    texts = [n["status"]["content"] for n in notes if n.get("status")]
    assert len(texts) == 1 and "elsewhere" in texts[0], texts
    shown = await answer(
        await node.client.get(f"/api/v1/statuses/{reply['id']}", headers=auth(node.token))
    )
    assert shown["muted"] is True
    unmuted = await answer(
        await node.client.post(f"/api/v1/statuses/{root['id']}/unmute", headers=auth(node.token))
    )
    assert unmuted["muted"] is False
    notes = await answer(await node.client.get("/api/v1/notifications", headers=auth(node.token)))
    assert len([n for n in notes if n.get("status")]) == 4


async def test_a_private_note_on_an_account(node) -> None:  # type: ignore[no-untyped-def]
    bob_token, bob_id, alice_id = await _setup(node)
    path = f"/api/v1/accounts/{bob_id}/note"
    rel = await answer(
        await node.client.post(path, data={"comment": "met at the fair"}, headers=auth(node.token))
    )
    assert rel["note"] == "met at the fair"
    rels = await answer(
        await node.client.get(
            f"/api/v1/accounts/relationships?id={bob_id}", headers=auth(node.token)
        )
    )
    assert rels[0]["note"] == "met at the fair"
    theirs = await answer(
        await node.client.get(
            f"/api/v1/accounts/relationships?id={alice_id}", headers=auth(bob_token)
        )
    )
    assert theirs[0]["note"] == ""
    too_long = await node.client.post(path, data={"comment": "x" * 2001}, headers=auth(node.token))
    assert too_long.status == 422
    rel = await answer(await node.client.post(path, data={"comment": ""}, headers=auth(node.token)))
    assert rel["note"] == ""
