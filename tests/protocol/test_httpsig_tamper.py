"""Each covered component, altered after signing, makes the request fail."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig import (
    SigningKey,
    VerifiedSignature,
    check_policy,
    compute_content_digest,
    compute_digest_header,
    parse_signature,
    sign_request,
    verify_signature,
)

NOW = 1_700_000_000.0
URL = "https://remote.example/users/bob/inbox?page=1"
BODY = b'{"type": "Create", "id": "https://local.example/activities/1"}'
SCHEMES = ["cavage", "rfc9421"]

Request = tuple[str, str, dict[str, str], bytes]


def accept(
    key: SigningKey, method: str, url: str, headers: dict[str, str], body: bytes
) -> VerifiedSignature:
    """The inbox's full check: parse, verify, then policy."""
    parsed = parse_signature(method, url, headers)
    verified = verify_signature(parsed, key.private_key.public_key())
    check_policy(parsed, method, headers, body, now=NOW)
    return verified


def signed_post(key: SigningKey, scheme: str) -> Request:
    headers = sign_request(
        "POST",
        URL,
        {"Content-Type": "application/activity+json"},
        BODY,
        key,
        scheme=scheme,
        now=NOW,
    )
    return "POST", URL, headers, BODY


def _reason(key: SigningKey, request: Request) -> str:
    with pytest.raises(SignatureError) as info:
        accept(key, *request)
    return info.value.reason


@pytest.mark.parametrize("scheme", SCHEMES)
def test_untampered_request_is_accepted(scheme: str, rsa_key: SigningKey) -> None:
    verified = accept(rsa_key, *signed_post(rsa_key, scheme))
    assert (verified.key_id, verified.scheme) == (rsa_key.key_id, scheme)


def _set_header(headers: dict[str, str], name: str, value: str) -> dict[str, str]:
    return {**headers, name: value}


def _flip_signature(headers: dict[str, str]) -> dict[str, str]:
    value = headers["Signature"]
    if value.startswith("sig1=:"):
        raw = base64.b64decode(value[6:-1])
        return {
            **headers,
            "Signature": "sig1=:" + base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode() + ":",
        }
    start = value.index('signature="') + len('signature="')
    raw = base64.b64decode(value[start:-1])
    flipped = base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()
    return {**headers, "Signature": value[:start] + flipped + '"'}


Tamper = Callable[[Request], Request]

# (name, tamper, expected reason) per scheme; every covered component appears.
COMMON: list[tuple[str, Tamper, str]] = [
    ("method", lambda r: ("PUT", r[1], r[2], r[3]), "bad_signature"),
    ("path", lambda r: (r[0], r[1].replace("/bob/", "/eve/"), r[2], r[3]), "bad_signature"),
    ("query", lambda r: (r[0], r[1].replace("page=1", "page=2"), r[2], r[3]), "bad_signature"),
    ("query_removed", lambda r: (r[0], r[1].split("?")[0], r[2], r[3]), "bad_signature"),
    (
        "content_type",
        lambda r: (r[0], r[1], _set_header(r[2], "Content-Type", "text/html"), r[3]),
        "bad_signature",
    ),
    ("signature", lambda r: (r[0], r[1], _flip_signature(r[2]), r[3]), "bad_signature"),
    ("body_only", lambda r: (r[0], r[1], r[2], r[3] + b" "), "digest_mismatch"),
]
CAVAGE_ONLY: list[tuple[str, Tamper, str]] = [
    (
        "host",
        lambda r: (r[0], r[1], _set_header(r[2], "Host", "evil.example"), r[3]),
        "bad_signature",
    ),
    (
        "date",
        lambda r: (r[0], r[1], _set_header(r[2], "Date", "Tue, 14 Nov 2023 22:13:21 GMT"), r[3]),
        "bad_signature",
    ),
    (
        "body_and_digest",
        lambda r: (r[0], r[1], _set_header(r[2], "Digest", compute_digest_header(b"{}")), b"{}"),
        "bad_signature",
    ),
    (
        "algorithm",
        lambda r: (
            r[0],
            r[1],
            _set_header(r[2], "Signature", r[2]["Signature"].replace("rsa-sha256", "rsa-sha512")),
            r[3],
        ),
        "bad_signature",
    ),
]
RFC9421_ONLY: list[tuple[str, Tamper, str]] = [
    (
        "authority",
        lambda r: (r[0], r[1].replace("remote.example", "evil.example"), r[2], r[3]),
        "bad_signature",
    ),
    ("scheme", lambda r: (r[0], r[1].replace("https:", "http:"), r[2], r[3]), "bad_signature"),
    (
        "created",
        lambda r: (
            r[0],
            r[1],
            _set_header(
                r[2],
                "Signature-Input",
                r[2]["Signature-Input"].replace("created=1700000000", "created=1700000001"),
            ),
            r[3],
        ),
        "bad_signature",
    ),
    (
        "keyid",
        lambda r: (
            r[0],
            r[1],
            _set_header(
                r[2], "Signature-Input", r[2]["Signature-Input"].replace("#main-key", "#other-key")
            ),
            r[3],
        ),
        "bad_signature",
    ),
    (
        "body_and_digest",
        lambda r: (
            r[0],
            r[1],
            _set_header(r[2], "Content-Digest", compute_content_digest(b"{}")),
            b"{}",
        ),
        "bad_signature",
    ),
]


@pytest.mark.parametrize(("name", "tamper", "reason"), COMMON, ids=[c[0] for c in COMMON])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_tampering_a_covered_component_fails(
    scheme: str, name: str, tamper: Tamper, reason: str, rsa_key: SigningKey
) -> None:
    assert _reason(rsa_key, tamper(signed_post(rsa_key, scheme))) == reason


@pytest.mark.parametrize(("name", "tamper", "reason"), CAVAGE_ONLY, ids=[c[0] for c in CAVAGE_ONLY])
def test_tampering_cavage_components_fails(
    name: str, tamper: Tamper, reason: str, rsa_key: SigningKey
) -> None:
    assert _reason(rsa_key, tamper(signed_post(rsa_key, "cavage"))) == reason


@pytest.mark.parametrize(
    ("name", "tamper", "reason"), RFC9421_ONLY, ids=[c[0] for c in RFC9421_ONLY]
)
def test_tampering_rfc9421_components_fails(
    name: str, tamper: Tamper, reason: str, rsa_key: SigningKey
) -> None:
    assert _reason(rsa_key, tamper(signed_post(rsa_key, "rfc9421"))) == reason


@pytest.mark.parametrize("scheme", SCHEMES)
def test_another_actors_key_does_not_verify(
    scheme: str, rsa_key: SigningKey, ed_key: SigningKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    method, url, headers, _body = signed_post(rsa_key, scheme)
    parsed = parse_signature(method, url, headers)
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, other)
    assert info.value.reason == "bad_signature"
    # A key of another type is refused too (documented: bad_signature).
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, ed_key.private_key.public_key())
    assert info.value.reason == "bad_signature"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_removing_a_covered_header_is_header_not_covered(scheme: str, rsa_key: SigningKey) -> None:
    method, url, headers, _body = signed_post(rsa_key, scheme)
    del headers["Content-Type"]
    with pytest.raises(SignatureError) as info:
        parse_signature(method, url, headers)
    assert info.value.reason == "header_not_covered"
