"""A browser's part in the in-process web tests: cookies, CSRF tokens, forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from agora_node.app import create_app
from agora_node.config import Settings
from agora_node.context import DB
from tests.conftest import add_account, make_settings

PASSWORD = "correct horse"
HTML = {"Accept": "text/html"}
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def start_site(
    aiohttp_client: Callable[..., Any], tmp_path: Path, **instance: Any
) -> tuple[TestClient[Any, Any], Settings]:
    """A node with the accounts alice and bob, and a client that keeps cookies.

    The node says it is served over http, as the test client talks to it: a
    node served over https marks its cookies Secure, which a browser (and
    this client) sends back over https only.
    """
    settings = make_settings(tmp_path, instance={"base_url": "http://agora.test", **instance})
    client = await aiohttp_client(create_app(settings))
    for name in ("alice", "bob"):
        add_account(client.server.app[DB], settings, name, password=PASSWORD)
    return client, settings


def csrf_in(text: str) -> str:
    found = _CSRF.search(text)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


async def token_on(client: TestClient[Any, Any], path: str) -> str:
    page = await client.get(path, headers=HTML)
    assert page.status == 200, await page.text()
    return csrf_in(await page.text())


async def submit(
    client: TestClient[Any, Any], form_page: str, action: str, fields: dict[str, str]
) -> ClientResponse:
    """Fill a form found on ``form_page`` (its CSRF token included) and post it."""
    token = await token_on(client, form_page)
    return await client.post(
        action, data={"csrf": token, **fields}, headers=HTML, allow_redirects=False
    )


async def sign_in(client: TestClient[Any, Any], username: str, password: str = PASSWORD) -> None:
    resp = await submit(
        client, "/auth/sign_in", "/auth/sign_in", {"username": username, "password": password}
    )
    assert resp.status == 303, await resp.text()
