"""Algorithms, digests, multiple values and signing output."""

from __future__ import annotations

import base64
import hashlib
from email.utils import formatdate

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from multidict import CIMultiDict

from agora_node.errors import SignatureError
from agora_node.protocol import keys
from agora_node.protocol.httpsig import (
    SigningKey,
    check_policy,
    compute_content_digest,
    compute_digest_header,
    parse_signature,
    sign_request,
    verify_signature,
)
from agora_node.protocol.httpsig import model as httpsig_model
from agora_node.protocol.httpsig.cavage import sign_cavage, signing_string
from agora_node.protocol.httpsig.message import Target, normalise_headers

NOW = 1_700_000_000.0
NOW_DATE = formatdate(NOW, usegmt=True)
URL = "https://remote.example/users/bob/inbox"
BODY = b'{"hello": "world"}'
# Appendix C of draft-cavage-12 publishes this body's SHA-256.
BODY_SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="


def full_check(method: str, headers: object, body: bytes | None, public: keys.PublicKey) -> str:
    parsed = parse_signature(method, URL, headers)
    verified = verify_signature(parsed, public)
    check_policy(parsed, method, headers, body, now=NOW)
    return verified.algorithm


# --- digests ------------------------------------------------------------------------


def test_compute_digests() -> None:
    assert compute_digest_header(BODY) == "SHA-256=" + BODY_SHA256
    assert compute_content_digest(BODY) == "sha-256=:" + BODY_SHA256 + ":"


def _signed_with_digest(key: SigningKey, name: str, value: str) -> dict[str, str]:
    headers = {"Host": "remote.example", "Date": NOW_DATE, name: value}
    covered = ("(request-target)", "host", "date", name.lower())
    signature = sign_cavage("POST", Target(URL), normalise_headers(headers), key, covered)
    return {**headers, "Signature": signature}


SHA512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Digest", "SHA-256=" + BODY_SHA256),
        ("Digest", "sha-256=" + BODY_SHA256),
        ("Digest", "Sha-256=" + BODY_SHA256),
        ("Digest", "SHA-512=" + SHA512),
        ("Digest", f"MD5=AAAA, SHA-256={BODY_SHA256}"),
        ("Content-Digest", f"sha-256=:{BODY_SHA256}:"),
        ("Content-Digest", f"sha-512=:{SHA512}:"),
        ("Content-Digest", f"sha-256=:{BODY_SHA256}:, sha-512=:{SHA512}:"),
    ],
)
def test_digest_forms_accepted(name: str, value: str, ed_key: SigningKey) -> None:
    headers = _signed_with_digest(ed_key, name, value)
    assert full_check("POST", headers, BODY, ed_key.private_key.public_key()) == "ed25519"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Digest", "SHA-256=" + BODY_SHA256.replace("X", "Y")),
        ("Digest", "sha-256=" + SHA512),
        ("Digest", "SHA-256=not base64!"),
        ("Digest", f"SHA-256={BODY_SHA256},SHA-512={BODY_SHA256}"),
        ("Content-Digest", f"sha-256=:{SHA512}:"),
        ("Content-Digest", f"sha-256={BODY_SHA256}"),
        ("Content-Digest", "sha-256=:@@:"),
    ],
)
def test_digest_mismatches(name: str, value: str, ed_key: SigningKey) -> None:
    headers = _signed_with_digest(ed_key, name, value)
    with pytest.raises(SignatureError) as info:
        full_check("POST", headers, BODY, ed_key.private_key.public_key())
    assert info.value.reason == "digest_mismatch"


# --- algorithms ---------------------------------------------------------------------


def test_ed25519_hs2019_round_trip(ed_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, ed_key, now=NOW)
    assert 'algorithm="hs2019"' in headers["Signature"]
    assert full_check("POST", headers, BODY, ed_key.private_key.public_key()) == "ed25519"


def test_ed25519_without_algorithm_parameter(ed_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, ed_key, now=NOW)
    headers["Signature"] = headers["Signature"].replace('algorithm="hs2019",', "")
    parsed = parse_signature("POST", URL, headers)
    assert parsed.algorithm is None
    assert verify_signature(parsed, ed_key.private_key.public_key()).algorithm == "ed25519"


def test_rsa_hs2019_means_pkcs1v15_sha256(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, rsa_key, now=NOW)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hs2019")
    assert full_check("POST", headers, BODY, rsa_key.private_key.public_key()) == "rsa-v1_5-sha256"


def _manual_rsa_signature(
    key: SigningKey, algorithm: str, digest: hashes.HashAlgorithm
) -> dict[str, str]:
    headers = {"Host": "remote.example", "Date": NOW_DATE, "Digest": compute_digest_header(BODY)}
    covered = ("(request-target)", "host", "date", "digest")
    base = signing_string("POST", Target(URL), normalise_headers(headers), covered)
    assert isinstance(key.private_key, rsa.RSAPrivateKey)
    raw = key.private_key.sign(base, padding.PKCS1v15(), digest)
    headers["Signature"] = (
        f'keyId="{key.key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode()}"'
    )
    return headers


def test_rsa_sha512_verifies(rsa_key: SigningKey) -> None:
    headers = _manual_rsa_signature(rsa_key, "rsa-sha512", hashes.SHA512())
    assert full_check("POST", headers, BODY, rsa_key.private_key.public_key()) == "rsa-v1_5-sha512"


def test_sha512_signature_declared_as_sha256_fails(rsa_key: SigningKey) -> None:
    headers = _manual_rsa_signature(rsa_key, "rsa-sha256", hashes.SHA512())
    with pytest.raises(SignatureError) as info:
        full_check("POST", headers, BODY, rsa_key.private_key.public_key())
    assert info.value.reason == "bad_signature"


def test_declared_algorithm_must_fit_the_key(rsa_key: SigningKey, ed_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, ed_key, now=NOW)
    headers["Signature"] = headers["Signature"].replace("hs2019", "rsa-sha256")
    parsed = parse_signature("POST", URL, headers)
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, ed_key.private_key.public_key())
    assert info.value.reason == "bad_signature"


def test_hmac_is_never_checked_with_a_public_key(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, rsa_key, now=NOW)
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", "hmac-sha256")
    parsed = parse_signature("POST", URL, headers)
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, rsa_key.private_key.public_key())
    assert info.value.reason == "unsupported_algorithm"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_ecdsa_p256_round_trip(scheme: str, ec_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, ec_key, scheme=scheme, now=NOW)
    assert full_check("POST", headers, BODY, ec_key.private_key.public_key()) == "ecdsa-p256-sha256"
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(SignatureError):
        full_check("POST", headers, BODY, other)


@pytest.mark.parametrize("fixture", ["rsa_key", "ed_key"])
def test_rfc9421_sign_round_trip(fixture: str, request: pytest.FixtureRequest) -> None:
    key: SigningKey = request.getfixturevalue(fixture)
    headers = sign_request(
        "POST",
        URL,
        {"Content-Type": "application/activity+json"},
        BODY,
        key,
        scheme="rfc9421",
        now=NOW,
    )

    expected_alg = "rsa-v1_5-sha256" if fixture == "rsa_key" else "ed25519"
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "@authority" "content-digest" "content-type")'
        f';created=1700000000;keyid="{key.key_id}";alg="{expected_alg}"'
    )
    assert headers["Content-Digest"] == compute_content_digest(BODY)
    assert full_check("POST", headers, BODY, key.private_key.public_key()) == expected_alg


def test_rfc9421_get_covers_accept(rsa_key: SigningKey) -> None:
    headers = sign_request(
        "GET",
        URL,
        {"Accept": "application/activity+json"},
        None,
        rsa_key,
        scheme="rfc9421",
        now=NOW,
    )
    assert '("@method" "@target-uri" "@authority" "accept")' in headers["Signature-Input"]
    assert "Content-Digest" not in headers
    assert full_check("GET", headers, None, rsa_key.private_key.public_key()) == "rsa-v1_5-sha256"


# --- signing output -------------------------------------------------------------------


def test_sign_request_adds_headers_and_keeps_callers(rsa_key: SigningKey) -> None:
    given = {"content-type": "application/activity+json", "User-Agent": "Agora", "digest": "stale"}

    headers = sign_request(
        "POST", "https://Remote.Example:443/inbox", given, BODY, rsa_key, now=NOW
    )

    assert given == {
        "content-type": "application/activity+json",
        "User-Agent": "Agora",
        "digest": "stale",
    }
    assert headers["Host"] == "remote.example"
    assert headers["Date"] == NOW_DATE
    assert (
        headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    )
    assert "digest" not in headers  # the caller's stale copy was replaced
    assert headers["User-Agent"] == "Agora"
    assert 'headers="(request-target) host date digest content-type"' in headers["Signature"]


def test_sign_request_keeps_explicit_host_and_port() -> None:
    key = SigningKey("k", ed25519.Ed25519PrivateKey.generate())
    headers = sign_request("GET", "http://remote.example:8080/x", {}, None, key, now=NOW)
    assert headers["Host"] == "remote.example:8080"
    assert 'headers="(request-target) host date"' in headers["Signature"]


def test_no_pem_parsing_when_signing_or_verifying(
    rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = rsa_key.private_key.public_key()

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("PEM parsed on the request path")

    for name in ("load_pem_private_key", "load_pem_public_key", "load_der_public_key"):
        monkeypatch.setattr(serialization, name, forbidden)
    monkeypatch.setattr(keys, "load_public_key", forbidden)
    monkeypatch.setattr(httpsig_model, "load_private_key", forbidden)

    for scheme in ("cavage", "rfc9421"):
        headers = sign_request("POST", URL, {}, BODY, rsa_key, scheme=scheme, now=NOW)
        assert full_check("POST", headers, BODY, public) == "rsa-v1_5-sha256"


def test_signing_key_validation() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    pem = keys.private_key_to_pem(private)
    assert SigningKey.from_pem("https://a.example/u#k", pem).key_id == "https://a.example/u#k"
    for bad in ("", 'a"b', "a\\b", "a\nb", "ключ"):
        with pytest.raises(ValueError):
            SigningKey(bad, private)
    with pytest.raises(ValueError):
        SigningKey("k", ec.generate_private_key(ec.SECP521R1()))
    assert "private_key" not in repr(SigningKey("k", private))


# --- header handling ----------------------------------------------------------------


def test_multiple_header_values_are_joined(ed_key: SigningKey) -> None:
    headers: CIMultiDict[str] = CIMultiDict(
        [("Host", "remote.example"), ("Date", NOW_DATE), ("X-Thing", " one "), ("x-thing", "two")]
    )
    covered = ("(request-target)", "host", "date", "x-thing")
    normalised = normalise_headers(headers)
    assert normalised["x-thing"] == [" one ", "two"]
    headers["Signature"] = sign_cavage("GET", Target(URL), normalised, ed_key, covered)

    parsed = parse_signature("GET", URL, headers)

    assert parsed.signing_base.endswith(b"\nx-thing: one, two")
    assert verify_signature(parsed, ed_key.private_key.public_key()).key_id == ed_key.key_id
    # The same values as a list in a plain mapping give the same base.
    as_lists = {
        "host": ["remote.example"],
        "date": [NOW_DATE],
        "x-thing": [" one ", "two"],
        "signature": [headers["Signature"]],
    }
    assert parse_signature("GET", URL, as_lists).signing_base == parsed.signing_base
    # Order matters: swapped values no longer verify.
    swapped: CIMultiDict[str] = CIMultiDict(headers)
    swapped.popall("X-Thing")
    swapped.extend([("X-Thing", "two"), ("X-Thing", "one")])
    with pytest.raises(SignatureError):
        verify_signature(parse_signature("GET", URL, swapped), ed_key.private_key.public_key())


def test_header_names_are_case_insensitive(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, rsa_key, now=NOW)
    shouted = {name.upper(): value for name, value in headers.items()}
    shouted["SIGNATURE"] = shouted["SIGNATURE"].replace(
        'headers="(request-target) host date digest"', 'headers="(Request-Target) HOST Date DIGEST"'
    )
    assert full_check("POST", shouted, BODY, rsa_key.private_key.public_key()) == "rsa-v1_5-sha256"


def test_authorization_signature_scheme(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, {}, BODY, rsa_key, now=NOW)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert full_check("POST", headers, BODY, rsa_key.private_key.public_key()) == "rsa-v1_5-sha256"


def test_header_value_with_newline_cannot_forge_lines(ed_key: SigningKey) -> None:
    headers = sign_request("GET", URL, {"Accept": "a"}, None, ed_key, now=NOW)
    headers["Accept"] = "a\nhost: evil.example"
    with pytest.raises(SignatureError) as info:
        parse_signature("GET", URL, headers)
    assert info.value.reason == "unparsable_header"
