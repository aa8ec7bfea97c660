"""Rate limits at the edge, with an injected clock (no sleeps)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from agora_node.app import create_app
from agora_node.config import RateLimitSettings
from agora_node.context import DB
from agora_node.ratelimit import MAX_KEYS, RATE_LIMITER, RateLimiter
from agora_node.store import accounts as accounts_store
from tests.api.c2s_rig import token_for
from tests.conftest import add_account, make_settings
from tests.federation.remote import FakeRemote
from tests.federation.test_inbox import follow_of, post


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_fixed_windows_count_and_reset() -> None:
    clock = Clock(600.0)
    limiter = RateLimiter(RateLimitSettings(api_per_token=2, window=300), clock)
    first = limiter.hit(limiter.api_token, "t")
    assert (first.allowed, first.remaining, first.reset_at) == (True, 1, 900.0)
    assert limiter.hit(limiter.api_token, "t").remaining == 0
    over = limiter.hit(limiter.api_token, "t")
    assert not over.allowed and over.remaining == 0
    assert over.headers() == {
        "X-RateLimit-Limit": "2",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1970-01-01T00:15:00.000Z",
    }
    assert limiter.hit(limiter.api_token, "other").allowed  # keys are counted apart
    clock.now = 900.0  # the next window
    assert limiter.hit(limiter.api_token, "t").allowed


def test_memory_stays_bounded() -> None:
    limiter = RateLimiter(RateLimitSettings(), Clock())
    for n in range(MAX_KEYS + 500):
        limiter.hit(limiter.api_ip, f"10.0.{n // 256}.{n % 256}")
    assert len(limiter._counts) == MAX_KEYS


async def _site(
    aiohttp_client: Callable[..., Any], tmp_path: Path, **limits: Any
) -> tuple[TestClient, Clock]:  # type: ignore[type-arg]
    settings = make_settings(tmp_path, rate_limits=limits)
    client = await aiohttp_client(create_app(settings))
    clock = Clock()
    client.server.app[RATE_LIMITER].clock = clock
    add_account(client.server.app[DB], settings, "alice")
    return client, clock


async def test_the_client_api_per_token_with_mastodons_headers(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, clock = await _site(aiohttp_client, tmp_path, api_per_token=3, window=300)
    db = client.server.app[DB]
    account = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert account is not None
    token = token_for(db, account)
    headers = {"Authorization": f"Bearer {token}"}
    left = []
    for _ in range(3):
        resp = await client.get("/api/v1/timelines/home", headers=headers)
        assert resp.status == 200
        left.append(resp.headers["X-RateLimit-Remaining"])
        assert resp.headers["X-RateLimit-Limit"] == "3"
    assert left == ["2", "1", "0"]
    over = await client.get("/api/v1/timelines/home", headers=headers)
    assert over.status == 429
    assert (await over.json())["error"] == "Too many requests"
    assert 1 <= int(over.headers["Retry-After"]) <= 300
    assert over.headers["X-RateLimit-Remaining"] == "0"
    # Another token, or no token, is counted apart.
    other = token_for(db, account)
    resp = await client.get("/api/v1/timelines/home", headers={"Authorization": f"Bearer {other}"})
    assert resp.status == 200
    assert (await client.get("/api/v1/instance")).status == 200
    clock.now += 300
    assert (await client.get("/api/v1/timelines/home", headers=headers)).status == 200


async def test_sign_in_and_anonymous_api_per_address_behind_a_trusted_proxy(
    aiohttp_client, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    client, _ = await _site(
        aiohttp_client, tmp_path, sign_in_per_ip=2, api_per_ip=2,
        trusted_proxies=["127.0.0.1/32"],
    )  # fmt: skip

    async def sign_in(ip: str) -> int:
        resp = await client.post(
            "/auth/sign_in", data={"username": "alice", "password": "wrong"},
            headers={"X-Forwarded-For": f"{ip}, 127.0.0.1", "Accept": "text/html"},
            allow_redirects=False,
        )  # fmt: skip
        return resp.status

    assert await sign_in("203.0.113.5") != 429
    assert await sign_in("203.0.113.5") != 429
    assert await sign_in("203.0.113.5") == 429
    assert await sign_in("203.0.113.6") != 429  # another person behind the same proxy
    # The OAuth password grant counts against the same limit.
    grant = await client.post(
        "/oauth/token", data={"grant_type": "password", "username": "alice", "password": "x"},
        headers={"X-Forwarded-For": "203.0.113.5"},
    )  # fmt: skip
    assert grant.status == 429
    far = {"X-Forwarded-For": "198.51.100.1"}
    for _ in range(2):
        assert (await client.get("/api/v1/instance", headers=far)).status == 200
    assert (await client.get("/api/v1/instance", headers=far)).status == 429


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, _ = await _site(aiohttp_client, tmp_path, api_per_ip=2, trusted_proxies=[])
    for n in range(2):
        resp = await client.get("/api/v1/instance", headers={"X-Forwarded-For": f"192.0.2.{n}"})
        assert resp.status == 200
    spoofed = await client.get("/api/v1/instance", headers={"X-Forwarded-For": "192.0.2.99"})
    assert spoofed.status == 429  # a client cannot pick its own address


async def test_discovery_per_address(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, clock = await _site(aiohttp_client, tmp_path, discovery_per_ip=2)
    wf = "/.well-known/webfinger?resource=acct:alice@agora.test"
    assert (await client.get(wf)).status == 200
    assert (await client.get("/users/alice", headers={"Accept": "application/activity+json"})
            ).status == 200  # fmt: skip
    assert (await client.get(wf)).status == 429
    clock.now += 300
    assert (await client.get(wf)).status == 200


async def test_the_inbox_per_sending_server(aiohttp_client, tmp_path, remote: FakeRemote) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(
        tmp_path, federation={"plain_http_hosts": [remote.netloc]},
        rate_limits={"inbox_per_host": 2},
    )  # fmt: skip
    node = await aiohttp_client(create_app(settings))
    node.server.app[RATE_LIMITER].clock = Clock()
    add_account(node.server.app[DB], settings, "alice")
    bob = remote.add_actor("bob")
    assert (await post(node, bob, follow_of(bob))).status == 202
    assert (await post(node, bob, follow_of(bob))).status == 202
    fetched = len(remote.requests)
    over = await post(node, bob, follow_of(bob))
    assert over.status == 429 and "Retry-After" in over.headers
    assert len(remote.requests) == fetched  # refused before its key was looked at


async def test_limits_can_be_turned_off(aiohttp_client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    client, _ = await _site(aiohttp_client, tmp_path, enabled=False, api_per_ip=1)
    for _ in range(3):
        resp = await client.get("/api/v1/instance")
        assert resp.status == 200 and "X-RateLimit-Limit" not in resp.headers
