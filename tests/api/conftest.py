"""Fixtures for the client-facing APIs: a node app with fake remote servers beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.c2s_rig import Node, WebFingerRemote, start_node


@pytest.fixture
async def remotes() -> AsyncIterator[list[WebFingerRemote]]:
    servers = [await WebFingerRemote.start() for _ in range(3)]
    yield servers
    for server in servers:
        await server.close()


@pytest.fixture
async def node(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remotes: list[WebFingerRemote]
) -> Node:
    return await start_node(aiohttp_client, tmp_path, list(remotes))
