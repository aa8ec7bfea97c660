"""The one JSON reader: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.errors import BadRequest
from agora_node.protocol.json_reader import (
    MAX_DEPTH,
    InvalidJSON,
    check_depth,
    max_depth,
    parse_json,
    parse_json_object,
)
from tests.protocol.test_validation import FIXTURES, load


def _nested(depth: int) -> Any:
    doc: Any = "leaf"
    for i in range(depth):
        doc = {"a": doc} if i % 2 else [doc]
    return doc


def test_max_depth_counts_containers() -> None:
    assert max_depth("x") == 0
    assert max_depth({}) == 1
    assert max_depth({"a": [1, {"b": None}]}) == 3
    # activity > object > tag list > Emoji > icon
    assert max_depth(load("mastodon_create_note.json")) == 5


def test_check_depth_accepts_up_to_the_limit() -> None:
    check_depth(_nested(32))
    check_depth(_nested(5), limit=5)
    for name in FIXTURES:
        check_depth(load(name))


def test_check_depth_refuses_past_the_limit() -> None:
    with pytest.raises(BadRequest) as info:
        check_depth(_nested(33))
    assert info.value.details == {"limit": 32}
    with pytest.raises(BadRequest):
        check_depth(_nested(6), limit=5)


def test_depth_checks_do_not_recurse() -> None:
    deep = _nested(100_000)
    assert max_depth(deep) == 100_000
    with pytest.raises(BadRequest):
        check_depth(deep)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[1, 2]", "JSON document is not an object"),
        (b'"just a string"', "JSON document is not an object"),
        (b"{not json", "invalid JSON"),
        (b"", "invalid JSON"),
        (b'{"a": NaN}', "invalid JSON"),
        (b'{"a": Infinity}', "invalid JSON"),
        (b'{"a": "\xff"}', "invalid JSON"),
        (b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}", "JSON nested too deeply"),
        (b"[" * 200_000 + b"]" * 200_000, "JSON nested too deeply"),
        (b'{"a": ' + b'{"b": ' * 100_000, "JSON nested too deeply"),
    ],
)
def test_bad_json_is_a_400_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidJSON) as caught:
        parse_json_object(raw)
    assert caught.value.status == 400 and caught.value.public_message == message


def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine() -> None:
    inner = MAX_DEPTH - 1
    deep: Any = parse_json_object(b'{"a": ' + b"[" * inner + b"]" * inner + b"}")["a"]
    for _ in range(inner - 1):
        (deep,) = deep
    assert deep == []
    assert parse_json_object(b'{"s": "' + b"[" * 1000 + b'\\"{{{"}')["s"].startswith("[[")
    assert parse_json("[1, 2]") == [1, 2]
