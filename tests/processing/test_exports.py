"""Relations as CSV: Mastodon's export shapes, and reading a follows file."""

from __future__ import annotations

import pytest

from agora_node.errors import UnprocessableEntity
from agora_node.processing.exports import (
    MAX_IMPORT_ROWS,
    FollowToImport,
    export_csv,
    read_follows_csv,
)


def test_exports_have_mastodons_columns() -> None:
    follows = export_csv("following", [("bob", "b.example", 1, 0), ("eve", "e.example", 0, 1)])
    assert follows == (
        "Account address,Show boosts,Notify on new posts,Languages\n"
        "bob@b.example,true,false,\neve@e.example,false,true,\n"
    )
    assert export_csv("blocks", [("spam", "s.example")]) == "spam@s.example\n"  # no header
    assert export_csv("mutes", [("loud", "l.example", 1)]) == (
        "Account address,Hide notifications\nloud@l.example,true\n"
    )
    assert export_csv("followers", []) == "Account address\n"


def test_a_mastodon_follows_file_is_read_with_its_options() -> None:
    data = (
        "\ufeffAccount address,Show boosts,Notify on new posts,Languages\n"
        "bob@B.Example,true,false,\n"
        '@eve@e.example,false,true,"en, de"\n'
        "\n"
        "bob@b.example,false,false,\n"  # the same account again: the first line counts
    ).encode()
    assert read_follows_csv(data) == [
        FollowToImport("bob@b.example", True, False),
        FollowToImport("eve@e.example", False, True),
    ]


def test_a_file_without_header_is_one_address_a_line() -> None:
    data = b"bob@b.example\ncarol@c.example:8443\n"
    assert read_follows_csv(data) == [
        FollowToImport("bob@b.example", None, None),
        FollowToImport("carol@c.example:8443", None, None),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "lists no accounts"),
        (b"Account address,Show boosts\n", "lists no accounts"),
        (b"bob@b.example\nnot an address\n", "line 2: 'not an address' is not an account address"),
        (b"Account address,Show boosts\nbob@b.example,maybe\n", "line 2: Show boosts must be"),
        (b"https://b.example/users/bob\n", "is not an account address"),
        (b"\xff\xfe\x00b", "not UTF-8"),
        (b"x@y.z\n" * (MAX_IMPORT_ROWS + 1), f"more than {MAX_IMPORT_ROWS} accounts"),
    ],
)
def test_a_file_that_cannot_be_read_says_where(data: bytes, message: str) -> None:
    with pytest.raises(UnprocessableEntity, match=message):
        read_follows_csv(data)
