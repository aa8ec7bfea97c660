"""The Mastodon client API for timelines, notifications, statuses and accounts."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlite_utils
from aiohttp.test_utils import TestClient

from agora_node.config import Settings
from agora_node.context import DB
from agora_node.processing import oauth as rules
from agora_node.store import accounts as accounts_store
from agora_node.store import social
from tests.conftest import BASE_URL, add_account
from tests.store.test_timelines import (
    boost,
    delete,
    follow,
    local_actor,
    post,
    remote_actor,
    uri_of,
)

Client = TestClient  # type: ignore[type-arg]
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def token_for(client: Client, settings: Settings, username: str, scopes: str) -> str:
    db = client.app[DB]
    account = db.read_sync(lambda c: accounts_store.get_account_by_username(c, username))
    if account is None:
        account = add_account(db, settings, username)
    account_id = account.id
    issued = await db.write(
        lambda c: rules.issue_token(
            c, account_id=account_id, app=None, scopes=rules.parse_scopes(scopes), now=time.time()
        )
    )
    return issued.access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def links(resp: Any) -> dict[str, dict[str, list[str]]]:
    """``rel`` -> query of each URL in the Link header."""
    out = {}
    for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', resp.headers.get("Link", "")):
        assert url.startswith(f"{BASE_URL}/api/v1/")
        out[rel] = parse_qs(urlsplit(url).query)
    return out


@pytest.fixture
async def town(client: Client, settings: Settings) -> dict[str, Any]:
    """Alice (read token) follows remote Bob; Carol is local; Dan is remote."""
    alice = await token_for(client, settings, "alice", "read")
    carol = await token_for(client, settings, "carol", "read")
    db = client.app[DB]

    def given(c: sqlite_utils.Database) -> dict[str, str]:
        names = {"bob": remote_actor(c, "bob"), "dan": remote_actor(c, "dan", "far.example")}
        follow(c, local_actor("alice"), names["bob"])
        return names

    names = await db.write(given)
    return {
        "alice": local_actor("alice"), "carol": local_actor("carol"), **names,
        "alice_token": alice, "carol_token": carol, "db": db,
    }  # fmt: skip


# -- tokens and scopes ---------------------------------------------------------------------


async def test_home_and_notifications_need_a_token_and_scope(
    client: Client, settings: Settings, town: dict[str, Any]
) -> None:
    for path in ("/api/v1/timelines/home", "/api/v1/notifications", "/api/v1/notifications/1"):
        resp = await client.get(path)
        assert resp.status == 401, path
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in await resp.json()
    write_only = await token_for(client, settings, "alice", "write")
    assert (await client.get("/api/v1/timelines/home", headers=bearer(write_only))).status == 403
    statuses_only = await token_for(client, settings, "alice", "read:statuses")
    ok = await client.get("/api/v1/timelines/home", headers=bearer(statuses_only))
    assert ok.status == 200 and await ok.json() == []
    denied = await client.get("/api/v1/notifications", headers=bearer(statuses_only))
    assert denied.status == 403
    assert "read:notifications" in (await denied.json())["error_description"]
    bad = await client.get("/api/v1/timelines/home", headers=bearer("nope"))
    assert bad.status == 401
    # A token sent to a public endpoint must be valid and hold the scope too
    assert (await client.get("/api/v1/timelines/public", headers=bearer("nope"))).status == 401
    public = await client.get("/api/v1/timelines/public", headers=bearer(write_only))
    assert public.status == 403


# -- home ----------------------------------------------------------------------------------


async def test_home_renders_mastodon_statuses(client: Client, town: dict[str, Any]) -> None:
    t = town

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        parent = post(c, t["alice"], content="<p>parent</p>")
        reply = post(
            c,
            t["bob"],
            visibility="private",
            in_reply_to=uri_of(c, parent),
            content="<p>hi <a href='x'>@alice</a> #Agora</p>",
            data={
                "attachments": [
                    {"type": "Document", "mediaType": "image/png", "url": "https://r.example/a.png",
                     "name": "a cat", "blurhash": "LEHV6n"},
                ],
            },
            tags=[
                ("mention", "@alice", t["alice"]),
                ("hashtag", "agora", None),
                ("emoji", ":blob:", "https://r.example/blob.png"),
            ],
        )  # fmt: skip
        social.put_like(c, t["alice"], uri_of(c, reply), "https://x/like/1", 0.0)
        return {"parent": parent, "reply": reply}

    p = await t["db"].write(given)
    resp = await client.get("/api/v1/timelines/home", headers=bearer(t["alice_token"]))
    assert resp.status == 200
    body = await resp.json()
    assert [s["id"] for s in body] == [str(p["reply"]), str(p["parent"])]
    status = body[0]
    assert status["visibility"] == "private"
    assert _ISO.fullmatch(status["created_at"]) and status["edited_at"] is None
    assert status["content"] == "<p>hi <a href='x'>@alice</a> #Agora</p>"
    assert status["in_reply_to_id"] == str(p["parent"])
    assert status["in_reply_to_account_id"] == body[1]["account"]["id"]
    assert status["account"]["acct"] == "bob@remote.example"
    assert status["account"]["username"] == "bob" and status["account"]["display_name"] == "Bob"
    assert body[1]["account"]["acct"] == "alice"
    assert status["mentions"] == [
        {
            "id": body[1]["account"]["id"],
            "username": "alice",
            "url": f"{BASE_URL}/@alice",
            "acct": "alice",
        }
    ]
    assert status["tags"] == [{"name": "agora", "url": f"{BASE_URL}/tags/agora"}]
    assert status["emojis"][0]["shortcode"] == "blob"
    media = status["media_attachments"][0]
    assert media["type"] == "image" and media["url"] == "https://r.example/a.png"
    assert media["description"] == "a cat" and media["blurhash"] == "LEHV6n"
    assert status["favourited"] is True and status["reblogged"] is False
    assert status["favourites_count"] == 1 and status["reblogs_count"] == 0
    assert body[1]["replies_count"] == 1
    assert status["reblog"] is None and status["poll"] is None and status["language"] is None
    assert status["spoiler_text"] == "" and status["sensitive"] is False


async def test_boosts_show_as_reblogs(client: Client, town: dict[str, Any]) -> None:
    t = town
    by_dan = await t["db"].write(lambda c: post(c, t["dan"], content="<p>worth it</p>"))
    boosted = await t["db"].write(lambda c: boost(c, t["bob"], by_dan))
    await t["db"].write(lambda c: boost(c, t["alice"], by_dan))  # Alice boosted it too
    resp = await client.get("/api/v1/timelines/home", headers=bearer(t["alice_token"]))
    body = await resp.json()
    wrapper = body[1]
    assert wrapper["id"] == str(boosted) and wrapper["content"] == ""
    assert wrapper["account"]["acct"] == "bob@remote.example"
    assert wrapper["reblog"]["id"] == str(by_dan)
    assert wrapper["reblog"]["content"] == "<p>worth it</p>"
    assert wrapper["reblog"]["account"]["acct"] == "dan@far.example"
    assert wrapper["reblog"]["reblogs_count"] == 2 and wrapper["reblog"]["reblogged"] is True
    # The boost itself can be fetched by its id, like on Mastodon
    one = await client.get(f"/api/v1/statuses/{boosted}")
    assert (await one.json())["reblog"]["id"] == str(by_dan)


async def test_home_paging_with_link_headers(client: Client, town: dict[str, Any]) -> None:
    t = town
    posted = await t["db"].write(lambda c: [post(c, t["bob"]) for _ in range(7)])
    auth = bearer(t["alice_token"])
    first = await client.get("/api/v1/timelines/home?limit=3", headers=auth)
    assert [int(s["id"]) for s in await first.json()] == posted[:-4:-1]
    rel = links(first)
    assert rel["next"] == {"limit": ["3"], "max_id": [str(posted[4])]}
    assert rel["prev"] == {"limit": ["3"], "min_id": [str(posted[6])]}
    second = await client.get(
        f"/api/v1/timelines/home?limit=3&max_id={rel['next']['max_id'][0]}", headers=auth
    )
    assert [int(s["id"]) for s in await second.json()] == posted[3:0:-1]
    # min_id: the page just newer than it; since_id: the newest ones above it
    gap = await client.get(f"/api/v1/timelines/home?limit=2&min_id={posted[1]}", headers=auth)
    assert [int(s["id"]) for s in await gap.json()] == [posted[3], posted[2]]
    top = await client.get(f"/api/v1/timelines/home?limit=2&since_id={posted[1]}", headers=auth)
    assert [int(s["id"]) for s in await top.json()] == [posted[6], posted[5]]
    # Nothing newer: an empty page and no Link header
    empty = await client.get(f"/api/v1/timelines/home?min_id={posted[6]}", headers=auth)
    assert await empty.json() == [] and "Link" not in empty.headers


@pytest.mark.parametrize(
    "query",
    ["max_id=abc", "since_id=-1", "min_id=1.5", "limit=ten", "limit=", "local=maybe", "max_id=%00"],
)
async def test_garbage_parameters_are_400(client: Client, town: dict[str, Any], query: str) -> None:
    resp = await client.get(f"/api/v1/timelines/public?{query}")
    if query == "limit=":
        assert resp.status == 200  # an empty value is an absent one
        return
    assert resp.status == 400
    assert resp.content_type == "application/json" and (await resp.json())["error"]


async def test_limit_is_clamped(client: Client, town: dict[str, Any]) -> None:
    await town["db"].write(lambda c: [post(c, town["bob"]) for _ in range(45)])
    many = await client.get("/api/v1/timelines/public?limit=1000")
    assert len(await many.json()) == 40
    few = await client.get("/api/v1/timelines/public?limit=-3")
    assert len(await few.json()) == 1


# -- public and local ----------------------------------------------------------------------


async def test_public_and_local_timelines(client: Client, town: dict[str, Any]) -> None:
    t = town

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        return {
            "local": post(c, t["alice"]),
            "remote": post(c, t["dan"]),
            "unlisted": post(c, t["carol"], visibility="unlisted"),
            "private": post(c, t["bob"], visibility="private"),
        }

    p = await t["db"].write(given)

    async def listed(path: str) -> list[int]:
        resp = await client.get(path)
        assert resp.status == 200
        body = await resp.json()
        assert all("favourited" not in s for s in body)  # anonymous: no viewer marks
        return [int(s["id"]) for s in body]

    assert await listed("/api/v1/timelines/public") == [p["remote"], p["local"]]
    assert await listed("/api/v1/timelines/public?local=true") == [p["local"]]
    assert await listed("/api/v1/timelines/local") == [p["local"]]
    assert await listed("/api/v1/timelines/public?remote=1") == [p["remote"]]
    assert await listed("/api/v1/timelines/public?local=true&remote=true") == [
        p["remote"],
        p["local"],
    ]
    signed = await client.get("/api/v1/timelines/public", headers=bearer(t["carol_token"]))
    assert (await signed.json())[0]["favourited"] is False


# -- notifications -------------------------------------------------------------------------


async def test_notifications_list_filters_and_single(
    client: Client, settings: Settings, town: dict[str, Any]
) -> None:
    t = town
    db = t["db"]
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    mine = await db.write(lambda c: post(c, t["alice"], content="<p>mine</p>"))
    mine_uri = db.read_sync(lambda c: uri_of(c, mine))

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        def add(kind: str, who: str, uri: str | None, at: float) -> int:
            return social.add_notification(c, alice.id, kind, who, uri, None, at)

        return {
            "follow": add("follow", t["bob"], None, 1_700_000_000.0),
            "reply": add("reply", t["dan"], mine_uri, 1_700_000_001.0),
            "like": add("favourite", t["bob"], mine_uri, 1_700_000_002.0),
            "move": add("move", t["dan"], t["bob"], 1_700_000_003.0),
        }

    n = await db.write(given)
    auth = bearer(t["alice_token"])
    resp = await client.get("/api/v1/notifications", headers=auth)
    body = await resp.json()
    assert [x["id"] for x in body] == [str(n[k]) for k in ("move", "like", "reply", "follow")]
    move, like, reply, followed = body
    assert reply["type"] == "mention" and reply["status"]["id"] == str(mine)
    assert reply["account"]["acct"] == "dan@far.example"
    assert like["type"] == "favourite" and like["status"]["content"] == "<p>mine</p>"
    assert followed["type"] == "follow" and "status" not in followed
    assert move["type"] == "move" and move["target"]["acct"] == "bob@remote.example"
    assert _ISO.fullmatch(followed["created_at"])
    assert links(resp)["next"] == {"max_id": [str(n["follow"])]}

    async def kinds(query: str) -> list[str]:
        listed = await client.get(f"/api/v1/notifications?{query}", headers=auth)
        assert listed.status == 200
        return [x["type"] for x in await listed.json()]

    assert await kinds("types[]=mention") == ["mention"]
    assert await kinds("types[]=mention&types[]=follow") == ["mention", "follow"]
    assert await kinds("exclude_types[]=favourite&exclude_types[]=move") == ["mention", "follow"]
    assert await kinds("types[]=poll") == []
    assert await kinds(f"max_id={n['like']}&limit=1") == ["mention"]

    single = await client.get(f"/api/v1/notifications/{n['like']}", headers=auth)
    assert (await single.json())["type"] == "favourite"
    # Carol cannot read Alice's notifications
    carol = bearer(t["carol_token"])
    theirs = await client.get(f"/api/v1/notifications/{n['like']}", headers=carol)
    assert theirs.status == 404
    assert (await client.get("/api/v1/notifications/999999", headers=auth)).status == 404


# -- statuses and accounts -----------------------------------------------------------------


async def test_single_status_visibility(client: Client, town: dict[str, Any]) -> None:
    t = town

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        return {
            "public": post(c, t["bob"]),
            "private": post(c, t["bob"], visibility="private"),
            "direct": post(c, t["bob"], visibility="direct", to=(t["carol"],)),
            "gone": post(c, t["bob"]),
        }

    p = await t["db"].write(given)
    await t["db"].write(lambda c: delete(c, p["gone"]))

    async def status(key: str, token: str | None = None) -> int:
        headers = bearer(token) if token else {}
        return (await client.get(f"/api/v1/statuses/{p[key]}", headers=headers)).status

    assert await status("public") == 200
    assert await status("private") == 404
    assert await status("private", t["alice_token"]) == 200  # Alice follows Bob
    assert await status("private", t["carol_token"]) == 404
    assert await status("direct", t["carol_token"]) == 200
    assert await status("direct", t["alice_token"]) == 404
    assert await status("gone") == 404
    assert (await client.get("/api/v1/statuses/123456789")).status == 404
    assert (await client.get("/api/v1/statuses/abc")).status == 404
    body = await (await client.get(f"/api/v1/statuses/{p['public']}")).json()
    assert body["id"] == str(p["public"]) and body["uri"].startswith("https://remote.example/")


async def test_accounts_by_id(client: Client, town: dict[str, Any]) -> None:
    t = town
    await t["db"].write(lambda c: [post(c, t["bob"]) for _ in range(2)])
    ids = t["db"].read_sync(
        lambda c: {
            name: c.execute("SELECT id FROM actors WHERE uri = ?", [t[name]]).fetchone()[0]
            for name in ("alice", "bob")
        }
    )
    bob = await (await client.get(f"/api/v1/accounts/{ids['bob']}")).json()
    assert bob["acct"] == "bob@remote.example" and bob["url"] == "https://remote.example/@bob"
    assert bob["statuses_count"] == 2 and bob["followers_count"] == 1
    assert _ISO.fullmatch(bob["created_at"])
    alice = await (await client.get(f"/api/v1/accounts/{ids['alice']}")).json()
    assert alice["acct"] == "alice" and alice["following_count"] == 1
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(t["alice_token"]))
    assert (await me.json())["id"] == alice["id"]  # one id space with verify_credentials
    assert (await client.get("/api/v1/accounts/987654")).status == 404


async def test_polls_and_edits(client: Client, town: dict[str, Any]) -> None:
    t = town
    poll = {
        "multiple": False,
        "options": [{"name": "yes", "votes": 3}, {"name": "no", "votes": 1}],
        "endTime": "2001-01-01T00:00:00Z",
    }
    asked = await t["db"].write(lambda c: post(c, t["dan"], data={"poll": poll}))
    await t["db"].write(
        lambda c: c.execute("UPDATE objects SET updated = published + 60 WHERE id = ?", [asked])
    )
    body = await (await client.get(f"/api/v1/statuses/{asked}")).json()
    assert body["poll"]["options"] == [
        {"title": "yes", "votes_count": 3},
        {"title": "no", "votes_count": 1},
    ]
    assert body["poll"]["votes_count"] == 4 and body["poll"]["expired"] is True
    assert body["poll"]["expires_at"] == "2001-01-01T00:00:00.000Z"
    assert _ISO.fullmatch(body["edited_at"]) and body["edited_at"] > body["created_at"]
