"""The one JSON reader for everything that arrives from outside.

Inbox deliveries, documents fetched from other servers, C2S posts and
client-API bodies are all read here, with the same rules: UTF-8 only, no
``NaN``/``Infinity``, and at most ``MAX_DEPTH`` levels of nesting, so that
nothing downstream (schema validation, JSON-LD walks, serialisers) recurses
on an absurd document. A refusal is an ``InvalidJSON`` (a 400) whose message
is safe to show to the sender.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from agora_node.errors import BadRequest

# Real activities and actors nest about five deep (activity > object > tag >
# emoji > icon); this leaves room for any honest document and no more.
MAX_DEPTH = 32


class InvalidJSON(BadRequest):
    """A body that is not JSON we read: bad syntax, bad encoding, too deep, not an object."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def max_depth(doc: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``{}`` is 1); no recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(value, Mapping):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(doc: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse a parsed document nested past ``limit``, stopping at the first such container."""
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if type(value) is dict or isinstance(value, Mapping):  # dict first: no ABC check
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth + 1 > limit:
            raise InvalidJSON("JSON nested too deeply", limit=limit)
        stack.extend((child, depth + 1) for child in children)


def parse_json(body: bytes | str) -> Any:
    """Any JSON value, read by the rules above."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        raise InvalidJSON("invalid JSON") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        # The C parser gives up far past MAX_DEPTH, before it could exhaust the stack.
        raise InvalidJSON("JSON nested too deeply", limit=MAX_DEPTH) from None
    except ValueError:
        raise InvalidJSON("invalid JSON") from None
    # Fewer brackets than the limit in all cannot nest past it: no walk (a C-speed count).
    if text.count("[") + text.count("{") > MAX_DEPTH:
        check_depth(doc)
    return doc


def parse_json_object(body: bytes | str) -> dict[str, Any]:
    """A JSON object (the shape of every activity, actor and API body)."""
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise InvalidJSON("JSON document is not an object")
    return doc
