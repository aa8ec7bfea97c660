"""Three real node processes on 127.0.0.1, 127.0.0.2 and 127.0.0.3.

The network is started once for the module; every scenario uses its own
accounts, so scenarios do not depend on each other's order.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import aiohttp
import pytest

from agora_node.devnet import Devnet, LocalNode, NodeClient
from agora_node.protocol.httpsig import SigningKey, sign_request

T = TypeVar("T")
WAIT = 30.0
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def free_port() -> int:
    """A port free on all three loopback addresses."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        try:
            for host in ("127.0.0.2", "127.0.0.3"):
                with socket.socket() as s:
                    s.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    root = tmp_path_factory.mktemp("devnet")
    net = Devnet(root, count=3, port=free_port())
    net.init()
    for node in net.nodes:
        # Fast retries so the outage scenario finishes in seconds.
        with node.config.open("a", encoding="utf-8") as f:
            f.write("\n[delivery]\nbackoff_scale = 0.02\ncircuit_open_seconds = 1\n")

    async def start() -> None:
        async with aiohttp.ClientSession() as session:
            await net.start(session)

    asyncio.run(start())
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as s:
        yield s


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = WAIT) -> T:
    """Poll ``check`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def query(node: LocalNode, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read what a node stored, straight from its SQLite file."""
    conn = sqlite3.connect(f"file:{node.db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def stored(node: LocalNode, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(query, node, sql, *params)


async def signed_post(
    session: aiohttp.ClientSession, origin: LocalNode, username: str, target: LocalNode,
    activity: dict[str, Any],
) -> int:  # fmt: skip
    """POST ``activity`` to ``target``'s shared inbox signed with the author's own
    key (read from ``origin``'s database); the status it got."""
    (pem,) = (await stored(origin, "SELECT rsa_private_pem FROM accounts WHERE username = ?",
                           username))[0]  # fmt: skip
    key = SigningKey.from_pem(f"{origin.base_url}/users/{username}#main-key", pem)
    body = json.dumps(activity).encode()
    url = f"{target.base_url}/inbox"
    headers = sign_request("POST", url, {"Content-Type": "application/activity+json"}, body, key)
    async with session.post(url, data=body, headers=headers) as resp:
        return resp.status


async def person(
    session: aiohttp.ClientSession, node: LocalNode, name: str, *, locked: bool = False
) -> NodeClient:
    """An account created through the CLI, logged in through OAuth."""
    await asyncio.to_thread(node.create_account, name, "a long enough password", locked=locked)
    return await NodeClient(session, node, name).login()
