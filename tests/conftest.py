"""Shared fixtures: a node on a real SQLite file, served by a real aiohttp server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from agora_node.app import create_app
from agora_node.config import Settings, settings_from_dict
from agora_node.processing.accounts import new_local_account, store_new_account
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store.db import Database
from tests.api.entities import check_shapes

REPO = Path(__file__).resolve().parents[1]
DOMAIN = "agora.test"
BASE_URL = f"https://{DOMAIN}"


def make_settings(tmp_path: Path, **sections: dict[str, Any]) -> Settings:
    raw: dict[str, Any] = {
        "instance": {"domain": DOMAIN, "base_url": BASE_URL, "name": "Test Agora"},
        "database": {"path": str(tmp_path / "agora.db")},
        "federation": {"allowed_networks": ["127.0.0.0/8"]},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return settings_from_dict(raw)


def add_account(
    db: Database, settings: Settings, username: str, **kw: Any
) -> accounts_store.AccountRow:
    """Create a local account directly through the store (fast path for tests)."""
    urls = LocalUrls(settings.base_url)
    new = new_local_account(
        urls, settings.domain, username, kw.pop("password", "correct horse"),
        now=kw.pop("now", time.time()), **kw,
    )  # fmt: skip
    db.write_sync(lambda c: store_new_account(c, new))
    account = db.read_sync(lambda c: accounts_store.get_account_by_username(c, username))
    assert account is not None
    return account


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def db(settings: Settings) -> Any:
    database = Database(settings.database.path)
    database.open()
    yield database
    database.close()


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Any], settings: Settings
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(settings)
    test_client = await aiohttp_client(app)
    check_shapes(test_client)
    yield test_client
