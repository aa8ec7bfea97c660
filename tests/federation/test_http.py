"""The outgoing HTTP client against real servers on 127.0.0.0/8.

Forbidden targets are raw listening sockets that count connections: a refusal
only counts if the socket never saw one.
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import ThreadedResolver, web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from agora_node.errors import FetchError
from agora_node.federation.http import (
    DeliveryResult,
    FetchPolicy,
    fetch_json,
    fetch_plain_json,
    make_client_session,
    parse_json_object,
    parse_retry_after,
    post_activity,
)
from agora_node.federation.netguard import is_guard_refusal

AS_JSON = "application/activity+json"
LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
ONLY_127_0_0_1 = ipaddress.IPv4Network("127.0.0.1/32")
PLAIN = frozenset({"127.0.0.1", "127.0.0.2", "localhost", "forbidden.test", "remote.test"})

OPEN = FetchPolicy(
    allowed_networks=(LOOPBACK,),
    plain_http_hosts=PLAIN,
    connect_timeout=1.0,
    total_timeout=3.0,
)
CLOSED = FetchPolicy(plain_http_hosts=PLAIN, connect_timeout=1.0, total_timeout=3.0)

SEEN = web.AppKey("seen", list[tuple[str, str | None]])
RAW = web.AppKey("raw", dict[str, bytes])
RECEIVED = web.AppKey("received", list[tuple[str, dict[str, str], bytes]])


# --- rig ---------------------------------------------------------------------


class FakeDNS(AbstractResolver):
    """Maps made-up names to addresses; real resolution for anything else."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = dict(names)
        self.real = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.names:
            return await self.real.resolve(host, port, family)
        return [
            ResolveResult(
                hostname=host,
                host=self.names[host],
                port=port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        pass


class CountingServer:
    """A bare listening socket that counts connections and serves one document."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.connections = 0
        self.paths: list[str] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
        self.paths.append(path)
        body = json.dumps({"id": f"http://{headers['host']}{path}", "type": "Note"}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def counting() -> AsyncIterator[Callable[[str], Awaitable[CountingServer]]]:
    servers: list[CountingServer] = []

    async def start(host: str = "127.0.0.1") -> CountingServer:
        server = CountingServer(host)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def sessions() -> AsyncIterator[Callable[..., aiohttp.ClientSession]]:
    opened: list[aiohttp.ClientSession] = []

    def make(policy: FetchPolicy, names: Mapping[str, str] | None = None) -> aiohttp.ClientSession:
        session = make_client_session(policy, inner_resolver=FakeDNS(names or {}))
        opened.append(session)
        return session

    yield make
    for session in opened:
        await session.close()


class RecordingSigner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], bytes | None]] = []

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Mapping[str, str]:
        self.calls.append((method, url, dict(headers), body))
        return {**headers, "Signature": f"fake;n={len(self.calls)}"}


def as_doc(request: web.Request, **extra: Any) -> web.Response:
    """A document whose id is the URL it was requested at."""
    body = {"id": str(request.url), "type": "Note", **extra}
    return web.json_response(body, content_type=AS_JSON)


@pytest.fixture
async def remote(aiohttp_server: Any) -> TestServer:
    """An allowed remote on 127.0.0.1 with the behaviours the tests need."""
    app = web.Application()
    app[SEEN] = seen = []
    app[RAW] = {"body": b"{}"}

    async def record(request: web.Request) -> None:
        seen.append((request.path, request.headers.get("Signature")))

    async def doc(request: web.Request) -> web.Response:
        await record(request)
        return as_doc(request)

    async def hops(request: web.Request) -> web.Response:
        await record(request)
        n = int(request.match_info["n"])
        if n == 0:
            return as_doc(request)
        raise web.HTTPFound(f"/hops/{n - 1}")

    async def to(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound(request.query["url"])

    async def typed(request: web.Request) -> web.Response:
        content_type = CONTENT_TYPES[int(request.match_info["index"])][0]
        body = json.dumps({"id": str(request.url)})
        return web.Response(text=body, headers={"Content-Type": content_type})

    async def claims(request: web.Request) -> web.Response:
        await record(request)
        target = request.query.get("id")
        body = {"type": "Note"} if target is None else {"id": target, "type": "Note"}
        return web.json_response(body, content_type=AS_JSON)

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def stream(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": AS_JSON})
        await resp.prepare(request)
        try:
            for _ in range(32):  # 2 MiB
                await resp.write(b" " * 65536)
        except ConnectionError:
            pass
        return resp

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b" " * (2 * 1024 * 1024), content_type=AS_JSON)

    async def bomb(request: web.Request) -> web.Response:
        payload = gzip.compress(b" " * (4 * 1024 * 1024), compresslevel=9)
        assert len(payload) < 10_000
        return web.Response(
            body=payload, headers={"Content-Type": AS_JSON, "Content-Encoding": "gzip"}
        )

    async def small_gzip(request: web.Request) -> web.Response:
        payload = gzip.compress(json.dumps({"id": str(request.url)}).encode())
        return web.Response(
            body=payload, headers={"Content-Type": AS_JSON, "Content-Encoding": "gzip"}
        )

    async def raw(request: web.Request) -> web.Response:
        return web.Response(body=request.app[RAW]["body"], content_type=AS_JSON)

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return as_doc(request)

    async def jrd(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text='{"subject": "acct:a@b"}', content_type=request.query["ct"])

    app.router.add_get("/doc", doc)
    app.router.add_get("/hops/{n}", hops)
    app.router.add_get("/to", to)
    app.router.add_get("/typed/{index}", typed)
    app.router.add_get("/claims", claims)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/stream", stream)
    app.router.add_get("/declared", declared)
    app.router.add_get("/bomb", bomb)
    app.router.add_get("/small-gzip", small_gzip)
    app.router.add_get("/raw", raw)
    app.router.add_get("/slow", slow)
    app.router.add_get("/jrd", jrd)
    server: TestServer = await aiohttp_server(app, host="127.0.0.1")
    return server


def url_of(server: TestServer, path: str) -> str:
    return str(server.make_url(path))


async def refused(coro: Awaitable[Any]) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await coro
    return caught.value


# --- the address guard: a listening socket that must see no connection -------


async def test_literal_loopback_is_refused_without_connecting(counting, sessions) -> None:
    target = await counting()
    session = sessions(CLOSED)
    url = f"http://127.0.0.1:{target.port}/doc"

    error = await refused(fetch_json(session, url, policy=CLOSED, signer=None))
    result = await post_activity(session, url, b"{}", policy=CLOSED, signer=RecordingSigner())

    assert error.public_message == "address not allowed"
    assert result == DeliveryResult(status=None, error="address not allowed", refused=True)
    assert target.connections == 0


async def test_connector_refuses_literal_ips_even_without_url_check(counting, sessions) -> None:
    # aiohttp skips the resolver for IP literals; the socket factory still says no.
    target = await counting()
    session = sessions(CLOSED)
    with pytest.raises(aiohttp.ClientConnectorError) as caught:
        await session.get(f"http://127.0.0.1:{target.port}/doc")
    assert is_guard_refusal(caught.value)
    assert target.connections == 0


@pytest.mark.parametrize("host", ["localhost", "forbidden.test"])
async def test_names_resolving_to_loopback_are_refused(counting, sessions, host) -> None:
    target = await counting()
    session = sessions(CLOSED, {"forbidden.test": "127.0.0.1"})
    url = f"http://{host}:{target.port}/doc"

    error = await refused(fetch_json(session, url, policy=CLOSED, signer=None))

    assert error.public_message == "address not allowed"
    assert target.connections == 0


async def test_name_resolving_to_rfc1918_is_refused(sessions) -> None:
    session = sessions(CLOSED, {"forbidden.test": "10.0.0.1"})
    error = await refused(
        fetch_json(session, "http://forbidden.test/doc", policy=CLOSED, signer=None)
    )
    assert error.public_message == "address not allowed"


@pytest.mark.parametrize("via", ["literal", "name"])
async def test_redirect_to_forbidden_address_is_refused(remote, counting, sessions, via) -> None:
    # Given: the remote on 127.0.0.1 is allowed, 127.0.0.2 is not.
    policy = FetchPolicy(allowed_networks=(ONLY_127_0_0_1,), plain_http_hosts=PLAIN)
    target = await counting("127.0.0.2")
    session = sessions(policy, {"forbidden.test": "127.0.0.2"})
    host = "127.0.0.2" if via == "literal" else "forbidden.test"
    bounce = url_of(remote, "/to") + f"?url=http://{host}:{target.port}/doc"

    error = await refused(fetch_json(session, bounce, policy=policy, signer=None))

    assert error.public_message == "address not allowed"
    assert [path for path, _ in remote.app[SEEN]] == ["/to"]
    assert target.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "forbidden.test"])
async def test_allowlisted_loopback_is_reachable(counting, sessions, host) -> None:
    target = await counting()
    session = sessions(OPEN, {"forbidden.test": "127.0.0.1"})
    url = f"http://{host}:{target.port}/doc"

    fetched = await fetch_json(session, url, policy=OPEN, signer=None)

    assert fetched.url == url
    assert fetched.document["id"] == url
    assert target.connections == 1


async def test_allowlisted_redirect_target_is_reachable(remote, counting, sessions) -> None:
    target = await counting("127.0.0.2")
    session = sessions(OPEN, {"forbidden.test": "127.0.0.2"})
    final = f"http://forbidden.test:{target.port}/doc"

    fetched = await fetch_json(
        session, url_of(remote, "/to") + f"?url={final}", policy=OPEN, signer=None
    )

    assert fetched.url == final
    assert target.connections == 1


# --- scheme rules -------------------------------------------------------------


async def test_plain_http_to_unlisted_host_is_refused_without_connecting(
    counting, sessions
) -> None:
    target = await counting()
    policy = FetchPolicy(allowed_networks=(LOOPBACK,))
    session = sessions(policy)
    url = f"http://127.0.0.1:{target.port}/doc"

    error = await refused(fetch_json(session, url, policy=policy, signer=None))
    result = await post_activity(session, url, b"{}", policy=policy, signer=RecordingSigner())

    assert error.public_message == "plain http not allowed"
    assert result.error == "plain http not allowed"
    assert target.connections == 0


async def test_plain_http_host_entry_may_pin_a_port(counting, sessions) -> None:
    target = await counting()
    good = FetchPolicy(
        allowed_networks=(LOOPBACK,), plain_http_hosts=frozenset({f"127.0.0.1:{target.port}"})
    )
    bad = FetchPolicy(allowed_networks=(LOOPBACK,), plain_http_hosts=frozenset({"127.0.0.1:1"}))
    url = f"http://127.0.0.1:{target.port}/doc"

    await fetch_json(sessions(good), url, policy=good, signer=None)
    error = await refused(fetch_json(sessions(bad), url, policy=bad, signer=None))

    assert error.public_message == "plain http not allowed"
    assert target.connections == 1


async def test_redirect_to_plain_http_elsewhere_is_refused(remote, counting, sessions) -> None:
    target = await counting("127.0.0.2")
    session = sessions(OPEN, {"elsewhere.test": "127.0.0.2"})
    bounce = url_of(remote, "/to") + f"?url=http://elsewhere.test:{target.port}/doc"

    error = await refused(fetch_json(session, bounce, policy=OPEN, signer=None))

    assert error.public_message == "plain http not allowed"
    assert target.connections == 0


async def test_redirect_to_other_scheme_is_refused(remote, sessions) -> None:
    bounce = url_of(remote, "/to") + "?url=file:///etc/passwd"
    error = await refused(fetch_json(sessions(OPEN), bounce, policy=OPEN, signer=None))
    assert error.public_message == "scheme not allowed"


# --- redirects and signing ----------------------------------------------------


async def test_three_redirects_are_followed_and_each_hop_is_signed(remote, sessions) -> None:
    signer = RecordingSigner()

    fetched = await fetch_json(
        sessions(OPEN), url_of(remote, "/hops/3"), policy=OPEN, signer=signer
    )

    hops = [url_of(remote, f"/hops/{n}") for n in (3, 2, 1, 0)]
    assert fetched.url == hops[-1]
    assert [(method, url) for method, url, _, _ in signer.calls] == [("GET", u) for u in hops]
    assert all(headers["Accept"].startswith(AS_JSON) for _, _, headers, _ in signer.calls)
    assert remote.app[SEEN] == [
        (f"/hops/{n}", f"fake;n={i}") for i, n in enumerate((3, 2, 1, 0), start=1)
    ]


async def test_fourth_redirect_is_refused(remote, sessions) -> None:
    error = await refused(
        fetch_json(sessions(OPEN), url_of(remote, "/hops/4"), policy=OPEN, signer=None)
    )
    assert error.public_message == "too many redirects"
    assert [path for path, _ in remote.app[SEEN]] == [f"/hops/{n}" for n in (4, 3, 2, 1)]


# --- size caps ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stream", "/declared", "/bomb"])
async def test_oversized_bodies_are_refused(remote, sessions, path) -> None:
    error = await refused(
        fetch_json(sessions(OPEN), url_of(remote, path), policy=OPEN, signer=None)
    )
    assert error.public_message == "response too large"


async def test_small_gzip_body_is_decompressed(remote, sessions) -> None:
    url = url_of(remote, "/small-gzip")
    fetched = await fetch_json(sessions(OPEN), url, policy=OPEN, signer=None)
    assert fetched.document == {"id": url}


# --- content types --------------------------------------------------------------


CONTENT_TYPES = [
    ("application/activity+json", False, True),
    ("Application/Activity+JSON; charset=utf-8", False, True),
    ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', False, True),
    (
        'application/ld+json;PROFILE="https://www.w3.org/ns/activitystreams";charset=utf-8',
        False,
        True,
    ),
    (
        'APPLICATION/LD+JSON; charset=utf-8; profile="HTTPS://WWW.W3.ORG/ns/activitystreams"',
        False,
        True,
    ),
    (
        'application/ld+json; profile="https://example.com/x https://www.w3.org/ns/activitystreams"',
        False,
        True,
    ),
    ("application/ld+json", False, False),
    ('application/ld+json; profile="https://example.com/other"', False, False),
    ("application/json", False, False),
    ("application/json; charset=utf-8", True, True),
    ("application/jrd+json", True, False),
    ("text/html", True, False),
    ("text/plain", False, False),
]


@pytest.mark.parametrize("index", range(len(CONTENT_TYPES)), ids=[c for c, _, _ in CONTENT_TYPES])
async def test_content_type_rules(remote, sessions, index) -> None:
    _, plain_ok, accepted = CONTENT_TYPES[index]
    url = url_of(remote, f"/typed/{index}")
    fetch = fetch_json(sessions(OPEN), url, policy=OPEN, signer=None, accept_plain_json=plain_ok)
    if accepted:
        assert (await fetch).document == {"id": url}
    else:
        assert (await refused(fetch)).public_message == "unsupported content type"


# --- the id rule ----------------------------------------------------------------


async def test_id_elsewhere_is_refetched_once_from_the_id(remote, sessions) -> None:
    final = url_of(remote, "/doc")
    start = str(remote.make_url("/claims").with_query(id=final))

    fetched = await fetch_json(sessions(OPEN), start, policy=OPEN, signer=None)

    assert fetched.url == final
    assert [path for path, _ in remote.app[SEEN]] == ["/claims", "/doc"]


async def test_refetched_document_must_match_exactly(remote, sessions) -> None:
    # /claims?id=<second> is fetched, then <second> claims yet another id.
    second = str(remote.make_url("/claims").with_query(id=url_of(remote, "/doc")))
    start = str(remote.make_url("/claims").with_query(id=second))

    error = await refused(fetch_json(sessions(OPEN), start, policy=OPEN, signer=None))

    assert error.public_message == "id mismatch"
    assert [path for path, _ in remote.app[SEEN]] == ["/claims", "/claims"]


async def test_missing_id_is_an_id_mismatch(remote, sessions) -> None:
    error = await refused(
        fetch_json(sessions(OPEN), url_of(remote, "/claims"), policy=OPEN, signer=None)
    )
    assert error.public_message == "id mismatch"


async def test_unfetchable_id_is_not_followed(remote, counting, sessions) -> None:
    target = await counting("127.0.0.2")
    policy = FetchPolicy(allowed_networks=(ONLY_127_0_0_1,), plain_http_hosts=PLAIN)
    start = url_of(remote, "/claims") + f"?id=http://127.0.0.2:{target.port}/doc"

    error = await refused(fetch_json(sessions(policy), start, policy=policy, signer=None))

    assert error.public_message == "id mismatch"
    assert target.connections == 0


# --- statuses, JSON, network trouble --------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"), [(410, "gone"), (404, "remote status 404"), (500, "remote status 500")]
)
async def test_error_statuses(remote, sessions, code, message) -> None:
    error = await refused(
        fetch_json(sessions(OPEN), url_of(remote, f"/status/{code}"), policy=OPEN, signer=None)
    )
    assert (error.public_message, error.remote_status) == (message, code)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[1, 2]", "JSON document is not an object"),
        (b'"just a string"', "JSON document is not an object"),
        (b"{not json", "invalid JSON"),
        (b'{"a": NaN}', "invalid JSON"),
        (b'{"a": "\xff"}', "invalid JSON"),
        (b'{"a": ' + b"[" * 32 + b"]" * 32 + b"}", "JSON nested too deeply"),
    ],
)
def test_bad_fetched_json_is_a_fetch_error(raw: bytes, message: str) -> None:
    """Fetched documents go through the one reader (tests/protocol/test_json_reader.py)."""
    with pytest.raises(FetchError) as caught:
        parse_json_object(raw)
    assert caught.value.public_message == message


async def test_deeply_nested_body_from_a_server_is_refused(remote, sessions) -> None:
    remote.app[RAW]["body"] = b"[" * 100_000 + b"]" * 100_000
    error = await refused(
        fetch_json(sessions(OPEN), url_of(remote, "/raw"), policy=OPEN, signer=None)
    )
    assert error.public_message == "JSON nested too deeply"


async def test_timeout_is_a_fetch_error(remote, sessions) -> None:
    policy = FetchPolicy(allowed_networks=(LOOPBACK,), plain_http_hosts=PLAIN, total_timeout=0.3)
    error = await refused(
        fetch_json(sessions(policy), url_of(remote, "/slow"), policy=policy, signer=None)
    )
    assert error.public_message == "timeout"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_a_fetch_error(sessions) -> None:
    url = f"http://127.0.0.1:{closed_port()}/doc"
    error = await refused(fetch_json(sessions(OPEN), url, policy=OPEN, signer=None))
    assert error.public_message == "connection failed"


# --- WebFinger / NodeInfo -------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/jrd+json", "application/json"])
async def test_plain_json_fetch_is_unsigned_and_has_no_id_rule(
    remote, sessions, content_type
) -> None:
    url = str(remote.make_url("/jrd").with_query(ct=content_type))
    fetched = await fetch_plain_json(sessions(OPEN), url, policy=OPEN)
    assert fetched.document == {"subject": "acct:a@b"}
    assert remote.app[SEEN] == [("/jrd", None)]


async def test_plain_json_fetch_refuses_html(remote, sessions) -> None:
    url = url_of(remote, "/jrd") + "?ct=text/html"
    error = await refused(fetch_plain_json(sessions(OPEN), url, policy=OPEN))
    assert error.public_message == "unsupported content type"


async def test_plain_json_fetch_is_guarded(counting, sessions) -> None:
    target = await counting()
    url = f"http://localhost:{target.port}/.well-known/nodeinfo"
    error = await refused(fetch_plain_json(sessions(CLOSED), url, policy=CLOSED))
    assert error.public_message == "address not allowed"
    assert target.connections == 0


# --- delivery --------------------------------------------------------------------


@pytest.fixture
async def inbox(aiohttp_server: Any) -> TestServer:
    app = web.Application()
    app[RECEIVED] = received = []

    async def handle(request: web.Request) -> web.Response:
        received.append((request.path, dict(request.headers), await request.read()))
        code = int(request.match_info["code"])
        headers = {}
        if "retry" in request.query:
            headers["Retry-After"] = request.query["retry"]
        if code == 302:
            headers["Location"] = "/inbox/202"
        return web.Response(status=code, headers=headers, body=b"x" * 4096)

    app.router.add_post("/inbox/{code}", handle)
    return await aiohttp_server(app, host="127.0.0.1")


async def test_delivery_is_signed_at_send_time_and_accepted(inbox, sessions) -> None:
    signer = RecordingSigner()
    url = url_of(inbox, "/inbox/202")
    body = b'{"type": "Create"}'

    result = await post_activity(sessions(OPEN), url, body, policy=OPEN, signer=signer)

    assert result == DeliveryResult(status=202, retry_after=None, error=None)
    assert signer.calls == [
        ("POST", url, {"Content-Type": AS_JSON, "User-Agent": "agora/0.1.0"}, body)
    ]
    ((path, headers, received),) = inbox.app[RECEIVED]
    assert (path, received) == ("/inbox/202", body)
    assert headers["Content-Type"] == AS_JSON
    assert headers["Signature"] == "fake;n=1"


@pytest.mark.parametrize("code", [410, 503, 500, 401])
async def test_delivery_reports_error_statuses(inbox, sessions, code) -> None:
    url = url_of(inbox, f"/inbox/{code}")
    result = await post_activity(sessions(OPEN), url, b"{}", policy=OPEN, signer=RecordingSigner())
    assert result == DeliveryResult(status=code, retry_after=None, error=None)


async def test_delivery_does_not_follow_redirects(inbox, sessions) -> None:
    url = url_of(inbox, "/inbox/302")
    result = await post_activity(sessions(OPEN), url, b"{}", policy=OPEN, signer=RecordingSigner())
    assert result.status == 302
    assert [path for path, _, _ in inbox.app[RECEIVED]] == ["/inbox/302"]


async def test_delivery_429_with_retry_after_seconds(inbox, sessions) -> None:
    url = url_of(inbox, "/inbox/429") + "?retry=120"
    result = await post_activity(sessions(OPEN), url, b"{}", policy=OPEN, signer=RecordingSigner())
    assert result == DeliveryResult(status=429, retry_after=120.0, error=None)


async def test_delivery_429_with_retry_after_http_date(inbox, sessions) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    url = str(inbox.make_url("/inbox/429").with_query(retry=when))
    result = await post_activity(sessions(OPEN), url, b"{}", policy=OPEN, signer=RecordingSigner())
    assert result.status == 429
    assert result.retry_after is not None and 290 <= result.retry_after <= 300


async def test_delivery_503_with_garbage_retry_after(inbox, sessions) -> None:
    url = url_of(inbox, "/inbox/503") + "?retry=soon"
    result = await post_activity(sessions(OPEN), url, b"{}", policy=OPEN, signer=RecordingSigner())
    assert result == DeliveryResult(status=503, retry_after=None, error=None)


async def test_delivery_connection_refused_never_raises(sessions) -> None:
    url = f"http://127.0.0.1:{closed_port()}/inbox"
    result = await post_activity(sessions(OPEN), url, b"{}", policy=OPEN, signer=RecordingSigner())
    assert result == DeliveryResult(status=None, retry_after=None, error="connection failed")


async def test_delivery_to_name_resolving_to_private_address(counting, sessions) -> None:
    target = await counting()
    session = sessions(CLOSED, {"forbidden.test": "127.0.0.1"})
    url = f"http://forbidden.test:{target.port}/inbox"
    result = await post_activity(session, url, b"{}", policy=CLOSED, signer=RecordingSigner())
    assert result == DeliveryResult(status=None, error="address not allowed")
    assert target.connections == 0


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0.0),
        ("  30 ", 30.0),
        ("Wed, 01 May 2024 12:02:00 GMT", 120.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),  # in the past
        ("-5", None),
        ("soon", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected
