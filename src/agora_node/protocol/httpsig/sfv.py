"""The subset of RFC 8941 Structured Field Values that RFC 9421 needs.

``Signature-Input``, ``Signature`` and ``Content-Digest`` are dictionaries.
We parse them ourselves because the signature base must contain the
*canonical re-serialisation* of the signature parameters (RFC 9421 §3.2),
so parser and serialiser have to agree byte for byte, and because every
malformed input must end in one predictable exception (``SFError``), never
an ``IndexError`` from deep inside a third-party parser.

Supported: dictionaries, inner lists, parameters, integers, strings,
tokens, byte sequences and booleans.  Decimals (and RFC 9651 dates and
display strings) are refused: nothing in a signature uses them, and a
refused field is simply an unparsable header.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

MAX_INTEGER_DIGITS = 15


class SFError(ValueError):
    """A structured field did not parse (RFC 8941: the whole field fails)."""


class Token(str):
    """An sf-token: serialised bare, whereas a plain ``str`` is an sf-string."""

    __slots__ = ()


BareItem = bool | int | Token | str | bytes
Params = dict[str, BareItem]


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: Params = field(default_factory=dict)


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: Params = field(default_factory=dict)


Member = Item | InnerList

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_INTEGER = re.compile(r"-?[0-9]+")
# sf-string: printable ASCII except '"' and '\', or one of those two escaped.
_STRING = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x22\x5c])*)"')
_UNESCAPE = re.compile(r"\\(.)")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_BOOLEAN = re.compile(r"\?([01])")
_OWS = re.compile(r"[ \t]*")
_SP = re.compile(r" *")


class _Parser:
    """A cursor over one field value; each ``_parse_*`` advances ``pos``."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _skip(self, pattern: re.Pattern[str]) -> None:
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()

    def _expect(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        match = pattern.match(self.text, self.pos)
        if match is None:
            raise SFError(f"expected {what} at {self.pos}")
        self.pos = match.end()
        return match

    def parse_dictionary(self) -> dict[str, Member]:
        result: dict[str, Member] = {}
        self._skip(_SP)
        while self.pos < len(self.text):
            key = self._expect(_KEY, "key").group(0)
            member: Member
            if self._peek() == "=":
                self.pos += 1
                member = self._parse_inner_list() if self._peek() == "(" else self._parse_item()
            else:
                member = Item(True, self._parse_params())
            result[key] = member  # a repeated key overwrites, keeping first order
            self._skip(_OWS)
            if self.pos >= len(self.text):
                return result
            if self._peek() != ",":
                raise SFError(f"expected ',' at {self.pos}")
            self.pos += 1
            self._skip(_OWS)
            if self.pos >= len(self.text):
                raise SFError("trailing comma")
        return result

    def _parse_inner_list(self) -> InnerList:
        self.pos += 1  # "("
        items: list[Item] = []
        while self.pos < len(self.text):
            self._skip(_SP)
            if self._peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self._parse_params())
            items.append(self._parse_item())
            if self._peek() not in (" ", ")"):
                raise SFError(f"expected ' ' or ')' at {self.pos}")
        raise SFError("unterminated inner list")

    def _parse_item(self) -> Item:
        value = self._parse_bare_item()
        return Item(value, self._parse_params())

    def _parse_params(self) -> Params:
        params: Params = {}
        while self._peek() == ";":
            self.pos += 1
            self._skip(_SP)
            key = self._expect(_KEY, "parameter key").group(0)
            value: BareItem = True
            if self._peek() == "=":
                self.pos += 1
                value = self._parse_bare_item()
            params[key] = value
        return params

    def _parse_bare_item(self) -> BareItem:
        char = self._peek()
        if char == "-" or char.isdigit():
            digits = self._expect(_INTEGER, "integer").group(0)
            if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
                raise SFError("integer too long")
            if self._peek() == ".":
                raise SFError("decimals are not supported")
            return int(digits)
        if char == '"':
            raw = self._expect(_STRING, "string").group(1)
            return _UNESCAPE.sub(r"\1", raw) if "\\" in raw else raw
        if char == ":":
            encoded = self._expect(_BYTES, "byte sequence").group(1)
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise SFError("bad base64 in byte sequence") from exc
        if char == "?":
            return self._expect(_BOOLEAN, "boolean").group(1) == "1"
        if char == "*" or (char.isascii() and char.isalpha()):
            return Token(self._expect(_TOKEN, "token").group(0))
        raise SFError(f"unexpected {char!r} at {self.pos}")


def is_key(text: str) -> bool:
    """Whether ``text`` can be a dictionary key (e.g. a signature label)."""
    return _KEY.fullmatch(text) is not None


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse a dictionary field value; raise ``SFError`` on any deviation."""
    parser = _Parser(text.rstrip(" "))
    return parser.parse_dictionary()


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "?1" if value else "?0"
    if isinstance(value, int):
        if len(str(abs(value))) > MAX_INTEGER_DIGITS:
            raise SFError("integer too long")
        return str(value)
    if isinstance(value, Token):
        return str.__str__(value)
    if isinstance(value, str):
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if _STRING.fullmatch(quoted) is None:
            raise SFError("sf-string must be printable ASCII")
        return quoted
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def serialize_params(params: Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={serialize_bare_item(value)}"
        for key, value in params.items()
    )


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    body = " ".join(serialize_item(item) for item in inner.items)
    return f"({body}){serialize_params(inner.params)}"
