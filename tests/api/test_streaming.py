"""The streaming API on a live app: WebSocket and SSE, who gets which event."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from agora_node.api.stream_hub import QUEUE_SIZE, Event, Subscriber
from agora_node.store import social
from tests.api.c2s_rig import Node, account, token_for

WAIT = 5.0


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _post(node: Node, token: str, **form: str) -> dict[str, Any]:
    resp = await node.client.post("/api/v1/statuses", data=form, headers=_h(token))
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def _next(ws: Any, event: str) -> dict[str, Any]:
    """The next message of type ``event`` (others are skipped), within WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data.get("event") == event:
                return dict(data)


async def _silent(ws: Any, seconds: float = 0.6) -> None:
    """Nothing but what is named arrives for a while."""
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            msg = await ws.receive()
            raise AssertionError(f"unexpected message: {msg.data}")


async def test_user_stream_updates_notifications_edits_and_deletes(node) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    assert bob.actor is not None
    node.db.write_sync(
        lambda c: social.put_follow(c, node.alice.actor.uri, bob.actor.uri, None, "accepted", 0)
    )  # type: ignore[union-attr]
    bob_token = token_for(node.db, bob)
    carl = account(node.db, node.settings, "carl")
    carl_token = token_for(node.db, carl)
    async with node.client.ws_connect(
        f"/api/v1/streaming?stream=user&access_token={node.token}"
    ) as ws:
        await asyncio.sleep(0.3)  # the hub takes its first marks
        post = await _post(node, bob_token, status="hello followers")
        update = await _next(ws, "update")
        assert update["stream"] == ["user"]
        assert json.loads(update["payload"])["id"] == post["id"]
        await _post(node, carl_token, status="not followed, not for alice")
        await _silent(ws)
        await _post(node, carl_token, status="@alice hi there")
        note = await _next(ws, "notification")
        assert json.loads(note["payload"])["type"] == "mention"
        edit = await node.client.put(
            f"/api/v1/statuses/{post['id']}",
            data={"status": "hello, edited"},
            headers=_h(bob_token),
        )
        assert edit.status == 200
        changed = await _next(ws, "status.update")
        assert "edited" in json.loads(changed["payload"])["content"]
        await node.client.delete(f"/api/v1/statuses/{post['id']}", headers=_h(bob_token))
        gone = await _next(ws, "delete")
        assert gone["payload"] == post["id"]


async def test_public_streams_over_sse_and_hashtags_by_message(node) -> None:  # type: ignore[no-untyped-def]
    async with node.client.get("/api/v1/streaming/public/local") as sse:
        assert sse.status == 200 and sse.content_type == "text/event-stream"
        async with node.client.ws_connect("/api/v1/streaming") as ws:
            await ws.send_str(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Cats"}))
            await ws.send_str(json.dumps({"type": "subscribe", "stream": "nonsense"}))
            error = json.loads((await ws.receive()).data)
            assert "Unknown stream" in error["error"]
            await asyncio.sleep(0.3)
            await _post(node, node.token, status="secret", visibility="private")
            tagged = await _post(node, node.token, status="look #cats")
            event = await _next(ws, "update")
            assert event["stream"] == ["hashtag", "cats"]
            assert json.loads(event["payload"])["id"] == tagged["id"]
        lines: list[str] = []
        async with asyncio.timeout(WAIT):
            while not any(line.startswith("data: ") for line in lines):
                lines.append((await sse.content.readline()).decode().strip())
        assert "event: update" in lines
        payload = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
        assert payload["id"] == tagged["id"]  # the followers-only post never came


async def test_stream_errors(node) -> None:  # type: ignore[no-untyped-def]
    assert (await node.client.get("/api/v1/streaming/user")).status == 401
    assert (await node.client.get("/api/v1/streaming/hashtag")).status == 400
    assert (await node.client.get("/api/v1/streaming?stream=bogus")).status == 400
    bad = await node.client.get("/api/v1/streaming/user?access_token=nope")
    assert bad.status == 401
    health = await node.client.get("/api/v1/streaming/health")
    assert health.status == 200 and await health.text() == "OK"


def test_a_slow_consumer_is_dropped_not_buffered() -> None:
    sub = Subscriber(None, None)
    for i in range(QUEUE_SIZE + 10):
        sub.offer(Event(("public",), "update", str(i)))
    assert sub.dropped and sub.queue.qsize() == QUEUE_SIZE
    items = [sub.queue.get_nowait() for _ in range(QUEUE_SIZE)]
    assert items[-1] is None


async def test_muted_accounts_stay_out_of_streams(node) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    assert bob.actor is not None
    node.db.write_sync(
        lambda c: social.put_follow(c, node.alice.actor.uri, bob.actor.uri, None, "accepted", 0)
    )  # type: ignore[union-attr]
    bob_token = token_for(node.db, bob)
    (row,) = await node.rows("SELECT id FROM actors WHERE uri = ?", bob.actor.uri)
    mute = await node.client.post(f"/api/v1/accounts/{row[0]}/mute", headers=_h(node.token))
    assert mute.status == 200
    async with node.client.ws_connect(
        f"/api/v1/streaming?stream=user&access_token={node.token}"
    ) as ws:
        await ws.send_json({"type": "subscribe", "stream": "public:local"})
        await asyncio.sleep(0.3)
        await _post(node, bob_token, status="muted words")
        await _silent(ws, 1.0)
        mine = await _post(node, node.token, status="my own words")
        got = await _next(ws, "update")
        assert json.loads(got["payload"])["id"] == mine["id"]


async def test_followed_hashtags_reach_the_user_stream(node) -> None:  # type: ignore[no-untyped-def]
    bob_token = token_for(node.db, account(node.db, node.settings, "bob"))
    follow = await node.client.post("/api/v1/tags/garden/follow", headers=_h(node.token))
    assert follow.status == 200
    async with node.client.ws_connect(
        f"/api/v1/streaming?stream=user&access_token={node.token}"
    ) as ws:
        await asyncio.sleep(0.3)
        await _post(node, bob_token, status="no tag here")
        await _post(node, bob_token, status="#garden but only for friends", visibility="private")
        await _silent(ws, 0.8)
        tagged = await _post(node, bob_token, status="news from the #garden")
        got = await _next(ws, "update")
        assert json.loads(got["payload"])["id"] == tagged["id"]
