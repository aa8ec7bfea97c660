"""Host names compared the way the network resolves them.

Origin checks ("is this object on the actor's server?") are only as good as
the host comparison under them. ``Mastodon.Example.``, ``mastodon.example``
and ``mastodon.example:443`` over https are one server; ``bücher.example`` and
``xn--bcher-kva.example`` are one name. Internationalised names are encoded
with UTS #46 through the ``idna`` package, the same call ``yarl`` (and so
aiohttp) makes before connecting, so what we compare is what we would fetch.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}
# After lowering and IDNA encoding, a registered name is LDH labels (plus "_",
# which some self-hosted setups use); anything else is not a host we talk to.
_ASCII_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
_IPV6_LITERAL = re.compile(r"\[[0-9a-f:.]+\]")
_PORT = re.compile(r"[0-9]{1,5}")


def _split_port(host: str) -> tuple[str, str | None]:
    if host.startswith("["):
        end = host.find("]")
        if end == -1:
            raise ValueError("unterminated IPv6 literal")
        name, rest = host[: end + 1], host[end + 1 :]
        if not rest:
            return name, None
        if not rest.startswith(":"):
            raise ValueError("junk after IPv6 literal")
        return name, rest[1:]
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    if ":" in host:
        raise ValueError("bare IPv6 address must be bracketed")
    return host, None


def _normalise(host: str) -> tuple[str, int | None]:
    name, port = _split_port(host.strip())
    name = name.rstrip(".")
    if not name:
        raise ValueError("empty host")
    if name.startswith("["):
        name = name.lower()
        if not _IPV6_LITERAL.fullmatch(name):
            raise ValueError("invalid IPv6 literal")
    else:
        if not name.isascii():
            name = idna.encode(name, uts46=True).decode("ascii")
        name = name.lower()
        if not _ASCII_HOST.fullmatch(name):
            raise ValueError(f"invalid host name: {name!r}")
    if port is None:
        return name, None
    if not _PORT.fullmatch(port) or not 0 < int(port) < 65536:
        raise ValueError("invalid port")
    return name, int(port)


def normalise_host(host: str) -> str:
    """Canonical ``host[:port]``: lowercase, no trailing dots, IDNA as punycode.

    An explicit port is kept as given (only :func:`host_of` knows the scheme
    and so which port is the default). Raises ``ValueError`` for anything that
    is not a usable host name, so an odd value never compares equal by accident.
    """
    name, port = _normalise(host)
    return name if port is None else f"{name}:{port}"


def _scheme_and_host(url: str) -> tuple[str, str]:
    # Cached: the inbox asks it of the same few actor and key URLs for every
    # delivery (bench/inbox.py: 9 % of the serving loop's time before). Only
    # URLs of a sane length, so a sender cannot fill memory with huge ones.
    if len(url) <= _CACHED_URL_MAX:
        return _scheme_and_host_cached(url)
    return _parse_scheme_and_host(url)


_CACHED_URL_MAX = 2048


@functools.lru_cache(maxsize=4096)
def _scheme_and_host_cached(url: str) -> tuple[str, str]:
    return _parse_scheme_and_host(url)


def _parse_scheme_and_host(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("not an http(s) URL")
    netloc = parts.netloc
    # Browsers (WHATWG URL) read a backslash as a path separator, urlsplit
    # does not: "https://evil.example\\@good.example" would name two hosts.
    if not netloc or "\\" in netloc or any(c.isspace() for c in netloc):
        raise ValueError("URL has no usable host")
    name, port = _normalise(netloc.rpartition("@")[2])
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return scheme, name
    return scheme, f"{name}:{port}"


def host_of(url: str) -> str:
    """Normalised ``host[:port]`` of an http(s) URL; the default port is dropped.

    Raises ``ValueError`` for other schemes (``javascript:``, ``data:``…) and
    for URLs without a host.
    """
    return _scheme_and_host(url)[1]


def same_origin(a: str, b: str) -> bool:
    """True when both URLs share scheme, host and port.

    An unparsable URL is never the same origin as anything: the safe answer
    to "may this document speak for that one?" is no.
    """
    try:
        return _scheme_and_host(a) == _scheme_and_host(b)
    except ValueError:
        return False
