"""Editing one's profile and posting defaults through update_credentials."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.api.c2s_rig import add_follower, answer, auth, settle

PATH = "/api/v1/accounts/update_credentials"


async def test_a_profile_change_shows_everywhere_and_reaches_followers(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, _, _ = remotes
    add_follower(node.db, a.add_actor("bob"))
    form = {
        "display_name": "Alice <b>A.</b>",
        "note": "I grow #tomatoes, see https://example.org/garden",
        "locked": "true",
        "bot": "true",
        "discoverable": "false",
        "fields_attributes[0][name]": "Garden",
        "fields_attributes[0][value]": "https://example.org/garden",
        "fields_attributes[1][name]": "Pronouns",
        "fields_attributes[1][value]": "she/her",
        "source[privacy]": "unlisted",
        "source[sensitive]": "true",
        "source[language]": "fr",
    }
    me = await answer(await node.client.patch(PATH, data=form, headers=auth(node.token)))
    assert me["display_name"] == "Alice A."  # markup goes, its text stays
    assert me["locked"] is True and me["bot"] is True and me["discoverable"] is False
    assert '<a href="https://example.org/garden"' in me["note"]
    assert 'class="mention hashtag"' in me["note"]
    assert me["source"]["note"] == form["note"]
    assert [(f["name"], f["value"]) for f in me["source"]["fields"]] == [
        ("Garden", "https://example.org/garden"),
        ("Pronouns", "she/her"),
    ]
    assert me["fields"][1] == {"name": "Pronouns", "value": "she/her", "verified_at": None}
    assert me["fields"][0]["value"].startswith('<a href="https://example.org/garden"')
    assert me["source"]["privacy"] == "unlisted" and me["source"]["sensitive"] is True
    assert me["source"]["language"] == "fr"
    again = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(node.token))
    )
    assert again == me
    # Peers see the new actor document (the cache lets go at once) and get an Update.
    doc = await (await node.get("/users/alice")).json(content_type=None)
    assert doc["name"] == "Alice A." and doc["type"] == "Service"
    assert doc["manuallyApprovesFollowers"] is True and doc["discoverable"] is False
    assert [p["name"] for p in doc["attachment"]] == ["Garden", "Pronouns"]
    await settle(node)
    (update,) = [d.json() for d in a.deliveries() if d.json()["type"] == "Update"]
    assert update["object"]["id"] == doc["id"] and update["object"]["name"] == "Alice A."
    # Posting defaults apply to a post that does not say.
    post = await answer(
        await node.client.post("/api/v1/statuses", data={"status": "hi"}, headers=auth(node.token))
    )
    assert post["visibility"] == "unlisted" and post["sensitive"] is True
    assert post["language"] == "fr"
    said = await answer(
        await node.client.post(
            "/api/v1/statuses",
            data={"status": "hi", "visibility": "public", "sensitive": "false"},
            headers=auth(node.token),
        )
    )
    assert said["visibility"] == "public" and said["sensitive"] is False
    prefs = await answer(await node.client.get("/api/v1/preferences", headers=auth(node.token)))
    assert prefs["posting:default:visibility"] == "unlisted"
    assert prefs["posting:default:language"] == "fr"


async def test_json_bodies_and_partial_changes(node) -> None:  # type: ignore[no-untyped-def]
    first = await answer(
        await node.client.patch(
            PATH,
            json={"display_name": "Al", "fields_attributes": [{"name": "a", "value": "b"}]},
            headers=auth(node.token),
        )
    )
    assert first["display_name"] == "Al" and len(first["fields"]) == 1
    # What a request leaves out stays as it was; empty fields are dropped.
    second = await answer(
        await node.client.patch(
            PATH,
            json={"note": "hello", "fields_attributes": {"0": {"name": "", "value": ""}}},
            headers=auth(node.token),
        )
    )
    assert second["display_name"] == "Al" and second["fields"] == []
    assert second["note"] == "<p>hello</p>"


async def test_bad_profile_input_is_refused_and_changes_nothing(node) -> None:  # type: ignore[no-untyped-def]
    before = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(node.token))
    )
    bad: list[dict[str, Any]] = [
        {"display_name": "x" * 31},
        {"note": "x" * 501},
        {"locked": "sometimes"},
        {"source": {"privacy": "everyone"}},
        {"source": "public"},
        {"fields_attributes": "name=value"},
        {"fields_attributes": [{"name": str(i), "value": "v"} for i in range(5)]},
        {"fields_attributes": [{"name": "n", "value": "v" * 256}]},
        {"display_name": 5},
    ]
    for body in bad:
        resp = await node.client.patch(PATH, json=body, headers=auth(node.token))
        assert resp.status == 422, (body, await resp.text())
        assert "error" in await resp.json()
    malformed = await node.client.patch(
        PATH, data=b"{not json", headers={**auth(node.token), "Content-Type": "application/json"}
    )
    assert malformed.status == 400
    picture = aiohttp.FormData()
    picture.add_field("avatar", b"\x89PNG...", filename="me.png", content_type="image/png")
    resp = await node.client.patch(PATH, data=picture, headers=auth(node.token))
    assert resp.status == 422 and "must be a JPEG, PNG" in (await resp.json())["error"]
    assert (await node.client.patch(PATH, json={"note": "x"})).status == 401
    after = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(node.token))
    )
    assert after == before


async def test_hide_collections_through_the_api(node) -> None:  # type: ignore[no-untyped-def]
    me = await answer(
        await node.client.patch(PATH, data={"hide_collections": "true"}, headers=auth(node.token))
    )
    assert me["hide_collections"] is True
    again = await answer(
        await node.client.patch(PATH, data={"note": "hi"}, headers=auth(node.token))
    )
    assert again["hide_collections"] is True  # left as it was
