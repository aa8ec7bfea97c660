"""Direct messages as conversations, and the direct stream, through the Mastodon API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.api.c2s_rig import Node, account, answer, auth, post_status, token_for


async def _talks(node: Node, token: str, query: str = "") -> list[dict[str, Any]]:
    return list(
        await answer(await node.client.get(f"/api/v1/conversations{query}", headers=auth(token)))
    )


async def test_direct_posts_group_into_conversations(node) -> None:  # type: ignore[no-untyped-def]
    bob_token = token_for(node.db, account(node.db, node.settings, "bob"))
    carl_token = token_for(node.db, account(node.db, node.settings, "carl"))
    first = await post_status(node, node.token, status="@bob psst", visibility="direct")
    reply = await post_status(
        node, bob_token, status="@alice yes?", visibility="direct", in_reply_to_id=first["id"]
    )
    other = await post_status(node, carl_token, status="@alice hello", visibility="direct")
    await post_status(node, node.token, status="public words")
    mine = await _talks(node, node.token)
    assert [t["last_status"]["id"] for t in mine] == [other["id"], reply["id"]]
    with_bob = mine[1]
    assert [a["acct"] for a in with_bob["accounts"]] == ["bob"]
    assert with_bob["unread"] is True and mine[0]["unread"] is True
    bobs = await _talks(node, bob_token)
    assert [t["id"] for t in bobs] == [with_bob["id"]]
    assert bobs[0]["unread"] is False  # his own post was the last
    assert await _talks(node, token_for(node.db, account(node.db, node.settings, "dan"))) == []
    # Reading, paging, removing; a new post brings a removed one back.
    read = await answer(
        await node.client.post(
            f"/api/v1/conversations/{with_bob['id']}/read", headers=auth(node.token)
        )
    )
    assert read["unread"] is False and read["id"] == with_bob["id"]
    page = await node.client.get("/api/v1/conversations?limit=1", headers=auth(node.token))
    assert len(await page.json()) == 1 and 'rel="next"' in page.headers["Link"]
    await answer(
        await node.client.delete(
            f"/api/v1/conversations/{with_bob['id']}", headers=auth(node.token)
        )
    )
    assert [t["id"] for t in await _talks(node, node.token)] == [mine[0]["id"]]
    again = await post_status(
        node, bob_token, status="@alice still there?", visibility="direct",
        in_reply_to_id=reply["id"],
    )  # fmt: skip
    back = await _talks(node, node.token)
    assert back[0]["id"] == with_bob["id"] and back[0]["last_status"]["id"] == again["id"]
    assert back[0]["unread"] is True
    # Deleting the newest post shows the one before it.
    later = await post_status(
        node, carl_token, status="@alice one more", visibility="direct", in_reply_to_id=other["id"]
    )
    assert (await _talks(node, node.token))[0]["last_status"]["id"] == later["id"]
    await answer(
        await node.client.delete(f"/api/v1/statuses/{later['id']}", headers=auth(carl_token))
    )
    after = {t["id"]: t for t in await _talks(node, node.token)}
    assert after[mine[0]["id"]]["last_status"]["id"] == other["id"]
    # Someone else's conversation cannot be touched.
    assert (
        await node.client.post(
            f"/api/v1/conversations/{mine[0]['id']}/read", headers=auth(bob_token)
        )
    ).status == 404
    assert (await node.client.get("/api/v1/conversations")).status == 401


async def test_the_direct_stream_sends_conversations(node) -> None:  # type: ignore[no-untyped-def]
    bob_token = token_for(node.db, account(node.db, node.settings, "bob"))
    async with node.client.ws_connect(
        f"/api/v1/streaming?stream=direct&access_token={node.token}"
    ) as ws:
        await asyncio.sleep(0.3)
        await post_status(node, bob_token, status="public, not for this stream")
        sent = await post_status(node, bob_token, status="@alice a secret", visibility="direct")
        async with asyncio.timeout(5):
            msg = json.loads((await ws.receive()).data)
        assert msg["event"] == "conversation" and msg["stream"] == ["direct"]
        body = json.loads(msg["payload"])
        assert body["last_status"]["id"] == sent["id"] and body["unread"] is True
        assert [a["acct"] for a in body["accounts"]] == ["bob"]
