"""The parts of an HTTP request that signatures cover, read defensively.

Headers arrive as an aiohttp ``CIMultiDict`` (several values per name) or a
plain ``Mapping``; both become ``dict[lowercase name, list[value]]`` once,
so every later lookup is case-insensitive and sees every value.  Anything
odd (non-string values, CR/LF that could forge a signing-string line,
oversized signature fields) is an ``unparsable_header`` here, before any
parser or crypto sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from agora_node.errors import SignatureError

Headers = dict[str, list[str]]
#: What callers pass: a dict, an aiohttp ``CIMultiDict``/``CIMultiDictProxy``
#: (repeated names), or a mapping of name to a list of values.
HeaderSource = Mapping[str, Any]

#: Longest accepted Signature / Signature-Input / Authorization value.
MAX_SIGNATURE_FIELD = 8 * 1024
#: Most components one signature may cover (bounds the work per request).
MAX_COVERED = 64

_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# What a signature field may contain: printable ASCII and tab.
_NOT_FIELD_TEXT = re.compile(r"[^\t\x20-\x7e]")


def unparsable(detail: str | None = None) -> SignatureError:
    """The one error for malformed input; ``detail`` stays server-side."""
    error = SignatureError("unparsable_header")
    if detail:
        error.add_note(detail)
    return error


def normalise_headers(headers: HeaderSource, only: frozenset[str] | None = None) -> Headers:
    """Lowercase names, keep every value in order (``items()`` of a multidict
    yields repeated names; a list value is taken as several values).

    ``only`` keeps just those (lowercase) names, for callers needing a few.
    """
    result: Headers = {}
    try:
        items: Iterable[tuple[Any, Any]] = headers.items()
        for name, value in items:
            if not isinstance(name, str):
                raise unparsable("header name is not a string")
            key = name.lower()
            if only is not None and key not in only:
                continue
            if type(value) is str:  # the common case, kept cheap
                known = result.get(key)
                if known is None:
                    result[key] = [value]
                else:
                    known.append(value)
                continue
            values = value if isinstance(value, list | tuple) else (value,)
            for one in values:
                if not isinstance(one, str):
                    raise unparsable("header value is not a string")
                result.setdefault(key, []).append(one)
    except (AttributeError, TypeError, ValueError) as exc:
        raise unparsable("headers are not a mapping") from exc
    return result


def field_value(headers: Headers, name: str) -> str | None:
    """RFC 9421 §2.1 / cavage §2.3: trim each value, join with ", "."""
    values = headers.get(name)
    if values is None:
        return None
    value = values[0].strip() if len(values) == 1 else ", ".join(v.strip() for v in values)
    if "\n" in value or "\r" in value:
        # A newline would let a header value forge extra signing-string lines.
        raise unparsable(f"line break in {name}")
    return value


def signature_field(headers: Headers, name: str) -> str | None:
    """A signature-carrying field, bounded in size and restricted to ASCII."""
    values = headers.get(name)
    if values is None:
        return None
    value = ", ".join(values).strip(" \t")
    if len(value) > MAX_SIGNATURE_FIELD:
        raise unparsable(f"{name} longer than {MAX_SIGNATURE_FIELD}")
    if not value.isascii() or (not value.isprintable() and _NOT_FIELD_TEXT.search(value)):
        raise unparsable(f"{name} has non-ASCII or control characters")
    return value


class Target:
    """The request target split once: scheme, authority, path and query."""

    __slots__ = ("authority", "path", "query", "scheme", "url")

    def __init__(self, url: str) -> None:
        try:
            parts = urlsplit(url)
        except (ValueError, TypeError) as exc:
            raise unparsable("bad request URL") from exc
        self.url = url
        self.scheme = parts.scheme.lower()
        netloc = parts.netloc.rpartition("@")[2].lower()
        default_port = _DEFAULT_PORTS.get(self.scheme)
        if default_port and netloc.endswith(default_port):
            netloc = netloc[: -len(default_port)]
        self.authority = netloc
        self.path = parts.path or "/"
        self.query = parts.query

    @property
    def request_target(self) -> str:
        """Origin form: path plus ``?query`` when there is one."""
        return f"{self.path}?{self.query}" if self.query else self.path


@lru_cache(maxsize=64)
def target_of(url: str) -> Target:
    """``Target(url)``, cached: a node is asked at a few URLs (its inboxes) over
    and over. Targets are never modified after they are made."""
    return Target(url)


def host_header_for(url: str) -> str:
    """What an HTTP client sends as Host for ``url`` (no default port, IDNA)."""
    authority = Target(url).authority
    if not authority.isascii():
        host, sep, port = authority.rpartition(":") if "]" not in authority else (authority, "", "")
        if not sep or not port.isdigit():
            host, sep, port = authority, "", ""
        authority = host.encode("idna").decode("ascii") + sep + port
    return authority
