"""Who favourited and who boosted a post, through the Mastodon API."""

from __future__ import annotations

from typing import Any

from tests.api.c2s_rig import account, token_for


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _json(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def test_favourited_by_and_reblogged_by(node) -> None:  # type: ignore[no-untyped-def]
    tokens = [token_for(node.db, account(node.db, node.settings, n)) for n in ("bob", "carl")]
    post = await _json(
        await node.client.post("/api/v1/statuses", data={"status": "hi"}, headers=_h(node.token))
    )
    one = f"/api/v1/statuses/{post['id']}"
    for token in tokens:
        await _json(await node.client.post(f"{one}/favourite", headers=_h(token)))
    await _json(await node.client.post(f"{one}/reblog", headers=_h(tokens[1])))
    likers = await _json(await node.client.get(f"{one}/favourited_by"))
    assert [a["acct"] for a in likers] == ["carl", "bob"]
    boosters = await _json(await node.client.get(f"{one}/reblogged_by"))
    assert [a["acct"] for a in boosters] == ["carl"]
    paged = await node.client.get(f"{one}/favourited_by?limit=1")
    assert [a["acct"] for a in await paged.json()] == ["carl"]
    assert 'rel="next"' in paged.headers["Link"]
    await _json(await node.client.post(f"{one}/unreblog", headers=_h(tokens[1])))
    assert await _json(await node.client.get(f"{one}/reblogged_by")) == []
    secret = await _json(
        await node.client.post(
            "/api/v1/statuses",
            data={"status": "friends", "visibility": "private"},
            headers=_h(node.token),
        )
    )
    hidden = await node.client.get(f"/api/v1/statuses/{secret['id']}/favourited_by")
    assert hidden.status == 404
    assert (await node.client.get("/api/v1/statuses/99999/reblogged_by")).status == 404
