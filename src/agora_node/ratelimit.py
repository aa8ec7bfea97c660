"""Rate limits at the edge: per address, per token, per remote server.

Fixed windows, as Mastodon counts them: each limit allows ``requests`` in
each ``window`` seconds (aligned on the clock), per key. Over it, the answer
is 429 with ``Retry-After`` and Mastodon's ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an ISO 8601 time);
client API answers carry those headers whether they passed or not.

What is counted, and by what:

* the client API with a token, per token (Mastodon: 300 in 5 minutes);
* the client API without one, per address;
* sign-in (pages, the OAuth page, the password grant) and sign-up, per address;
* discovery (WebFinger, actor and object documents, search that fetches), per address;
* the inbox, per sending server (``federation/inbox.py`` asks, once the
  signature's key names it).

The address is the peer's, or, when the peer is one of
``server.trusted_proxies``, the nearest address in ``X-Forwarded-For`` that
is not a trusted proxy. Counters live in this process's memory, bounded in
number (the oldest windows go first), and reset when it restarts.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from agora_node.config import RateLimitSettings
from agora_node.errors import TooManyRequests

MAX_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    window: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> dict[str, str]:
        reset = datetime.fromtimestamp(self.reset_at, UTC).isoformat(timespec="milliseconds")
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset.replace("+00:00", "Z"),
        }


class RateLimited(TooManyRequests):
    def __init__(self, decision: Decision, now: float) -> None:
        wait = max(1, int(decision.reset_at - now + 0.999))
        super().__init__("Too many requests", retry_after=wait)
        self.response_headers = {**decision.headers(), "Retry-After": str(wait)}


class RateLimiter:
    """Counters of fixed windows; ``clock`` is injectable (tests need no sleeps)."""

    def __init__(self, settings: RateLimitSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        w = float(settings.window)
        self.api_token = Limit("api_token", settings.api_per_token, w)
        self.api_ip = Limit("api_ip", settings.api_per_ip, w)
        self.sign_in = Limit("sign_in", settings.sign_in_per_ip, w)
        self.sign_up = Limit("sign_up", settings.sign_up_per_ip, w)
        self.discovery = Limit("discovery", settings.discovery_per_ip, w)
        self.inbox = Limit("inbox", settings.inbox_per_host, w)
        self._counts: OrderedDict[tuple[str, str, int], int] = OrderedDict()
        self.proxies = _networks(settings)

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def hit(self, limit: Limit, key: str) -> Decision:
        """Count one request against ``limit`` for ``key``."""
        now = self.clock()
        window = int(now // limit.window)
        slot = (limit.name, key, window)
        count = self._counts.get(slot, 0) + 1
        self._counts[slot] = count
        self._counts.move_to_end(slot)
        while len(self._counts) > MAX_KEYS:
            self._counts.popitem(last=False)
        reset_at = (window + 1) * limit.window
        return Decision(
            count <= limit.requests, limit.requests, max(0, limit.requests - count), reset_at
        )

    def check(self, limit: Limit, key: str) -> Decision:
        """:meth:`hit`, raising 429 when over."""
        decision = self.hit(limit, key)
        if not decision.allowed:
            raise RateLimited(decision, self.clock())
        return decision


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


def _networks(settings: RateLimitSettings) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies]


def _trusted(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_ip(request: web.Request) -> str:
    """The address a request came from, through trusted proxies only."""
    peer = request.remote or "unknown"
    networks = request.app[RATE_LIMITER].proxies
    if not networks:
        return peer
    if not _trusted(peer, networks):
        return peer
    hops = [h.strip() for v in request.headers.getall("X-Forwarded-For", []) for h in v.split(",")]
    for hop in reversed(hops):
        if hop and not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the client: the proxy itself is what we know
    return peer


_SIGN_IN = {("POST", "/auth/sign_in"), ("POST", "/oauth/authorize"), ("POST", "/oauth/token")}
_SIGN_UP = {("POST", "/auth/sign_up"), ("POST", "/api/v1/accounts")}
_DISCOVERY_PREFIXES = ("/.well-known/webfinger", "/users/", "/actor", "/objects/")


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query.get("access_token") or None


def limits_for(request: web.Request, limiter: RateLimiter) -> list[tuple[Limit, str]]:
    """Which limits a request counts against, with the key of each."""
    method, path = request.method, request.path
    out: list[tuple[Limit, str]] = []
    if (method, path) in _SIGN_IN:
        out.append((limiter.sign_in, client_ip(request)))
    elif (method, path) in _SIGN_UP:
        out.append((limiter.sign_up, client_ip(request)))
    if path.startswith("/api/"):
        token = _bearer(request)
        if token is not None:
            out.append((limiter.api_token, token))
        else:
            out.append((limiter.api_ip, client_ip(request)))
        if path == "/api/v2/search" and request.query.get("resolve", "").lower() in ("true", "1"):
            out.append((limiter.discovery, client_ip(request)))
    elif method == "GET" and path.startswith(_DISCOVERY_PREFIXES) and not path.endswith("/inbox"):
        out.append((limiter.discovery, client_ip(request)))
    return out


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    limiter = request.app[RATE_LIMITER]
    if not limiter.enabled or request.method == "OPTIONS":
        return await handler(request)
    shown: Decision | None = None
    for limit, key in limits_for(request, limiter):
        decision = limiter.check(limit, key)
        if limit in (limiter.api_token, limiter.api_ip):
            shown = decision
    response = await handler(request)
    if shown is not None and not response.prepared:
        response.headers.update(shown.headers())
    return response
