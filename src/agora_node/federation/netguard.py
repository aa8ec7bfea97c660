"""SSRF guard: which IP addresses the node may open outgoing connections to.

Any remote actor can make us fetch a URL of its choosing (an actor id, a
``Location`` header, an ``inReplyTo``), so every outgoing connection is checked
against the address it is *actually* about to reach, not against the hostname
in the URL. The guard sits in two places inside aiohttp's connector:

* :class:`GuardedResolver` drops forbidden answers right after DNS, so a name
  that resolves only to private addresses fails early with a clear error;
* :func:`guarded_socket_factory` checks the socket address immediately before
  ``connect()``. aiohttp never calls the resolver for IP-literal hosts
  (``http://127.0.0.1/``, ``http://[::1]/``), so this is the check that covers
  them, and it also makes DNS rebinding between resolve and connect moot.

:func:`check_url` refuses what can be judged from the URL alone (scheme,
credentials, literal addresses) before a request is made, on every hop.

The connection-time checks raise :class:`AddressNotAllowed`, an ``OSError``
that aiohttp wraps into a ``ClientConnectorError``;
:mod:`agora_node.federation.http` maps that to ``FetchError("address not
allowed")``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable

from aiohappyeyeballs import AddrInfoType, SocketFactoryType
from aiohttp import ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from agora_node.errors import FetchError
from agora_node.protocol.hosts import normalise_host

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges refused explicitly. The stdlib flags (is_private, is_global...) changed
# between 3.11 patch releases and call multicast "global", so we do not rely on
# them alone; they are consulted as well, as a second opinion.
_FORBIDDEN_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local (cloud metadata lives here)
        "172.16.0.0/12",  # RFC 1918
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # RFC 1918
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255
    )
)
_FORBIDDEN_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/8",  # unspecified, loopback, IPv4-compatible (deprecated)
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, includes Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressNotAllowed(OSError):
    """A connection to a forbidden address was refused before it was opened."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host
        self.address = address
        super().__init__(f"address not allowed: {host} -> {address}")


def is_forbidden_address(ip: IPAddress, allowed: Iterable[IPNetwork] = ()) -> bool:
    """Whether ``ip`` must not be connected to.

    ``allowed`` holds explicit exceptions (a test rig on 127.0.0.0/8, a
    federation peer on a LAN). IPv6 forms that embed an IPv4 address
    (IPv4-mapped, 6to4, NAT64) are judged by the embedded address, because
    that is where the packets end up.
    """
    allowed = tuple(allowed)
    if any(ip in net for net in allowed):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_forbidden_address(embedded, allowed)
        if ip.scope_id:
            return True  # zoned addresses are link-local by nature
        forbidden: tuple[IPNetwork, ...] = _FORBIDDEN_V6
    else:
        forbidden = _FORBIDDEN_V4
    if any(ip in net for net in forbidden):
        return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def parse_ip(text: str) -> IPAddress | None:
    """The address in ``text`` or ``None`` when it is not an IP literal."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check_address(host: str, address: str, allowed: Iterable[IPNetwork]) -> None:
    """Raise :class:`AddressNotAllowed` unless ``address`` may be connected to.

    An unparsable address is refused: we only connect to what we can judge.
    """
    ip = parse_ip(address)
    if ip is None or is_forbidden_address(ip, allowed):
        logger.info("connection refused host=%s address=%s", host, address)
        raise AddressNotAllowed(host, address)


class GuardedResolver(AbstractResolver):
    """Resolve through ``inner`` and keep only the addresses we may reach."""

    def __init__(
        self,
        allowed: Iterable[IPNetwork] = (),
        inner: AbstractResolver | None = None,
    ) -> None:
        self._allowed = tuple(allowed)
        # ThreadedResolver (getaddrinfo in a thread) honours /etc/hosts and is
        # what every deployment has; aiodns is optional.
        self._inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family=family)
        kept: list[ResolveResult] = []
        for result in results:
            ip = parse_ip(result["host"])
            if ip is not None and not is_forbidden_address(ip, self._allowed):
                kept.append(result)
            else:
                logger.info("dropped resolved address host=%s address=%s", host, result["host"])
        if results and not kept:
            raise AddressNotAllowed(host, ", ".join(r["host"] for r in results))
        return kept

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket_factory(allowed: Iterable[IPNetwork] = ()) -> SocketFactoryType:
    """A ``TCPConnector(socket_factory=...)`` that refuses forbidden peers.

    This is the last check before ``connect()`` and the only one aiohttp runs
    for IP-literal hosts, which skip the resolver entirely.
    """
    allowed = tuple(allowed)

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        check_address(str(sockaddr[0]), str(sockaddr[0]), allowed)
        return socket.socket(family=family, type=type_, proto=proto)

    return factory


def check_url(
    url: str,
    *,
    allowed_networks: Iterable[IPNetwork] = (),
    plain_http_hosts: frozenset[str] = frozenset(),
) -> URL:
    """Refuse a URL before any connection: scheme, credentials, literal address.

    Run on every hop. IP-literal hosts are judged here because aiohttp skips
    the resolver for them; the socket factory would still stop them, but only
    after taking a pool slot and with a less obvious error.
    """
    try:
        parsed = URL(url)
        host = parsed.host
        if host and parse_ip(host) is None:
            # Empty labels (``a..b``) and stray characters would only fail
            # deep inside the connector; refuse them as bad URLs here.
            host.encode("idna")
            if any(c in host for c in "\x00 /\\"):
                raise ValueError("bad host")
    except (ValueError, TypeError) as exc:
        raise FetchError("invalid URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError("scheme not allowed")
    if not host or parsed.user is not None or parsed.password is not None:
        raise FetchError("invalid URL")
    if parsed.scheme == "http" and not _plain_http_allowed(parsed, plain_http_hosts):
        raise FetchError("plain http not allowed")
    ip = parse_ip(host)
    if ip is not None:
        if is_forbidden_address(ip, allowed_networks):
            raise FetchError("address not allowed")
    elif _is_legacy_numeric_ipv4(host):
        raise FetchError("invalid URL")
    return parsed


def is_guard_refusal(exc: BaseException) -> bool:
    """Whether an aiohttp connection error was really this guard saying no."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressNotAllowed) or isinstance(
            getattr(seen, "os_error", None), AddressNotAllowed
        ):
            return True
        seen = seen.__cause__
    return False


def _plain_http_allowed(parsed: URL, plain_http_hosts: frozenset[str]) -> bool:
    """Entries are normalised hosts (see ``protocol.hosts``), optionally ``:port``."""
    raw = parsed.raw_host or ""
    try:
        host = normalise_host(f"[{raw}]" if ":" in raw else raw)
    except ValueError:
        return False
    return not {host, f"{host}:{parsed.port}"}.isdisjoint(plain_http_hosts)


def _is_legacy_numeric_ipv4(host: str) -> bool:
    """``127.1``, ``2130706433``, ``0x7f.1``: forms libc maps onto an address."""
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True
