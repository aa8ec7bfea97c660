"""Trends, follow suggestions and featured hashtags through the Mastodon API."""

from __future__ import annotations

import time
from typing import Any

from agora_node.processing.trends import links_in
from agora_node.store import discovery
from tests.api.c2s_rig import Node, account, answer, auth, token_for


async def _post(node: Node, token: str, text: str) -> dict[str, Any]:
    resp = await node.client.post("/api/v1/statuses", data={"status": text}, headers=auth(token))
    return dict(await answer(resp))


async def _me(node: Node, token: str) -> str:
    me = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
    )
    return str(me["id"])


def test_links_are_what_posts_share_not_their_tags_and_mentions() -> None:
    content = (
        '<p><a href="https://news.example/a?x=1&amp;y=2" rel="nofollow">news</a> '
        '<a href="https://node.example/tags/cats" class="mention hashtag">#cats</a> '
        '<span class="h-card"><a href="https://node.example/@bob" class="u-url mention">@bob</a>'
        '</span> <a href="javascript:alert(1)">x</a> <a href="https://">empty</a> '
        '<a href="https://news.example/a?x=1&amp;y=2">again</a></p>'
    )
    assert links_in(content) == ["https://news.example/a?x=1&y=2"]


async def test_trending_tags_statuses_and_links(node) -> None:  # type: ignore[no-untyped-def]
    tokens = [token_for(node.db, account(node.db, node.settings, n)) for n in ("bob", "carl")]
    await _post(node, node.token, "a #garden day, see https://seeds.example/spring")
    await _post(node, tokens[0], "#garden again https://seeds.example/spring")
    await _post(node, tokens[1], "#garden #beans https://other.example/x")
    loved = await _post(node, tokens[1], "a plain post")
    await _post(node, tokens[0], "nobody cares")
    for token in (node.token, tokens[0]):
        await answer(
            await node.client.post(f"/api/v1/statuses/{loved['id']}/favourite", headers=auth(token))
        )
    tags = await answer(await node.client.get("/api/v1/trends/tags"))
    assert [t["name"] for t in tags] == ["garden", "beans"]
    assert tags[0]["history"][0]["accounts"] == "3" and "following" not in tags[0]
    assert await answer(await node.client.get("/api/v1/trends?limit=1")) == tags[:1]
    statuses = await answer(await node.client.get("/api/v1/trends/statuses"))
    assert statuses[0]["id"] == loved["id"]
    assert "nobody cares" not in str(statuses)  # no engagement, no trend
    links = await answer(await node.client.get("/api/v1/trends/links"))
    assert [c["url"] for c in links] == ["https://seeds.example/spring", "https://other.example/x"]
    assert (
        links[0]["provider_name"] == "seeds.example" and links[0]["history"][0]["accounts"] == "2"
    )
    # The admin takes things out of the trends.
    now = time.time()
    for kind, key in (("tag", "garden"), ("status", loved["uri"]), ("link", links[0]["url"])):
        node.db.write_sync(lambda c, k=kind, v=key: discovery.hide_trend(c, k, v, now))
    assert [t["name"] for t in await answer(await node.client.get("/api/v1/trends/tags"))] == [
        "beans"
    ]
    assert loved["id"] not in [
        s["id"] for s in await answer(await node.client.get("/api/v1/trends/statuses"))
    ]
    assert [c["url"] for c in await answer(await node.client.get("/api/v1/trends/links"))] == [
        "https://other.example/x"
    ]
    assert (await node.client.get("/api/v1/trends/tags?limit=lots")).status == 400


async def test_follow_suggestions(node) -> None:  # type: ignore[no-untyped-def]
    names = ("bob", "carl", "dora", "ed")
    tokens = {n: token_for(node.db, account(node.db, node.settings, n)) for n in names}
    ids = {n: await _me(node, t) for n, t in tokens.items()}
    follow = "/api/v1/accounts/{}/follow"
    await answer(await node.client.post(follow.format(ids["bob"]), headers=auth(node.token)))
    await answer(await node.client.post(follow.format(ids["carl"]), headers=auth(tokens["bob"])))
    await answer(await node.client.post(follow.format(ids["dora"]), headers=auth(tokens["ed"])))
    await answer(await node.client.post(follow.format(ids["dora"]), headers=auth(tokens["carl"])))
    found = await answer(await node.client.get("/api/v2/suggestions", headers=auth(node.token)))
    assert found[0]["account"]["id"] == ids["carl"]
    assert found[0]["sources"] == ["friends_of_friends"]
    offered = [s["account"]["id"] for s in found]
    assert ids["bob"] not in offered and await _me(node, node.token) not in offered
    assert ids["dora"] in offered  # the most followed of the rest
    await answer(
        await node.client.delete(f"/api/v1/suggestions/{ids['carl']}", headers=auth(node.token))
    )
    again = await answer(await node.client.get("/api/v1/suggestions", headers=auth(node.token)))
    assert ids["carl"] not in [a["id"] for a in again]
    assert (await node.client.get("/api/v2/suggestions")).status == 401


async def test_featured_hashtags(node) -> None:  # type: ignore[no-untyped-def]
    await _post(node, node.token, "#garden one")
    await _post(node, node.token, "#garden two #beans")
    made = await answer(
        await node.client.post(
            "/api/v1/featured_tags", data={"name": "#Garden"}, headers=auth(node.token)
        )
    )
    assert made["name"] == "garden" and made["statuses_count"] == "2"
    assert made["last_status_at"] is not None and made["url"].endswith("/@alice/tagged/garden")
    mine = await answer(await node.client.get("/api/v1/featured_tags", headers=auth(node.token)))
    assert [t["id"] for t in mine] == [made["id"]]
    me = await _me(node, node.token)
    public = await answer(await node.client.get(f"/api/v1/accounts/{me}/featured_tags"))
    assert public == mine
    ideas = await answer(
        await node.client.get("/api/v1/featured_tags/suggestions", headers=auth(node.token))
    )
    assert [t["name"] for t in ideas] == ["garden", "beans"]
    bad = await node.client.post(
        "/api/v1/featured_tags", data={"name": "no spaces"}, headers=auth(node.token)
    )
    assert bad.status == 422
    await answer(
        await node.client.delete(f"/api/v1/featured_tags/{made['id']}", headers=auth(node.token))
    )
    assert (
        await answer(await node.client.get("/api/v1/featured_tags", headers=auth(node.token))) == []
    )
    gone = await node.client.delete(f"/api/v1/featured_tags/{made['id']}", headers=auth(node.token))
    assert gone.status == 404
