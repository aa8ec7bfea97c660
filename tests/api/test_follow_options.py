"""What a follower asks of a follow: the followee's boosts at home, and its new posts
notified; and notifications filtered by who sent them."""

from __future__ import annotations

from tests.api.c2s_rig import Node, account, answer, auth, post_status, token_for


async def _home(node: Node) -> list[str]:
    resp = await node.client.get("/api/v1/timelines/home", headers=auth(node.token))
    return [s["id"] for s in await answer(resp)]


async def test_boosts_off_and_new_posts_notified(node) -> None:  # type: ignore[no-untyped-def]
    bob = token_for(node.db, account(node.db, node.settings, "bob"))
    carl = token_for(node.db, account(node.db, node.settings, "carl"))
    bob_id = (
        await answer(
            await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(bob))
        )
    )["id"]
    carl_id = (
        await answer(
            await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(carl))
        )
    )["id"]
    follow = f"/api/v1/accounts/{bob_id}/follow"
    rel = await answer(
        await node.client.post(
            follow, data={"reblogs": "false", "notify": "true"}, headers=auth(node.token)
        )
    )
    assert rel["following"] is True and rel["showing_reblogs"] is False and rel["notifying"] is True
    carls = await post_status(node, carl, status="carl's words")
    boost = await answer(
        await node.client.post(f"/api/v1/statuses/{carls['id']}/reblog", headers=auth(bob))
    )
    own = await post_status(node, bob, status="bob's words")
    await post_status(node, bob, status="@carl an answer", in_reply_to_id=carls["id"])
    await post_status(node, bob, status="@carl secret", visibility="direct")
    home = await _home(node)
    assert own["id"] in home and boost["id"] not in home
    notes = await answer(
        await node.client.get("/api/v1/notifications?types[]=status", headers=auth(node.token))
    )
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("status", own["id"])]
    assert notes[0]["account"]["id"] == bob_id
    # Asking again changes the options; leaving one out keeps it.
    rel = await answer(
        await node.client.post(follow, json={"reblogs": True}, headers=auth(node.token))
    )
    assert rel["showing_reblogs"] is True and rel["notifying"] is True
    assert boost["id"] in await _home(node)
    bad = await node.client.post(follow, data={"notify": "often"}, headers=auth(node.token))
    assert bad.status == 422
    # Notifications from one account only.
    await answer(await node.client.post(f"/api/v1/accounts/{carl_id}/follow", headers=auth(bob)))
    mine = await post_status(node, node.token, status="alice writes")
    await answer(
        await node.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=auth(carl))
    )
    await answer(
        await node.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=auth(bob))
    )
    from_carl = await answer(
        await node.client.get(
            f"/api/v1/notifications?account_id={carl_id}", headers=auth(node.token)
        )
    )
    assert [n["account"]["id"] for n in from_carl] == [carl_id]
    nobody = await node.client.get(
        "/api/v1/notifications?account_id=99999", headers=auth(node.token)
    )
    assert await answer(nobody) == []
    wrong = await node.client.get("/api/v1/notifications?account_id=x", headers=auth(node.token))
    assert wrong.status == 400
