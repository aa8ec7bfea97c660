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
from typing import NamedTuple

MAX_INTEGER_DIGITS = 15


class SFError(ValueError):
    """A structured field did not parse (RFC 8941: the whole field fails)."""


class Token(str):
    """An sf-token: serialised bare, whereas a plain ``str`` is an sf-string."""

    __slots__ = ()


BareItem = bool | int | Token | str | bytes
Params = dict[str, BareItem]


class Item(NamedTuple):
    """A bare item with its parameters (a named tuple: cheap to build)."""

    value: BareItem
    params: Params


class InnerList(NamedTuple):
    items: tuple[Item, ...]
    params: Params


Member = Item | InnerList

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
# One bare item other than a byte sequence; the group that matched tells its
# type.  Integers may not be followed by a digit (more than 15) or '.'
# (decimals are refused).
_BARE_ITEM = re.compile(
    r"(-?[0-9]{1,15})(?![0-9.])"  # 1 integer
    # 2 string: unescaped runs, each escape followed by another run ("unrolled").
    r'|"([\x20\x21\x23-\x5b\x5d-\x7e]*(?:\\[\x22\x5c][\x20\x21\x23-\x5b\x5d-\x7e]*)*)"'
    r"|\?([01])"  # 3 boolean
    r"|([A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*)"  # 4 token
)
_PARAM_KEY = re.compile(r";[ ]*([a-z*][a-z0-9_\-.*]*)(=?)")
_UNESCAPE = re.compile(r"\\(.)")
_PRINTABLE_STRING = re.compile(r"[\x20-\x7e]*")
_SIMPLE_STRING = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")  # needs no escaping
_SIMPLE_INNER_LIST = re.compile(
    r'\(("[\x20\x21\x23-\x5b\x5d-\x7e]*"(?: "[\x20\x21\x23-\x5b\x5d-\x7e]*")*)?\)'
)


def _bare_item(text: str, pos: int) -> tuple[BareItem, int]:
    if text.startswith(":", pos):
        # Byte sequences (signatures) are long: find the end in C and let the
        # strict base64 decoder reject anything outside the alphabet.
        end = text.find(":", pos + 1)
        if end < 0:
            raise SFError("unterminated byte sequence")
        try:
            return binascii.a2b_base64(text[pos + 1 : end], strict_mode=True), end + 1
        except (binascii.Error, ValueError) as exc:
            raise SFError("bad base64 in byte sequence") from exc
    match = _BARE_ITEM.match(text, pos)
    if match is None:
        raise SFError(f"no bare item at {pos}")
    kind = match.lastindex
    raw = match.group(kind or 0)
    value: BareItem
    if kind == 1:
        value = int(raw)
    elif kind == 2:
        value = _UNESCAPE.sub(r"\1", raw) if "\\" in raw else raw
    elif kind == 3:
        value = raw == "1"
    else:
        value = Token(raw)
    return value, match.end()


def _params(text: str, pos: int) -> tuple[Params, int]:
    params: Params = {}
    while text.startswith(";", pos):
        match = _PARAM_KEY.match(text, pos)
        if match is None:
            raise SFError(f"bad parameter key at {pos}")
        pos = match.end()
        value: BareItem = True
        if match.group(2):
            value, pos = _bare_item(text, pos)
        params[match.group(1)] = value
    return params, pos


def _item(text: str, pos: int) -> tuple[Item, int]:
    value, pos = _bare_item(text, pos)
    if text.startswith(";", pos):
        params, pos = _params(text, pos)
        return Item(value, params), pos
    return Item(value, {}), pos


def _inner_list(text: str, pos: int) -> tuple[InnerList, int]:
    simple = _SIMPLE_INNER_LIST.match(text, pos)
    if simple is not None:
        # Fast path for the usual ("a" "b" "c"): plain strings, single spaces,
        # no item parameters.  '" "' cannot occur inside an sf-string (a bare
        # '"' is not allowed there), so splitting on it is exact.
        body = simple.group(1)
        names = body[1:-1].split('" "') if body else []
        params, pos = _params(text, simple.end())
        return InnerList(tuple([Item(name, {}) for name in names]), params), pos
    pos += 1  # "("
    items: list[Item] = []
    end = len(text)
    while True:
        while text.startswith(" ", pos):
            pos += 1
        if pos >= end:
            raise SFError("unterminated inner list")
        if text[pos] == ")":
            params, pos = _params(text, pos + 1)
            return InnerList(tuple(items), params), pos
        item, pos = _item(text, pos)
        items.append(item)
        if pos >= end or text[pos] not in " )":
            raise SFError(f"expected ' ' or ')' at {pos}")


def is_key(text: str) -> bool:
    """Whether ``text`` can be a dictionary key (e.g. a signature label)."""
    return _KEY.fullmatch(text) is not None


def parse_dictionary(text: str) -> dict[str, Member]:
    """Parse a dictionary field value; raise ``SFError`` on any deviation."""
    text = text.strip(" ")
    result: dict[str, Member] = {}
    pos, end = 0, len(text)
    while pos < end:
        match = _KEY.match(text, pos)
        if match is None:
            raise SFError(f"bad dictionary key at {pos}")
        pos = match.end()
        member: Member
        if text.startswith("=(", pos):
            member, pos = _inner_list(text, pos + 1)
        elif text.startswith("=", pos):
            member, pos = _item(text, pos + 1)
        else:
            params, pos = _params(text, pos)
            member = Item(True, params)
        result[match.group(0)] = member  # a repeated key overwrites, keeping first order
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos >= end:
            break
        if text[pos] != ",":
            raise SFError(f"expected ',' at {pos}")
        pos += 1
        while pos < end and text[pos] in " \t":
            pos += 1
        if pos >= end:
            raise SFError("trailing comma")
    return result


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "?1" if value else "?0"
    if isinstance(value, int):
        if not -(10**MAX_INTEGER_DIGITS) < value < 10**MAX_INTEGER_DIGITS:
            raise SFError("integer too long")
        return str(value)
    if isinstance(value, Token):
        return str.__str__(value)
    if isinstance(value, str):
        if _PRINTABLE_STRING.fullmatch(value) is None:
            raise SFError("sf-string must be printable ASCII")
        if "\\" in value or '"' in value:
            value = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{value}"'
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def serialize_params(params: Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={serialize_bare_item(value)}"
        for key, value in params.items()
    )


def serialize_item(item: Item) -> str:
    value = item.value
    if not item.params and type(value) is str and _SIMPLE_STRING.fullmatch(value):
        return f'"{value}"'  # fast path: a plain component name
    return serialize_bare_item(value) + serialize_params(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    body = " ".join(serialize_item(item) for item in inner.items)
    return f"({body}){serialize_params(inner.params)}"
