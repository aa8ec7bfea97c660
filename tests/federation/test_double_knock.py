"""Double knocking: RFC 9421 first for hosts that prefer it, draft-cavage on 401/403."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from agora_node.app import create_app
from agora_node.context import DB
from agora_node.store import deliveries as deliveries_store
from tests.conftest import add_account, make_settings
from tests.federation.remote import FakeRemote, Received
from tests.federation.test_inbox import follow_of, post, wait_for


class CavageOnlyRemote(FakeRemote):
    """A peer that refuses RFC 9421 signatures, as many fediverse servers still do."""

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST" and "Signature-Input" in request.headers:
            body = await request.read()
            self.requests.append(Received("POST", request.path_qs, dict(request.headers), body))
            return web.Response(status=401)
        return await super()._handle(request)


@pytest.fixture
async def remote() -> AsyncIterator[FakeRemote]:
    server = await CavageOnlyRemote.start()
    yield server
    await server.close()


async def test_falls_back_to_cavage_and_remembers(
    aiohttp_client: Any, tmp_path: Any, remote
) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path,
        federation={"plain_http_hosts": [remote.netloc], "rfc9421_hosts": [remote.netloc]},
    )
    client = await aiohttp_client(create_app(settings))
    db = client.server.app[DB]
    add_account(db, settings, "alice")
    bob = remote.add_actor("bob")
    assert (await post(client, bob, follow_of(bob))).status == 202

    def accepted() -> list[Received]:
        return [
            r
            for r in remote.deliveries()
            if r.headers.get("Signature") and "Signature-Input" not in r.headers
        ]

    await wait_for(lambda: asyncio.sleep(0, accepted()))
    first = remote.deliveries()[0]
    assert "Signature-Input" in first.headers  # RFC 9421 was tried first
    state = await wait_for(
        lambda: db.read(lambda c: deliveries_store.get_host_state(c, remote.netloc))
    )
    assert state.signature_scheme == "cavage"
    # The next delivery to that host goes straight to draft-cavage.
    before = len(remote.deliveries())
    assert (await post(client, bob, follow_of(bob), path="/inbox")).status == 202
    await wait_for(lambda: asyncio.sleep(0, len(remote.deliveries()) > before))
    assert "Signature-Input" not in remote.deliveries()[before].headers
