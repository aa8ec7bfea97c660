"""Garbage in, SignatureError out: never any other exception.

Deterministic (seeded) random inputs: raw bytes decoded the way aiohttp
does, strings built from the parsers' structural characters, mutations of
valid headers, oversized and non-string values.
"""

from __future__ import annotations

import random
import string

import pytest

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig import (
    SigningKey,
    check_policy,
    parse_signature,
    sign_request,
    verify_signature,
)
from agora_node.protocol.httpsig.sfv import SFError, parse_dictionary

NOW = 1_700_000_000.0
URL = "https://remote.example/inbox?a=b"
BODY = b"{}"
ALPHABET = string.ascii_letters + string.digits + '"=,;:()?*@ \t-+/._\\\x00\n\r' + "éß€\udcff"
SIGNATURE_NAMES = (
    "Signature",
    "Signature-Input",
    "Authorization",
    "Digest",
    "Content-Digest",
    "Date",
)


def _random_bytes_text(rng: random.Random) -> str:
    raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    return raw.decode("utf-8", "surrogateescape")


def _random_structured(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 120)))


def _mutate(rng: random.Random, value: str) -> str:
    chars = list(value)
    for _ in range(rng.randrange(1, 6)):
        op = rng.randrange(3)
        position = rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            del chars[min(position, len(chars) - 1)]
        elif op == 1:
            chars.insert(position, rng.choice(ALPHABET))
        elif chars:
            chars[min(position, len(chars) - 1)] = rng.choice(ALPHABET)
    return "".join(chars)


def _exercise(method: str, url: str, headers: object, key: SigningKey) -> None:
    """Run the whole inbound path; only SignatureError may escape."""
    try:
        parsed = parse_signature(method, url, headers)
        verify_signature(parsed, key.private_key.public_key())
        check_policy(parsed, method, headers, BODY, now=NOW)
    except SignatureError as error:
        # The catch-all backstop in parse_signature must never be what caught it.
        assert not any(note.startswith("unexpected") for note in getattr(error, "__notes__", []))
        assert error.reason in {
            "missing_signature",
            "unparsable_header",
            "header_not_covered",
            "unsupported_algorithm",
            "bad_signature",
            "bad_date",
            "stale_date",
            "future_date",
            "expired",
            "digest_mismatch",
            "missing_digest",
        }


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_mutated_valid_headers(scheme: str, ed_key: SigningKey) -> None:
    rng = random.Random(f"mutate-{scheme}")
    valid = sign_request("POST", URL, {"Content-Type": "a/b"}, BODY, ed_key, scheme=scheme, now=NOW)
    for _ in range(3000):
        headers = dict(valid)
        name = rng.choice([n for n in headers if n != "Host"])
        headers[name] = _mutate(rng, headers[name])
        _exercise("POST", URL, headers, ed_key)


@pytest.mark.parametrize("generator", [_random_bytes_text, _random_structured])
def test_random_signature_fields(generator: object, ed_key: SigningKey) -> None:
    assert callable(generator)
    rng = random.Random(generator.__name__)
    for _ in range(3000):
        headers = {"Host": "remote.example"}
        for name in rng.sample(SIGNATURE_NAMES, rng.randrange(1, len(SIGNATURE_NAMES))):
            headers[name] = generator(rng)
        _exercise(rng.choice(["GET", "POST", "pOsT", ""]), URL, headers, ed_key)


def test_random_urls_and_methods(ed_key: SigningKey) -> None:
    rng = random.Random("urls")
    valid = sign_request("GET", URL, {}, None, ed_key, now=NOW)
    for _ in range(2000):
        url = rng.choice(["", "http://[::1", "https://h:99999/", "//x", URL]) + _random_structured(
            rng
        )
        _exercise(_random_structured(rng), url, valid, ed_key)


@pytest.mark.parametrize(
    "headers",
    [
        None,
        42,
        "Signature: x",
        [("Signature", "x")],
        {b"Signature": b'keyId="k"'},
        {"Signature": None},
        {"Signature": 12},
        {"Signature": ['keyId="k"', 3]},
        {"Signature": "keyId=" + "a" * 9000},
        {"Signature-Input": "sig1=(" + '"@method" ' * 3000 + ")", "Signature": "sig1=:AA==:"},
        {
            "Signature-Input": "sig1=(" + '"a" ' * 100 + ")" + ';keyid="k"',
            "Signature": "sig1=:AA==:",
        },
        {"Signature": 'keyId="k",signature="AA==",headers="' + "x " * 100 + '"'},
        {"Signature": 'keyId="кл",signature="AA=="'},
        {"Authorization": "Signature " + "\udcff"},
        {"Signature-Input": 'sig1=("@method" "@method");keyid="k"', "Signature": "sig1=:AA==:"},
        {"Signature-Input": 'sig1=("@method";bs);keyid="k"', "Signature": "sig1=:AA==:"},
        {"Signature-Input": 'sig1=(@method);keyid="k"', "Signature": "sig1=:AA==:"},
        {"Signature-Input": "sig1=();keyid=k", "Signature": "sig1=:AA==:"},
        {"Signature-Input": 'sig1=();keyid="k";created=?1', "Signature": "sig1=:AA==:"},
        {"Signature-Input": 'sig1=();keyid="k";created=1.5', "Signature": "sig1=:AA==:"},
        {
            "Signature-Input": 'sig1=();keyid="k";created=9999999999999999',
            "Signature": "sig1=:AA==:",
        },
        {"Signature-Input": 'sig1=();keyid="k"', "Signature": 'sig1="AA=="'},
        {"Signature-Input": 'sig1=();keyid="k"', "Signature": "sig1=::"},
    ],
)
def test_malformed_inputs_are_unparsable(headers: object, ed_key: SigningKey) -> None:
    with pytest.raises(SignatureError) as info:
        parse_signature("POST", URL, headers)
    assert info.value.reason == "unparsable_header"
    assert not any(note.startswith("unexpected") for note in getattr(info.value, "__notes__", []))


def test_sfv_parser_only_raises_sferror() -> None:
    rng = random.Random("sfv")
    seeds = ['sig1=("@method" "@path");created=1;keyid="k"', "a=:AAA=:, b=?0, c=(1 2);x", "k"]
    for _ in range(5000):
        text = _mutate(rng, rng.choice(seeds)) if rng.random() < 0.7 else _random_structured(rng)
        try:
            parse_dictionary(text)
        except SFError:
            pass
