"""Unit tests for the SSRF guard: address ranges, resolver filter, URL checks."""

from __future__ import annotations

import ipaddress
import socket

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from agora_node.errors import FetchError
from agora_node.federation.netguard import (
    AddressNotAllowed,
    GuardedResolver,
    check_url,
    guarded_socket_factory,
    is_forbidden_address,
    is_guard_refusal,
)

LOOPBACK_V4 = (ipaddress.IPv4Network("127.0.0.0/8"),)

FORBIDDEN = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.1.1",  # carrier-grade NAT
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast: the stdlib calls this "global"
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:db8::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",
    "100::1",
]

PUBLIC = [
    "93.184.216.34",
    "1.1.1.1",
    "8.8.8.8",
    "2606:2800:220:1:248:1893:25c8:1946",
    "::ffff:93.184.216.34",
    "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
    "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_forbidden_addresses_are_refused(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::ffff:127.0.0.1", "2002:7f00:1::"])
def test_allowlist_exempts_loopback_including_embedded_forms(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address), LOOPBACK_V4)


@pytest.mark.parametrize("address", ["10.0.0.1", "::1", "169.254.169.254"])
def test_allowlist_exempts_nothing_else(address: str) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address), LOOPBACK_V4)


class StaticResolver(AbstractResolver):
    """Answers every name with fixed addresses, like a hostile DNS server."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_drops_forbidden_answers_and_keeps_public_ones() -> None:
    resolver = GuardedResolver(inner=StaticResolver("10.0.0.1", "93.184.216.34", "::1"))
    results = await resolver.resolve("mixed.test", 443)
    assert [r["host"] for r in results] == ["93.184.216.34"]


async def test_resolver_refuses_a_name_with_only_forbidden_answers() -> None:
    resolver = GuardedResolver(inner=StaticResolver("10.0.0.1", "::ffff:127.0.0.1"))
    with pytest.raises(AddressNotAllowed):
        await resolver.resolve("internal.test", 443)


async def test_resolver_honours_the_allowlist() -> None:
    resolver = GuardedResolver(LOOPBACK_V4, inner=StaticResolver("127.0.0.1"))
    assert [r["host"] for r in await resolver.resolve("dev.test", 80)] == ["127.0.0.1"]


async def test_resolver_passes_an_empty_answer_through() -> None:
    resolver = GuardedResolver(inner=StaticResolver())
    assert await resolver.resolve("nothing.test", 80) == []


def test_socket_factory_refuses_before_creating_a_socket() -> None:
    factory = guarded_socket_factory()
    with pytest.raises(AddressNotAllowed):
        factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80)))
    with pytest.raises(AddressNotAllowed):
        factory((socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 80, 0, 0)))


def test_socket_factory_creates_sockets_for_allowed_addresses() -> None:
    factory = guarded_socket_factory(LOOPBACK_V4)
    sock = factory((socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80)))
    sock.close()


def test_guard_refusal_is_recognised_inside_aiohttp_errors() -> None:
    inner = AddressNotAllowed("x.test", "10.0.0.1")
    wrapped = aiohttp.ClientConnectorError(
        aiohttp.client_reqrep.ConnectionKey("x.test", 80, False, True, None, None, None), inner
    )
    assert is_guard_refusal(wrapped)
    assert not is_guard_refusal(ConnectionRefusedError())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "scheme not allowed"),
        ("file:///etc/passwd", "scheme not allowed"),
        ("gopher://example.com/", "scheme not allowed"),
        ("/relative/only", "scheme not allowed"),
        ("http://example.com/x", "plain http not allowed"),
        ("https://user:pw@example.com/x", "invalid URL"),
        ("https://127.0.0.1/x", "address not allowed"),
        ("https://[::1]/x", "address not allowed"),
        ("https://[::ffff:127.0.0.1]/x", "address not allowed"),
        ("https://169.254.169.254/latest/meta-data", "address not allowed"),
        ("https://127.1/x", "invalid URL"),
        ("https://2130706433/x", "invalid URL"),
        ("https://0x7f000001/x", "invalid URL"),
        ("https://0x7f.1/x", "invalid URL"),
    ],
)
def test_check_url_refusals(url: str, message: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert caught.value.public_message == message


def test_check_url_accepts_https_names_and_public_literals() -> None:
    assert check_url("https://example.com/users/alice").host == "example.com"
    assert check_url("https://93.184.216.34/x").host == "93.184.216.34"


@pytest.mark.parametrize(
    ("entries", "url", "ok"),
    [
        ({"dev.test"}, "http://dev.test/x", True),
        ({"dev.test"}, "http://DEV.test./x", True),
        ({"dev.test"}, "http://dev.test:8080/x", True),
        ({"dev.test:8080"}, "http://dev.test:8080/x", True),
        ({"dev.test:8080"}, "http://dev.test:8081/x", False),
        ({"dev.test:8080"}, "http://dev.test/x", False),
        ({"other.test"}, "http://dev.test/x", False),
        ({"[::1]:8080"}, "http://[::1]:8080/x", True),
        ({"xn--bcher-kva.test"}, "http://BÜCHER.test./x", True),
    ],
)
def test_plain_http_hosts(entries: set[str], url: str, ok: bool) -> None:
    kwargs = {
        "plain_http_hosts": frozenset(entries),
        "allowed_networks": (ipaddress.IPv6Network("::1/128"),),
    }
    if ok:
        check_url(url, **kwargs)  # type: ignore[arg-type]
    else:
        with pytest.raises(FetchError, match="plain http not allowed"):
            check_url(url, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["https://invalid..host/x", "https://a\u0000b/"])
def test_malformed_hosts_are_invalid_urls(url: str) -> None:
    with pytest.raises(FetchError) as err:
        check_url(url)
    assert err.value.public_message in ("invalid URL", "plain http not allowed")
