"""A fake remote ActivityPub server on 127.0.0.1 for every federation test, and a
node (with the account alice) that trusts it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from agora_node.app import create_app
from agora_node.config import Settings
from agora_node.context import DB
from tests.conftest import add_account, make_settings
from tests.federation.remote import FakeRemote


@pytest.fixture
async def remote() -> AsyncIterator[FakeRemote]:
    server = await FakeRemote.start()
    yield server
    await server.close()


def node_settings(tmp_path: Path, remote: FakeRemote, **federation: Any) -> Settings:
    return make_settings(tmp_path, federation={"plain_http_hosts": [remote.netloc], **federation})


@pytest.fixture
async def node(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remote: FakeRemote
) -> TestClient:  # type: ignore[type-arg]
    settings = node_settings(tmp_path, remote)
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice")
    return client
