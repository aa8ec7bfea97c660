"""Hashtag timelines, Tag entities, followed hashtags and /api/v2/search on a live app."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.c2s_rig import (
    Node,
    account,
    answer,
    auth,
    post_status,
    remote_note,
    store_remote_actor,
    token_for,
)


async def _ids(node: Node, path: str, token: str | None = None) -> list[str]:
    headers = auth(token) if token else {}
    return [s["id"] for s in await answer(await node.client.get(path, headers=headers))]


async def test_hashtag_timelines_and_filters(node) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    bob_token = token_for(node.db, bob)
    one = await post_status(node, node.token, status="tomatoes #Garden")
    two = await post_status(node, bob_token, status="beans #garden #beans")
    await post_status(node, bob_token, status="quiet #garden", visibility="unlisted")
    await post_status(node, bob_token, status="friends #garden", visibility="private")
    other = await post_status(node, bob_token, status="just #beans")
    assert await _ids(node, "/api/v1/timelines/tag/garden") == [two["id"], one["id"]]
    assert await _ids(node, "/api/v1/timelines/tag/%23GARDEN") == [two["id"], one["id"]]
    assert await _ids(node, "/api/v1/timelines/tag/garden?local=true") == [two["id"], one["id"]]
    assert await _ids(node, "/api/v1/timelines/tag/garden?remote=true") == []
    assert await _ids(node, "/api/v1/timelines/tag/garden?any[]=beans") == [
        other["id"], two["id"], one["id"],
    ]  # fmt: skip
    assert await _ids(node, "/api/v1/timelines/tag/garden?all[]=beans") == [two["id"]]
    assert await _ids(node, "/api/v1/timelines/tag/garden?none[]=beans") == [one["id"]]
    paged = await node.client.get("/api/v1/timelines/tag/garden?limit=1")
    assert len(await paged.json()) == 1 and 'rel="next"' in paged.headers["Link"]
    # A muted author leaves the viewer's hashtag timeline.
    (row,) = await node.rows("SELECT id FROM actors WHERE uri = ?", bob.actor.uri)  # type: ignore[union-attr]
    await answer(
        await node.client.post(f"/api/v1/accounts/{row[0]}/mute", headers=auth(node.token))
    )
    assert await _ids(node, "/api/v1/timelines/tag/garden", node.token) == [one["id"]]
    assert (await node.client.get("/api/v1/timelines/tag/%20")).status == 404
    assert (await node.client.get("/api/v1/timelines/tag/garden?local=maybe")).status == 400


async def test_tags_can_be_followed_into_the_home_timeline(node) -> None:  # type: ignore[no-untyped-def]
    carl = account(node.db, node.settings, "carl")
    carl_token = token_for(node.db, carl)
    before = await post_status(node, carl_token, status="old #garden news")
    tag = await answer(await node.client.get("/api/v1/tags/Garden", headers=auth(node.token)))
    assert tag["name"] == "garden" and tag["following"] is False
    assert tag["url"].endswith("/tags/garden") and len(tag["history"]) == 7
    assert tag["history"][0]["uses"] == "1" and tag["history"][0]["accounts"] == "1"
    anonymous = await answer(await node.client.get("/api/v1/tags/garden"))
    assert "following" not in anonymous
    assert before["id"] not in await _ids(node, "/api/v1/timelines/home", node.token)
    followed = await answer(
        await node.client.post("/api/v1/tags/garden/follow", headers=auth(node.token))
    )
    assert followed["following"] is True
    listed = await answer(await node.client.get("/api/v1/followed_tags", headers=auth(node.token)))
    assert [t["name"] for t in listed] == ["garden"]
    fresh = await post_status(node, carl_token, status="new #garden news")
    hidden = await post_status(node, carl_token, status="#garden for friends", visibility="private")
    home = await _ids(node, "/api/v1/timelines/home", node.token)
    assert fresh["id"] in home and before["id"] in home and hidden["id"] not in home
    # Paging the home timeline keeps the followed tag's posts in order.
    for n in range(4):
        await post_status(node, carl_token, status=f"more #garden {n}")
    first = await _ids(node, "/api/v1/timelines/home?limit=3", node.token)
    rest = await _ids(node, f"/api/v1/timelines/home?limit=40&max_id={first[-1]}", node.token)
    assert len(first) == 3 and first + rest == sorted(first + rest, key=int, reverse=True)
    assert fresh["id"] in rest and before["id"] in rest
    unfollowed = await answer(
        await node.client.post("/api/v1/tags/garden/unfollow", headers=auth(node.token))
    )
    assert unfollowed["following"] is False
    assert fresh["id"] not in await _ids(node, "/api/v1/timelines/home", node.token)
    assert (await node.client.post("/api/v1/tags/garden/follow")).status == 401
    assert (await node.client.get("/api/v1/tags/no%20such")).status == 404


async def test_search_finds_accounts_hashtags_and_posts(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = remotes
    mine = await post_status(node, node.token, status="growing #tomatoes on the balcony")
    url = "/api/v2/search?q="
    found = await answer(await node.client.get(f"{url}tomato", headers=auth(node.token)))
    assert [t["name"] for t in found["hashtags"]] == ["tomatoes"]
    assert [s["id"] for s in found["statuses"]] == [mine["id"]]
    words = await answer(await node.client.get(f"{url}balcony", headers=auth(node.token)))
    assert [s["id"] for s in words["statuses"]] == [mine["id"]]
    people = await answer(
        await node.client.get(f"{url}alice&type=accounts", headers=auth(node.token))
    )
    assert [x["acct"] for x in people["accounts"]] == ["alice"]
    assert people["statuses"] == [] and people["hashtags"] == []
    by_link = await answer(
        await node.client.get(f"{url}{quote(mine['url'])}", headers=auth(node.token))
    )
    assert [s["id"] for s in by_link["statuses"]] == [mine["id"]]
    by_id = await answer(
        await node.client.get(f"{url}{quote(mine['uri'])}", headers=auth(node.token))
    )
    assert [s["id"] for s in by_id["statuses"]] == [mine["id"]]
    # A remote post, by its page's address: found only with resolve, then kept.
    carol = a.add_actor("carol")
    note = remote_note(a, carol, content="<p>hello from the other side</p>")
    page = f"{a.base}/@carol/123"
    a.objects[page] = note
    unresolved = await answer(
        await node.client.get(f"{url}{quote(page)}", headers=auth(node.token))
    )
    assert unresolved["statuses"] == []
    resolved = await answer(
        await node.client.get(f"{url}{quote(page)}&resolve=true", headers=auth(node.token))
    )
    (status,) = resolved["statuses"]
    assert status["uri"] == note["id"] and "other side" in status["content"]
    assert status["account"]["acct"] == f"carol@{a.netloc}"
    assert await node.rows("SELECT count(*) FROM notifications") == [(0,)]
    again = await answer(
        await node.client.get(f"{url}{quote(note['id'])}", headers=auth(node.token))
    )
    assert [s["uri"] for s in again["statuses"]] == [note["id"]]
    # A remote account by handle, resolved over WebFinger.
    erin = b.add_actor("erin")
    handle = quote(b.handle(erin))
    remote = await answer(
        await node.client.get(f"{url}{handle}&resolve=true&type=accounts", headers=auth(node.token))
    )
    assert [x["acct"] for x in remote["accounts"]] == [f"erin@{b.netloc}"]
    # An actor's address with resolve finds the account.
    store_remote_actor(node.db, a.add_actor("dave"))
    dave = await answer(
        await node.client.get(
            f"{url}{quote(a.base + '/users/dave')}&resolve=true", headers=auth(node.token)
        )
    )
    assert [x["username"] for x in dave["accounts"]] == ["dave"]
    # A page that does not lead to a post answers with nothing, not an error.
    nothing = await answer(
        await node.client.get(
            f"{url}{quote(a.base + '/nothing')}&resolve=true", headers=auth(node.token)
        )
    )
    assert nothing == {"accounts": [], "statuses": [], "hashtags": []}


async def test_search_input_and_anonymous_callers(node) -> None:  # type: ignore[no-untyped-def]
    await post_status(node, node.token, status="a #fine day")
    anonymous = await answer(await node.client.get("/api/v2/search?q=fine"))
    assert [t["name"] for t in anonymous["hashtags"]] == ["fine"] and anonymous["statuses"] == []
    assert await answer(await node.client.get("/api/v2/search?q=")) == {
        "accounts": [], "statuses": [], "hashtags": [],
    }  # fmt: skip
    for bad in ("q=x&type=people", "q=x&limit=many", "q=" + "x" * 501, "q=x&offset=5"):
        resp = await node.client.get(f"/api/v2/search?{bad}")
        assert resp.status == 400 and "error" in await resp.json(), bad
    wrong = await node.client.get("/api/v2/search?q=x", headers=auth("not-a-token"))
    assert wrong.status == 401
