"""A fake remote ActivityPub server on 127.0.0.1 for every federation test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.federation.remote import FakeRemote


@pytest.fixture
async def remote() -> AsyncIterator[FakeRemote]:
    server = await FakeRemote.start()
    yield server
    await server.close()
