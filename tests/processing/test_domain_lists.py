"""Block lists as admins trade them (processing/domain_lists.py)."""

from __future__ import annotations

import pytest

from agora_node.errors import UnprocessableEntity
from agora_node.processing.domain_lists import (
    BlockSpec,
    normal_domain,
    obfuscated,
    parse_list,
    plan,
    to_csv,
)

# The shape of a real export from Mastodon's admin interface (4.x), comments
# with commas and quotes, a Unicode domain, Windows line ends and a BOM.
MASTODON_EXPORT = (
    "\ufeff#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\r\n"
    "spam.example,suspend,true,true,Spam and harassment,false\r\n"
    'loud.example,silence,false,false,"Unmoderated, loud",false\r\n'
    "pics.example,noop,true,false,,false\r\n"
    'hidden.example,suspend,false,false,"He said ""no""",true\r\n'
    "bücher.example,silence,false,false,,false\r\n"
)


def test_a_mastodon_export_reads_and_writes_back_the_same() -> None:
    specs = parse_list(MASTODON_EXPORT)
    assert [s.domain for s in specs] == [
        "spam.example", "loud.example", "pics.example", "hidden.example", "xn--bcher-kva.example",
    ]  # fmt: skip
    assert specs[0] == BlockSpec("spam.example", "suspend", True, True, "Spam and harassment")
    assert specs[1].public_comment == "Unmoderated, loud"
    assert specs[2].severity == "noop" and specs[2].reject_media
    assert specs[3].obfuscate and specs[3].public_comment == 'He said "no"'
    written = to_csv(specs)
    assert written.splitlines()[0] == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    )
    assert parse_list(written) == specs


def test_plain_lists_and_json_lists() -> None:
    plain = parse_list("spam.example\n# a comment line\n\n*.bad.example\n")
    assert [(s.domain, s.severity) for s in plain] == [
        ("spam.example", "suspend"), ("bad.example", "suspend"),
    ]  # fmt: skip
    gts = parse_list(
        '[{"domain": "spam.example", "public_comment": "spam"},'
        ' {"domain": "loud.example", "severity": "limit", "obfuscate": true}]'
    )
    assert gts[0] == BlockSpec("spam.example", "suspend", public_comment="spam")
    assert (gts[1].severity, gts[1].obfuscate) == ("silence", True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#domain,#severity\nspam.example,obliterate\n", "line 2: unknown severity"),
        ("#domain,#severity\nhttps://x.example/,suspend\n", "line 2: 'https://x.example/'"),
        ("#severity,#public_comment\nsuspend,x\n", "no #domain column"),
        ('[{"severity": "suspend"}]', "entry 1"),
        ("[1, 2", "does not parse"),
        ('{"domain": "x.example"}', "an array of objects"),
    ],
)
def test_bad_lists_name_the_line_at_fault(text: str, message: str) -> None:
    with pytest.raises(UnprocessableEntity) as err:
        parse_list(text)
    assert message in err.value.public_message


def test_the_plan_says_what_would_change() -> None:
    current = [
        BlockSpec("spam.example", "suspend", private_comment="ours"),
        BlockSpec("old.example", "silence"),
    ]
    wanted = parse_list("#domain,#severity\nspam.example,silence\nnew.example,suspend\n")
    changes = plan(current, wanted)
    assert [c.describe() for c in changes] == [
        "change spam.example: suspend -> silence",
        "add new.example (suspend)",
    ]
    # A change keeps the admin's private comment; nothing is removed unless asked.
    assert changes[0].spec.private_comment == "ours"
    removing = plan(current, wanted, remove_missing=True)
    assert removing[-1].describe() == "remove old.example (silence)"
    assert plan(current, [BlockSpec("spam.example", "suspend")]) == []


def test_names_and_obfuscation() -> None:
    assert normal_domain(" *.Social.Example. ") == "social.example"
    assert obfuscated("spam.example") == "spam.****ple"
    assert obfuscated("a.io") == "a.*o"
    for bad in ("", "exa mple.org", "a..b", "x.example:443", "-x.example", "a" * 64 + ".example"):
        with pytest.raises(UnprocessableEntity):
            normal_domain(bad)
