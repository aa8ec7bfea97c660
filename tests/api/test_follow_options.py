"""What a follower asks of a follow: the followee's boosts at home, and its new posts
notified; and notifications filtered by who sent them."""

from __future__ import annotations

from typing import Any

from tests.api.c2s_rig import Node, account, token_for


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _json(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _post(node: Node, token: str, **form: str) -> dict[str, Any]:
    return dict(
        await _json(await node.client.post("/api/v1/statuses", data=form, headers=_h(token)))
    )


async def _home(node: Node) -> list[str]:
    resp = await node.client.get("/api/v1/timelines/home", headers=_h(node.token))
    return [s["id"] for s in await _json(resp)]


async def test_boosts_off_and_new_posts_notified(node) -> None:  # type: ignore[no-untyped-def]
    bob = token_for(node.db, account(node.db, node.settings, "bob"))
    carl = token_for(node.db, account(node.db, node.settings, "carl"))
    bob_id = (
        await _json(await node.client.get("/api/v1/accounts/verify_credentials", headers=_h(bob)))
    )["id"]
    carl_id = (
        await _json(await node.client.get("/api/v1/accounts/verify_credentials", headers=_h(carl)))
    )["id"]
    follow = f"/api/v1/accounts/{bob_id}/follow"
    rel = await _json(
        await node.client.post(
            follow, data={"reblogs": "false", "notify": "true"}, headers=_h(node.token)
        )
    )
    assert rel["following"] is True and rel["showing_reblogs"] is False and rel["notifying"] is True
    carls = await _post(node, carl, status="carl's words")
    boost = await _json(
        await node.client.post(f"/api/v1/statuses/{carls['id']}/reblog", headers=_h(bob))
    )
    own = await _post(node, bob, status="bob's words")
    await _post(node, bob, status="@carl an answer", in_reply_to_id=carls["id"])
    await _post(node, bob, status="@carl secret", visibility="direct")
    home = await _home(node)
    assert own["id"] in home and boost["id"] not in home
    notes = await _json(
        await node.client.get("/api/v1/notifications?types[]=status", headers=_h(node.token))
    )
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("status", own["id"])]
    assert notes[0]["account"]["id"] == bob_id
    # Asking again changes the options; leaving one out keeps it.
    rel = await _json(
        await node.client.post(follow, json={"reblogs": True}, headers=_h(node.token))
    )
    assert rel["showing_reblogs"] is True and rel["notifying"] is True
    assert boost["id"] in await _home(node)
    bad = await node.client.post(follow, data={"notify": "often"}, headers=_h(node.token))
    assert bad.status == 422
    # Notifications from one account only.
    await _json(await node.client.post(f"/api/v1/accounts/{carl_id}/follow", headers=_h(bob)))
    mine = await _post(node, node.token, status="alice writes")
    await _json(
        await node.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=_h(carl))
    )
    await _json(await node.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=_h(bob)))
    from_carl = await _json(
        await node.client.get(f"/api/v1/notifications?account_id={carl_id}", headers=_h(node.token))
    )
    assert [n["account"]["id"] for n in from_carl] == [carl_id]
    nobody = await node.client.get("/api/v1/notifications?account_id=99999", headers=_h(node.token))
    assert await _json(nobody) == []
    wrong = await node.client.get("/api/v1/notifications?account_id=x", headers=_h(node.token))
    assert wrong.status == 400
