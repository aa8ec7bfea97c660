"""Keyword filters (v2 and v1), applied to timelines, notifications and streams."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from agora_node.store import social
from tests.api.c2s_rig import Node, account, answer, auth, token_for

V2 = "/api/v2/filters"


@pytest.fixture
def bob(node: Node) -> str:
    """bob, whom alice follows; his token."""
    bob = account(node.db, node.settings, "bob")
    assert bob.actor is not None and node.alice.actor is not None
    node.db.write_sync(
        lambda c: social.put_follow(c, node.alice.actor.uri, bob.actor.uri, None, "accepted", 0)
    )  # type: ignore[union-attr]
    return token_for(node.db, bob)


async def _post(node: Node, token: str, **form: str) -> dict[str, Any]:
    return dict(await answer(await node.client.post("/api/v1/statuses", data=form,
                                                     headers=auth(token))))  # fmt: skip


async def _home(node: Node) -> dict[str, dict[str, Any]]:
    statuses = await answer(
        await node.client.get("/api/v1/timelines/home", headers=auth(node.token))
    )
    return {s["id"]: s for s in statuses}


async def _filter(node: Node, **body: Any) -> dict[str, Any]:
    return dict(await answer(await node.client.post(V2, json=body, headers=auth(node.token))))


async def test_hide_removes_and_warn_marks_posts_at_home(node: Node, bob: str) -> None:
    spoiler = await _post(node, bob, status="Big spoilers for the finale!")
    inside = await _post(node, bob, status="nospoilersx here, not a whole word")
    cats = await _post(node, bob, status="Look at my CATS")
    cw = await _post(node, bob, status="hidden body", spoiler_text="spoilers in the warning")
    mine = await _post(node, node.token, status="my own spoilers")
    hide = await _filter(
        node, title="No spoilers", context=["home", "public"], filter_action="hide",
        keywords_attributes=[{"keyword": "spoilers", "whole_word": True}],
    )  # fmt: skip
    assert hide["filter_action"] == "hide" and hide["keywords"][0]["whole_word"] is True
    warn = await _filter(
        node, title="Cats", context=["home"], filter_action="warn",
        keywords_attributes=[{"keyword": "cats", "whole_word": False}],
    )  # fmt: skip
    home = await _home(node)
    assert spoiler["id"] not in home and cw["id"] not in home
    assert inside["id"] in home  # a whole-word keyword does not match inside a word
    assert mine["id"] in home  # one's own posts are not filtered away
    matched = home[cats["id"]]["filtered"]
    assert [(m["filter"]["id"], m["keyword_matches"]) for m in matched] == [(warn["id"], ["cats"])]
    assert home[inside["id"]]["filtered"] == []
    # The public timeline is filtered too (the hide filter names it); a profile is not.
    public = await answer(
        await node.client.get("/api/v1/timelines/public", headers=auth(node.token))
    )
    assert spoiler["id"] not in [s["id"] for s in public]
    bob_id = home[inside["id"]]["account"]["id"]
    profile = await answer(
        await node.client.get(f"/api/v1/accounts/{bob_id}/statuses", headers=auth(node.token))
    )
    assert spoiler["id"] in [s["id"] for s in profile]
    # Removing the filter brings them back.
    assert (await node.client.delete(f"{V2}/{hide['id']}", headers=auth(node.token))).status == 200
    assert spoiler["id"] in await _home(node)


async def test_forms_keywords_statuses_changes_and_expiry(node: Node, bob: str) -> None:
    first = await _post(node, bob, status="rust and python")
    other = await _post(node, bob, status="nothing to see")
    # A form, as apps send it: keywords_attributes[][keyword].
    resp = await node.client.post(
        V2,
        data=[("title", "langs"), ("context[]", "home"), ("filter_action", "hide"),
              ("keywords_attributes[][keyword]", "rust"),
              ("keywords_attributes[][keyword]", "golang")],
        headers=auth(node.token),
    )  # fmt: skip
    made = await answer(resp)
    assert [k["keyword"] for k in made["keywords"]] == ["rust", "golang"]
    assert first["id"] not in await _home(node)
    # Change: a keyword removed, one changed, the title; then the filter expires.
    rust, golang = made["keywords"]
    changed = await answer(
        await node.client.put(
            f"{V2}/{made['id']}",
            json={"title": "languages", "keywords_attributes": [
                {"id": rust["id"], "_destroy": True},
                {"id": golang["id"], "keyword": "python"}]},
            headers=auth(node.token),
        )
    )  # fmt: skip
    assert changed["title"] == "languages"
    assert [k["keyword"] for k in changed["keywords"]] == ["python"]
    assert first["id"] not in await _home(node)
    # A single post named by the filter, with no keyword about it.
    added = await answer(
        await node.client.post(f"{V2}/{made['id']}/statuses", data={"status_id": other["id"]},
                               headers=auth(node.token))
    )  # fmt: skip
    assert added["status_id"] == other["id"]
    assert other["id"] not in await _home(node)
    listed = await answer(
        await node.client.get(f"{V2}/{made['id']}/statuses", headers=auth(node.token))
    )
    assert listed == [added]
    # Expiry: a filter past its end applies no more, but is still listed.
    await answer(
        await node.client.put(f"{V2}/{made['id']}", json={"expires_in": 1},
                              headers=auth(node.token))
    )  # fmt: skip
    await asyncio.sleep(1.1)
    home = await _home(node)
    assert first["id"] in home and other["id"] in home
    (kept,) = await answer(await node.client.get(V2, headers=auth(node.token)))
    assert kept["expires_at"] is not None


async def test_keywords_endpoints_and_v1(node: Node) -> None:
    made = await _filter(node, title="t", context=["notifications"], keywords_attributes=[])
    kw = await answer(
        await node.client.post(f"{V2}/{made['id']}/keywords", data={"keyword": "foo"},
                               headers=auth(node.token))
    )  # fmt: skip
    assert kw["whole_word"] is False
    shown = await answer(
        await node.client.get(f"{V2}/keywords/{kw['id']}", headers=auth(node.token))
    )
    assert shown == kw
    changed = await answer(
        await node.client.put(f"{V2}/keywords/{kw['id']}", data={"whole_word": "true"},
                              headers=auth(node.token))
    )  # fmt: skip
    assert changed["whole_word"] is True and changed["keyword"] == "foo"
    # v1 sees each keyword as a filter; makes and removes one per phrase.
    v1 = await answer(await node.client.get("/api/v1/filters", headers=auth(node.token)))
    assert [(f["phrase"], f["irreversible"]) for f in v1] == [("foo", False)]
    old = await answer(
        await node.client.post(
            "/api/v1/filters",
            data={"phrase": "bar", "context[]": ["home", "thread"], "irreversible": "true"},
            headers=auth(node.token),
        )
    )
    assert old["context"] == ["home", "thread"] and old["irreversible"] is True
    v2 = await answer(await node.client.get(V2, headers=auth(node.token)))
    assert [(f["title"], f["filter_action"]) for f in v2] == [("t", "warn"), ("bar", "hide")]
    assert (await node.client.delete(f"/api/v1/filters/{old['id']}",
                                     headers=auth(node.token))).status == 200  # fmt: skip
    assert len(await answer(await node.client.get(V2, headers=auth(node.token)))) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"context": ["home"]}, "title can't be blank"),
        ({"title": "x"}, "context can't be blank"),
        ({"title": "x", "context": ["everywhere"]}, "is not one of"),
        ({"title": "x", "context": ["home"], "filter_action": "nuke"}, "filter_action must be"),
        ({"title": "x", "context": ["home"], "expires_in": -5}, "expires_in"),
        (
            {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": " "}]},
            "keyword can't be blank",
        ),
    ],
)
async def test_bad_filters_are_refused(node: Node, body: dict[str, Any], message: str) -> None:
    resp = await node.client.post(V2, json=body, headers=auth(node.token))
    assert resp.status == 422, await resp.text()
    assert message in (await resp.json())["error"]
    assert await answer(await node.client.get(V2, headers=auth(node.token))) == []


async def test_filters_are_their_owners_alone(node: Node, bob: str) -> None:
    made = await _filter(node, title="mine", context=["home"],
                         keywords_attributes=[{"keyword": "x"}])  # fmt: skip
    for path in (f"{V2}/{made['id']}", f"{V2}/keywords/{made['keywords'][0]['id']}"):
        assert (await node.client.get(path, headers=auth(bob))).status == 404
        assert (await node.client.delete(path, headers=auth(bob))).status == 404
    assert (await node.client.get(V2, headers=auth(bob))).status == 200


async def test_notifications_and_streams_are_filtered(node: Node, bob: str) -> None:
    await _filter(
        node, title="no ads", context=["home", "notifications"], filter_action="hide",
        keywords_attributes=[{"keyword": "discount"}],
    )  # fmt: skip
    await _post(node, bob, status="@alice huge discount today")
    hello = await _post(node, bob, status="@alice hello")
    notes = await answer(await node.client.get("/api/v1/notifications", headers=auth(node.token)))
    assert [n["status"]["id"] for n in notes] == [hello["id"]]
    async with node.client.ws_connect(
        f"/api/v1/streaming?stream=user&access_token={node.token}"
    ) as ws:
        await asyncio.sleep(0.3)  # the hub takes its first marks
        await _post(node, bob, status="another discount")
        fine = await _post(node, bob, status="just news")
        update = await _next(ws, "update")
        assert json.loads(update["payload"])["id"] == fine["id"]
        # Changing a filter tells the person's streams.
        await _filter(node, title="later", context=["home"], keywords_attributes=[])
        changed = await _next(ws, "filters_changed")
        assert changed["stream"] == ["user"]


async def _next(ws: Any, event: str) -> dict[str, Any]:
    async with asyncio.timeout(5.0):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data.get("event") == event:
                return dict(data)
            assert data.get("event") != "update" or "discount" not in data["payload"]
