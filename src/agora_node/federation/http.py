"""The outgoing server-to-server HTTP client: fetch documents, deliver activities.

Everything a remote server sends us is hostile until checked, and every URL we
fetch may have been chosen by a remote actor. So this module:

* only speaks https (plain http only to hosts named in the policy);
* connects only to public addresses (see :mod:`.netguard`), re-checked on every
  redirect hop because redirects are followed here, by hand, never by aiohttp;
* reads bodies incrementally and stops as soon as the cap is passed, counting
  *decompressed* bytes, so neither a large body nor a gzip bomb costs memory;
* accepts a document only if its ``id`` is the URL it was served from, so a
  server cannot speak for objects on another origin.

Signing is injected as a :data:`Signer` so this module does not depend on the
signature code, and the signer runs at send time (fresh ``Date``) for each hop.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from agora_node import __version__
from agora_node.config import Settings
from agora_node.errors import FetchError
from agora_node.federation.netguard import (
    GuardedResolver,
    check_url,
    guarded_socket_factory,
    is_guard_refusal,
)
from agora_node.protocol import json_reader

logger = logging.getLogger(__name__)

Signer = Callable[[str, str, Mapping[str, str], bytes | None], Mapping[str, str]]
"""``signer(method, url, headers, body)`` returns the full headers to send."""

ACTIVITY_JSON = "application/activity+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
ACCEPT_AS = f'{ACTIVITY_JSON}, application/ld+json; profile="{AS_PROFILE}"'
ACCEPT_PLAIN = "application/jrd+json, application/json"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PLAIN_JSON_TYPES = frozenset({"application/json", "application/jrd+json"})
_CHUNK = 64 * 1024


T = TypeVar("T")


@dataclass(frozen=True)
class FetchPolicy:
    """What the outgoing client may do; one per node, from the settings."""

    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    plain_http_hosts: frozenset[str] = frozenset()
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_body_bytes: int = 1024 * 1024
    max_redirects: int = 3
    user_agent: str = "agora/0.1.0"
    # Hosts no request may go to (the domain rules, ``federation/blocklist.py``);
    # asked on every hop, so a redirect cannot lead to one either.
    refuse_host: Callable[[str], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FetchedDocument:
    """A JSON object whose ``id`` (for AS fetches) matched ``url``."""

    url: str
    document: dict[str, Any] = field(repr=False)
    status: int


@dataclass(frozen=True)
class DeliveryResult:
    """What a POST to an inbox came to; the delivery worker classifies it."""

    status: int | None
    retry_after: float | None = None
    error: str | None = None
    # Refused before any connection (a blocked domain, a URL we never send to):
    # trying again cannot help.
    refused: bool = False


def make_client_session(
    policy: FetchPolicy,
    *,
    inner_resolver: AbstractResolver | None = None,
    limit: int = 100,
    limit_per_host: int = 8,
    ttl_dns_cache: int = 300,
) -> aiohttp.ClientSession:
    """The one session for server-to-server traffic, with the SSRF guard inside.

    Must be called with a running loop. ``inner_resolver`` replaces DNS (tests
    use it to make a fake hostname resolve to a private address). Cached DNS
    answers are safe: they were filtered before caching and every socket is
    checked again at connect time.
    """
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy.allowed_networks, inner_resolver),
        socket_factory=guarded_socket_factory(policy.allowed_networks),
        limit=limit,
        limit_per_host=limit_per_host,
        ttl_dns_cache=ttl_dns_cache,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=_timeout(policy),
        auto_decompress=True,
        headers={"User-Agent": policy.user_agent},
        # Cookies from one remote must never ride along to another.
        cookie_jar=aiohttp.DummyCookieJar(),
        # No proxies from the environment: they would bypass the address guard.
        trust_env=False,
    )


async def fetch_json(
    session: aiohttp.ClientSession,
    url: str,
    *,
    policy: FetchPolicy,
    signer: Signer | None,
    accept: str = ACCEPT_AS,
    accept_plain_json: bool = False,
) -> FetchedDocument:
    """Fetch an ActivityStreams document whose ``id`` is where it was served from.

    If the ``id`` differs from the final URL, the document is fetched once more
    from its ``id`` (the authoritative origin) and must then match exactly.
    """

    def media_ok(content_type: str | None) -> bool:
        media, _ = _parse_content_type(content_type)
        return is_activitypub_content_type(content_type) or (
            accept_plain_json and media == "application/json"
        )

    async def fetch(target: str) -> FetchedDocument:
        return await _fetch_following_redirects(
            session, target, policy=policy, signer=signer, accept=accept, media_ok=media_ok
        )

    try:
        async with asyncio.timeout(policy.total_timeout):
            first = await fetch(url)
            first_id = first.document.get("id")
            if first_id == first.url:
                return first
            if not isinstance(first_id, str) or not _is_fetchable(first_id, policy):
                raise _refused(url, FetchError("id mismatch"))
            logger.info("refetching from id url=%s id=%s", first.url, first_id)
            second = await fetch(first_id)
            if second.document.get("id") != second.url:
                raise _refused(url, FetchError("id mismatch"))
            return second
    except TimeoutError as exc:
        raise _refused(url, FetchError("timeout")) from exc


async def fetch_plain_json(
    session: aiohttp.ClientSession, url: str, *, policy: FetchPolicy
) -> FetchedDocument:
    """Fetch WebFinger/NodeInfo JSON: same guards, unsigned, no ``id`` rule."""

    def media_ok(content_type: str | None) -> bool:
        return _parse_content_type(content_type)[0] in _PLAIN_JSON_TYPES

    try:
        async with asyncio.timeout(policy.total_timeout):
            return await _fetch_following_redirects(
                session, url, policy=policy, signer=None, accept=ACCEPT_PLAIN, media_ok=media_ok
            )
    except TimeoutError as exc:
        raise _refused(url, FetchError("timeout")) from exc


async def fetch_media(
    session: aiohttp.ClientSession, url: str, *, policy: FetchPolicy, max_bytes: int
) -> bytes:
    """A remote file (an attachment, an avatar), through the same address guard
    and redirect rules as documents, at most ``max_bytes``, within the timeout."""
    return await fetch_bytes(
        session, url, policy=policy, max_bytes=max_bytes, accept="image/*, video/*, audio/*"
    )


async def fetch_bytes(
    session: aiohttp.ClientSession, url: str, *, policy: FetchPolicy, max_bytes: int, accept: str
) -> bytes:
    """Any remote file (a picture, a published block list) under the same guards."""
    headers = {"Accept": accept, "User-Agent": policy.user_agent}

    async def on_final(current: str, resp: aiohttp.ClientResponse) -> bytes:
        _ok_status(current, resp)
        return await _read_capped(resp, max_bytes)

    try:
        async with asyncio.timeout(policy.total_timeout):
            return await _get_following_redirects(
                session, url, policy=policy, headers_for=lambda _: headers, on_final=on_final
            )
    except TimeoutError as exc:
        raise _refused(url, FetchError("timeout")) from exc


async def post_activity(
    session: aiohttp.ClientSession,
    inbox_url: str,
    body: bytes,
    *,
    policy: FetchPolicy,
    signer: Signer,
    sign_in: Executor | None = None,
) -> DeliveryResult:
    """POST one activity to one inbox; never raises for network trouble.

    Redirects are not followed (a 3xx is the result): re-posting a signed body
    to wherever a remote points would be an open relay. ``sign_in``: a thread
    pool to sign in (RSA signing releases the GIL, so a fan-out signs on
    another core while the loop sends).
    """
    try:
        _check_url(inbox_url, policy)
    except FetchError as exc:
        logger.info("delivery refused inbox=%s reason=%s", inbox_url, exc.public_message)
        return DeliveryResult(status=None, error=exc.public_message, refused=True)
    base = {"Content-Type": ACTIVITY_JSON, "User-Agent": policy.user_agent}
    if sign_in is None:
        headers = dict(signer("POST", inbox_url, base, body))
    else:
        loop = asyncio.get_running_loop()
        headers = dict(await loop.run_in_executor(sign_in, signer, "POST", inbox_url, base, body))
    try:
        with _client_errors(inbox_url):
            async with session.post(
                inbox_url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=_timeout(policy),
            ) as resp:
                retry_after = parse_retry_after(
                    resp.headers.get("Retry-After"), now=datetime.now(UTC)
                )
                await _discard_body(resp, policy.max_body_bytes)
                return DeliveryResult(status=resp.status, retry_after=retry_after)
    except FetchError as exc:
        logger.info("delivery failed inbox=%s reason=%s", inbox_url, exc.public_message)
        return DeliveryResult(status=None, error=exc.public_message)


def is_activitypub_content_type(content_type: str | None) -> bool:
    """``application/activity+json``, or ``application/ld+json`` with the AS profile."""
    media, params = _parse_content_type(content_type)
    if media == ACTIVITY_JSON:
        return True
    if media == "application/ld+json":
        profiles = params.get("profile", "").lower().split()
        return AS_PROFILE in profiles
    return False


def parse_json_object(body: bytes) -> dict[str, Any]:
    """A fetched document read by the one JSON reader; a refusal is a ``FetchError``."""
    try:
        return json_reader.parse_json_object(body)
    except json_reader.InvalidJSON as exc:
        raise FetchError(exc.public_message) from exc


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


async def _get_following_redirects(
    session: aiohttp.ClientSession,
    url: str,
    *,
    policy: FetchPolicy,
    headers_for: Callable[[str], dict[str, str]],
    on_final: Callable[[str, aiohttp.ClientResponse], Awaitable[T]],
) -> T:
    """GET ``url``, following redirects (each target checked by the address guard),
    and hand the final answer to ``on_final``."""
    current = url
    for _hop in range(policy.max_redirects + 1):
        try:
            _check_url(current, policy)
        except FetchError as exc:
            raise _refused(current, exc) from exc
        with _client_errors(current):
            async with session.get(
                current, headers=headers_for(current), allow_redirects=False,
                timeout=_timeout(policy),
            ) as resp:  # fmt: skip
                if resp.status in _REDIRECT_STATUSES:
                    current = _redirect_target(current, resp)
                    continue
                return await on_final(current, resp)
    raise _refused(url, FetchError("too many redirects"))


def _ok_status(current: str, resp: aiohttp.ClientResponse) -> None:
    if resp.status == 410:
        raise _refused(current, FetchError("gone", remote_status=410))
    if not 200 <= resp.status < 300:
        error = FetchError(f"remote status {resp.status}", remote_status=resp.status)
        raise _refused(current, error)


async def _fetch_following_redirects(
    session: aiohttp.ClientSession,
    url: str,
    *,
    policy: FetchPolicy,
    signer: Signer | None,
    accept: str,
    media_ok: Callable[[str | None], bool],
) -> FetchedDocument:
    def headers_for(current: str) -> dict[str, str]:
        base = {"Accept": accept, "User-Agent": policy.user_agent}
        return dict(signer("GET", current, base, None)) if signer else base

    async def on_final(current: str, resp: aiohttp.ClientResponse) -> FetchedDocument:
        _ok_status(current, resp)
        if not media_ok(resp.headers.get("Content-Type")):
            raise _refused(current, FetchError("unsupported content type"))
        body = await _read_capped(resp, policy.max_body_bytes)
        return FetchedDocument(current, parse_json_object(body), resp.status)

    return await _get_following_redirects(
        session, url, policy=policy, headers_for=headers_for, on_final=on_final
    )


def _redirect_target(current: str, resp: aiohttp.ClientResponse) -> str:
    location = resp.headers.get("Location")
    if not location:
        raise FetchError(f"remote status {resp.status}", remote_status=resp.status)
    try:
        target = URL(current).join(URL(location)).with_fragment(None)
    except (ValueError, TypeError) as exc:
        raise FetchError("invalid redirect") from exc
    logger.debug("following redirect from=%s to=%s", current, target)
    return str(target)


async def _read_capped(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read at most ``limit`` decompressed bytes, failing as soon as it is passed."""
    declared = resp.content_length
    if declared is not None and declared > limit and "Content-Encoding" not in resp.headers:
        raise FetchError("response too large")
    buffer = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        buffer += chunk
        if len(buffer) > limit:
            raise FetchError("response too large")
    return bytes(buffer)


async def _discard_body(resp: aiohttp.ClientResponse, limit: int) -> None:
    """Drain a reply we do not need; the status is already known, so errors are moot."""
    seen = 0
    try:
        async for chunk in resp.content.iter_chunked(_CHUNK):
            seen += len(chunk)
            if seen > limit:
                resp.close()
                return
    except (aiohttp.ClientError, TimeoutError):
        resp.close()


@contextmanager
def _client_errors(url: str = "") -> Iterator[None]:
    """Turn aiohttp's exceptions into a ``FetchError`` with a short public message."""
    try:
        yield
    except aiohttp.ClientConnectorError as exc:
        message = "address not allowed" if is_guard_refusal(exc) else "connection failed"
        raise _refused(url, FetchError(message), exc) from exc
    except aiohttp.InvalidURL as exc:
        raise _refused(url, FetchError("invalid URL"), exc) from exc
    except aiohttp.ClientPayloadError as exc:
        raise _refused(url, FetchError("invalid response body"), exc) from exc
    except TimeoutError as exc:
        raise _refused(url, FetchError("timeout"), exc) from exc
    except aiohttp.ClientError as exc:
        raise _refused(url, FetchError("connection failed"), exc) from exc


def _refused(url: str, error: FetchError, cause: BaseException | None = None) -> FetchError:
    logger.info("fetch failed url=%s reason=%s detail=%s", url, error.public_message, cause or "-")
    return error


def _is_fetchable(url: str, policy: FetchPolicy) -> bool:
    try:
        _check_url(url, policy)
    except FetchError:
        return False
    return True


def _parse_content_type(header: str | None) -> tuple[str, dict[str, str]]:
    if not header:
        return "", {}
    media, *rest = header.split(";")
    params: dict[str, str] = {}
    for item in rest:
        name, sep, value = item.partition("=")
        if sep:
            params[name.strip().lower()] = value.strip().strip('"')
    return media.strip().lower(), params


def _check_url(url: str, policy: FetchPolicy) -> None:
    parsed = check_url(
        url, allowed_networks=policy.allowed_networks, plain_http_hosts=policy.plain_http_hosts
    )
    if policy.refuse_host is not None and policy.refuse_host(parsed.host or ""):
        raise FetchError(DOMAIN_BLOCKED)


def _timeout(policy: FetchPolicy) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=policy.total_timeout, sock_connect=policy.connect_timeout)


DOMAIN_BLOCKED = "this server does not federate with that domain"


def fetch_policy(
    settings: Settings, refuse_host: Callable[[str], bool] | None = None
) -> FetchPolicy:
    """The fetch and delivery limits a node runs with, from its settings."""
    fed = settings.federation
    return FetchPolicy(
        allowed_networks=settings.networks(),
        plain_http_hosts=frozenset(h.lower() for h in fed.plain_http_hosts),
        connect_timeout=fed.connect_timeout,
        total_timeout=fed.total_timeout,
        max_body_bytes=fed.max_fetch_bytes,
        max_redirects=fed.max_redirects,
        user_agent=f"agora/{__version__} (+{settings.base_url})",
        refuse_host=refuse_host,
    )
