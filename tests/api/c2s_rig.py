"""A node with a token, and fake remote servers that also answer WebFinger.

Shared by the C2S, resolution and outbound tests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from agora_node.app import create_app
from agora_node.config import Settings
from agora_node.context import DB
from agora_node.processing import oauth as oauth_rules
from agora_node.processing.remote import actor_record
from agora_node.protocol.httpsig import parse_signature, sign_request, verify_signature
from agora_node.protocol.keys import load_public_key
from agora_node.store import accounts as accounts_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.api.entities import check_shapes
from tests.conftest import BASE_URL, add_account, make_settings
from tests.federation.remote import FakeRemote, Received, RemoteActor

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
AS_JSON = "application/activity+json"
ALICE = f"{BASE_URL}/users/alice"


class WebFingerRemote(FakeRemote):
    """A FakeRemote that answers WebFinger for its actors (or as told in ``webfinger``)."""

    def __init__(self) -> None:
        super().__init__()
        self.webfinger: dict[str, str | None] = {}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path != "/.well-known/webfinger":
            return await super()._handle(request)
        self.requests.append(Received(request.method, request.path_qs, dict(request.headers), b""))
        resource = request.query.get("resource", "")
        href = self.webfinger.get(resource)
        if resource not in self.webfinger:
            user, _, host = resource.removeprefix("acct:").partition("@")
            actor = self.actors.get(f"{self.base}/users/{user}")
            href = actor.uri if actor is not None and host == self.netloc else None
        if href is None:
            return web.Response(status=404)
        jrd = {
            "subject": resource,
            "links": [{"rel": "self", "type": AS_JSON, "href": href}],
        }
        return web.Response(body=json.dumps(jrd).encode(), content_type="application/jrd+json")

    def webfinger_requests(self) -> list[Received]:
        return [r for r in self.requests if r.path.startswith("/.well-known/webfinger")]

    def inbox_posts(self, path: str | None = None) -> list[dict[str, Any]]:
        return [r.json() for r in self.deliveries() if path is None or r.path == path]

    def handle(self, actor: RemoteActor) -> str:
        return f"@{actor.username}@{self.netloc}"


@dataclass
class Node:
    client: TestClient  # type: ignore[type-arg]
    settings: Settings
    alice: AccountRow
    token: str

    @property
    def db(self) -> Database:
        return self.client.server.app[DB]

    async def outbox(
        self, doc: Any, *, token: str | None = None, user: str = "alice", raw: bytes | None = None
    ) -> Any:
        headers = {"Content-Type": AS_JSON}
        if token != "":
            headers["Authorization"] = f"Bearer {token or self.token}"
        body = raw if raw is not None else json.dumps(doc).encode()
        return await self.client.post(f"/users/{user}/outbox", data=body, headers=headers)

    async def send(self, doc: dict[str, Any], **kw: Any) -> str:
        """POST to the outbox, expect 201; returns the Location."""
        resp = await self.outbox(doc, **kw)
        assert resp.status == 201, await resp.text()
        return str(resp.headers["Location"])

    async def get(self, uri: str, *, token: str | None = None, accept: str = AS_JSON) -> Any:
        headers = {"Accept": accept}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.get(uri.replace(BASE_URL, ""), headers=headers)

    async def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await self.db.read(
            lambda c: [tuple(r) for r in c.execute(sql, list(params)).fetchall()]
        )

    async def counts(self) -> dict[str, int]:
        tables = ("activities", "objects", "deliveries", "follows", "likes", "blocks")
        return {t: (await self.rows(f"SELECT count(*) FROM {t}"))[0][0] for t in tables}


def token_for(db: Database, account: AccountRow, scopes: str = "read write follow") -> str:
    issued = db.write_sync(
        lambda c: oauth_rules.issue_token(
            c,
            account_id=account.id,
            app=None,
            scopes=oauth_rules.parse_scopes(scopes),
            now=time.time(),
            refreshable=False,
        )
    )
    return issued.access_token


async def start_node(
    aiohttp_client: Callable[..., Any],
    tmp_path: Path,
    remotes: list[FakeRemote],
    **federation: Any,
) -> Node:
    settings = make_settings(
        tmp_path, federation={"plain_http_hosts": [r.netloc for r in remotes], **federation}
    )
    client = await aiohttp_client(create_app(settings))
    check_shapes(client)
    db = client.server.app[DB]
    alice = add_account(db, settings, "alice")
    return Node(client, settings, alice, token_for(db, alice))


def store_remote_actor(db: Database, actor: RemoteActor) -> None:
    record = actor_record(actor.document(), time.time())

    def write(c: Any) -> None:
        accounts_store.upsert_actor(c, record.values)
        for key_id, pem, key_type in record.keys:
            accounts_store.put_public_key(c, key_id, actor.uri, pem, key_type)

    db.write_sync(write)


def add_follower(db: Database, actor: RemoteActor, followee: str = ALICE) -> None:
    """A remote actor that follows ``followee`` (accepted), as after a Follow/Accept."""
    store_remote_actor(db, actor)
    db.write_sync(
        lambda c: social.put_follow(c, actor.uri, followee, actor.new_id("follows"), "accepted", 0)
    )


def remote_note(remote: FakeRemote, author: RemoteActor, **extra: Any) -> dict[str, Any]:
    """A public note served by ``remote`` at its id."""
    uri = author.new_id("statuses")
    note = {
        "@context": AS,
        "id": uri,
        "type": "Note",
        "attributedTo": author.uri,
        "content": "<p>hello from afar</p>",
        "published": "2024-11-01T10:00:00Z",
        "to": [PUBLIC],
        "cc": [author.followers],
        **extra,
    }
    remote.objects[uri] = note
    return note


async def wait_for(
    read: Callable[[], Awaitable[Any]], *, expect: Any, timeout: float = 10.0
) -> None:
    """Poll ``read()`` until it returns ``expect``."""
    deadline = time.monotonic() + timeout
    while (value := await read()) != expect:
        assert time.monotonic() < deadline, f"still {value!r}, expected {expect!r}"
        await asyncio.sleep(0.02)


async def settle(node: Node) -> None:
    """Wait until no delivery is pending or running."""
    await wait_for(
        lambda: node.rows("SELECT count(*) FROM deliveries WHERE state IN ('pending', 'running')"),
        expect=[(0,)],
    )


async def actor_key_pem(node: Node, username: str = "alice") -> str:
    resp = await node.get(f"/users/{username}")
    doc = await resp.json(content_type=None)
    return str(doc["publicKey"]["publicKeyPem"])


def verify_delivery(remote: FakeRemote, received: Received, public_pem: str) -> None:
    parsed = parse_signature("POST", remote.base + received.path, received.headers)
    verify_signature(parsed, load_public_key(public_pem))
    assert "digest" in parsed.covered and "date" in parsed.covered


def signed_get_headers(actor: RemoteActor, url: str) -> dict[str, str]:
    return sign_request("GET", url, {"Accept": AS_JSON}, None, actor.key)


def account(db: Database, settings: Settings, name: str, **kw: Any) -> AccountRow:
    return add_account(db, settings, name, **kw)


def auth(token: str) -> dict[str, str]:
    """The header of a request made with ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def answer(resp: Any, status: int = 200) -> Any:
    """The JSON of a response, after checking its status (the body shows on failure)."""
    assert resp.status == status, await resp.text()
    return await resp.json()


async def post_status(node: Node, token: str, **form: Any) -> dict[str, Any]:
    """Post through the Mastodon API, as an app does (a form body)."""
    resp = await node.client.post("/api/v1/statuses", data=form, headers=auth(token))
    return dict(await answer(resp))
