"""Who favourited and who boosted a post, through the Mastodon API."""

from __future__ import annotations

from tests.api.c2s_rig import account, answer, auth, token_for


async def test_favourited_by_and_reblogged_by(node) -> None:  # type: ignore[no-untyped-def]
    tokens = [token_for(node.db, account(node.db, node.settings, n)) for n in ("bob", "carl")]
    post = await answer(
        await node.client.post("/api/v1/statuses", data={"status": "hi"}, headers=auth(node.token))
    )
    one = f"/api/v1/statuses/{post['id']}"
    for token in tokens:
        await answer(await node.client.post(f"{one}/favourite", headers=auth(token)))
    await answer(await node.client.post(f"{one}/reblog", headers=auth(tokens[1])))
    likers = await answer(await node.client.get(f"{one}/favourited_by"))
    assert [a["acct"] for a in likers] == ["carl", "bob"]
    boosters = await answer(await node.client.get(f"{one}/reblogged_by"))
    assert [a["acct"] for a in boosters] == ["carl"]
    paged = await node.client.get(f"{one}/favourited_by?limit=1")
    assert [a["acct"] for a in await paged.json()] == ["carl"]
    assert 'rel="next"' in paged.headers["Link"]
    await answer(await node.client.post(f"{one}/unreblog", headers=auth(tokens[1])))
    assert await answer(await node.client.get(f"{one}/reblogged_by")) == []
    secret = await answer(
        await node.client.post(
            "/api/v1/statuses",
            data={"status": "friends", "visibility": "private"},
            headers=auth(node.token),
        )
    )
    hidden = await node.client.get(f"/api/v1/statuses/{secret['id']}/favourited_by")
    assert hidden.status == 404
    assert (await node.client.get("/api/v1/statuses/99999/reblogged_by")).status == 404
