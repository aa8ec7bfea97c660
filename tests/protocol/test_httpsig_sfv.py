"""The RFC 8941 subset: parse, re-serialise, refuse."""

from __future__ import annotations

import pytest

from agora_node.protocol.httpsig.sfv import (
    InnerList,
    Item,
    SFError,
    Token,
    parse_dictionary,
    serialize_inner_list,
    serialize_item,
)


def test_dictionary_of_all_supported_types() -> None:
    parsed = parse_dictionary(
        'a=1, b="x \\"y\\" \\\\z", c=tok/en:1, d=:AQID:, e=?0, f, g=("p" "q";k=1);n=-5'
    )

    assert parsed["a"] == Item(1, {})
    assert parsed["b"] == Item('x "y" \\z', {})
    assert parsed["c"] == Item(Token("tok/en:1"), {})
    assert isinstance(parsed["c"][0], Token)
    assert parsed["d"] == Item(b"\x01\x02\x03", {})
    assert parsed["e"] == Item(False, {})
    assert parsed["f"] == Item(True, {})
    assert parsed["g"] == InnerList((Item("p", {}), Item("q", {"k": 1})), {"n": -5})


@pytest.mark.parametrize(
    "text",
    [
        '("@method" "@path");created=1618884473;keyid="test-key"',
        '();created=1;keyid="k";alg="ed25519"',
        '("a";name="x" "b");tag="t\\"q"',
        '("@query-param";name="Pet")',
    ],
)
def test_inner_list_round_trip(text: str) -> None:
    member = parse_dictionary(f"sig={text}")["sig"]
    assert isinstance(member, InnerList)
    assert serialize_inner_list(member) == text


def test_whitespace_is_not_part_of_the_canonical_form() -> None:
    member = parse_dictionary('sig=(  "a"   "b" );created=1 ,  other=2')["sig"]
    assert isinstance(member, InnerList)
    assert serialize_inner_list(member) == '("a" "b");created=1'


def test_fast_and_general_inner_list_paths_agree() -> None:
    fast = parse_dictionary('s=("a" "b" "c");x=1')["s"]
    general = parse_dictionary('s=( "a" "b" "c");x=1')["s"]
    assert fast == general


def test_repeated_key_keeps_last_value_first_position() -> None:
    assert list(parse_dictionary("a=1, b=2, a=3").items()) == [
        ("a", Item(3, {})),
        ("b", Item(2, {})),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a=1,",
        "a=1,,b=2",
        "A=1",
        "a=1.5",
        "a=1234567890123456",
        'a="unterminated',
        'a="tab\tinside"',
        'a="é"',
        "a=:not base64!:",
        "a=:AAA:",
        "a=(1 2",
        "a=(1,2)",
        'a=("x""y")',
        "a=?2",
        "a=@1659578233",
        'a=%"display"',
        "a=1;B=2",
        "a=1 b=2",
    ],
)
def test_malformed_fields_raise_sferror(text: str) -> None:
    with pytest.raises(SFError):
        parse_dictionary(text)


def test_serializer_refuses_what_cannot_be_represented() -> None:
    for bad in (Item("é", {}), Item("line\nbreak", {}), Item(10**15, {})):
        with pytest.raises(SFError):
            serialize_item(bad)
    assert serialize_item(Item(True, {"a": True, "b": False})) == "?1;a;b=?0"
