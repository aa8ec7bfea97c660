"""A small fake remote ActivityPub server on 127.0.0.1 for tests.

It serves actor documents with real keys, records every request it gets
(fetches and inbox deliveries), and signs requests as its actors, so tests
can play a Mastodon-like peer over real HTTP.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from agora_node.protocol.httpsig import SigningKey, sign_request
from agora_node.protocol.keys import generate_rsa_keypair, load_private_key

AS = "https://www.w3.org/ns/activitystreams"


@dataclass
class RemoteActor:
    username: str
    base: str
    key: SigningKey
    public_pem: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"{self.base}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.uri}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    @property
    def followers(self) -> str:
        return f"{self.uri}/followers"

    def document(self) -> dict[str, Any]:
        doc = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.username.title(),
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "followers": self.followers,
            "following": f"{self.uri}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_pem},
        }
        doc.update(self.extra)
        return doc

    def rotate_key(self) -> None:
        pair = generate_rsa_keypair()
        self.key = SigningKey(self.key_id, load_private_key(pair.private_pem))
        self.public_pem = pair.public_pem

    def new_id(self, kind: str = "activities") -> str:
        return f"{self.uri}/{kind}/{uuid.uuid4().hex}"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class FakeRemote:
    """Start with ``await FakeRemote.start()``; stop with ``await remote.close()``."""

    def __init__(self) -> None:
        self.actors: dict[str, RemoteActor] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[Received] = []
        self.inbox_status = 202
        self.gone: set[str] = set()
        self.server: TestServer | None = None
        self.base = ""

    @classmethod
    async def start(cls, host: str = "127.0.0.1") -> FakeRemote:
        remote = cls()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", remote._handle)
        remote.server = TestServer(app, host=host)
        await remote.server.start_server()
        remote.base = f"http://{host}:{remote.server.port}"
        return remote

    @property
    def netloc(self) -> str:
        return self.base.removeprefix("http://")

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def add_actor(self, username: str, **extra: Any) -> RemoteActor:
        pair = generate_rsa_keypair()
        actor = RemoteActor(
            username, self.base, SigningKey(f"{self.base}/users/{username}#main-key",
                                            load_private_key(pair.private_pem)),
            pair.public_pem, extra,
        )  # fmt: skip
        self.actors[actor.uri] = actor
        return actor

    def fetches(self) -> list[Received]:
        return [r for r in self.requests if r.method == "GET"]

    def deliveries(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Received(request.method, request.path_qs, dict(request.headers), body))
        url = self.base + request.path
        if request.method == "POST":
            return web.Response(status=self.inbox_status)
        if url in self.gone:
            return web.Response(status=410)
        actor = self.actors.get(url)
        doc = actor.document() if actor else self.objects.get(url)
        if doc is None:
            return web.Response(status=404)
        return web.Response(body=json.dumps(doc).encode(), content_type="application/activity+json")


def signed_post(
    actor: RemoteActor,
    url: str,
    doc: Any,
    *,
    body: bytes | None = None,
    now: float | None = None,
    scheme: str = "cavage",
) -> tuple[bytes, dict[str, str]]:
    """Body and headers of an inbox POST signed by ``actor``."""
    raw = body if body is not None else json.dumps(doc).encode()
    headers = sign_request(
        "POST", url, {"Content-Type": "application/activity+json"}, raw, actor.key,
        scheme=scheme, now=now,
    )  # fmt: skip
    return raw, headers
