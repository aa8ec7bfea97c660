"""Published test vectors: draft-cavage-12 Appendix C and RFC 9421 Appendix B / §4.3."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig import (
    SignaturePolicy,
    SigningKey,
    check_policy,
    parse_signature,
    verify_hmac_signature,
    verify_signature,
)
from agora_node.protocol.httpsig.algorithms import RSA_V15_SHA256, sign_primitive
from agora_node.protocol.httpsig.cavage import sign_cavage
from agora_node.protocol.httpsig.message import Target, normalise_headers
from agora_node.protocol.httpsig.rfc9421 import parse_rfc9421, sign_rfc9421
from agora_node.protocol.httpsig.sfv import Item, parse_dictionary
from agora_node.protocol.keys import PublicKey, load_public_key


def _parse_raw_http(raw: str) -> tuple[str, str, CIMultiDict[str], bytes]:
    """(method or status, target, headers, body) of an RFC-style message text."""
    head, _sep, rest = raw.partition("\n\n")
    start, *lines = head.split("\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _colon, value = line.partition(":")
        headers.add(name, value.strip())
    body = rest.encode()[: int(headers.get("Content-Length", "0"))]
    first, second, *_ = start.split(" ")
    return first, second, headers, body


def _public(vectors_dir: Path, name: str) -> PublicKey:
    return load_public_key((vectors_dir / name).read_text())


def _private(vectors_dir: Path, key_id: str, name: str) -> SigningKey:
    return SigningKey.from_pem(key_id, (vectors_dir / name).read_text())


# --- draft-cavage-12 Appendix C ------------------------------------------------


def _cavage_request(
    vectors: dict[str, Any], signature_header: str
) -> tuple[str, str, dict[str, str]]:
    request = vectors["request"]
    headers = dict(request["headers"])
    headers["Signature"] = signature_header
    return request["method"], "http://example.com" + request["path"], headers


@pytest.mark.parametrize("case", ["default", "basic"])
def test_cavage_vector_verifies_and_resigns(
    case: str, cavage_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    vector = cavage_vectors["tests"][case]
    method, url, headers = _cavage_request(cavage_vectors, vector["signature_header"])

    parsed = parse_signature(method, url, headers)

    assert parsed.scheme == "cavage"
    assert parsed.key_id == "Test"
    assert parsed.algorithm == "rsa-sha256"
    assert parsed.covered == tuple(vector["headers"])
    assert parsed.signing_base == vector["signing_string"].encode()
    public = _public(vectors_dir, cavage_vectors["public_key_pem_file"])
    verified = verify_signature(parsed, public)
    assert (verified.key_id, verified.scheme, verified.algorithm) == (
        "Test",
        "cavage",
        RSA_V15_SHA256,
    )

    # Re-signing (PKCS#1 v1.5 is deterministic) reproduces the published bytes.
    key = _private(vectors_dir, "Test", cavage_vectors["private_key_pem_file"])
    resigned = sign_primitive(RSA_V15_SHA256, key.private_key, parsed.signing_base, raw_ecdsa=False)
    assert base64.b64encode(resigned).decode() == vector["signature"]


def test_cavage_basic_vector_header_is_reproduced_exactly(
    cavage_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    vector = cavage_vectors["tests"]["basic"]
    method, url, headers = _cavage_request(cavage_vectors, "")
    key = _private(vectors_dir, "Test", cavage_vectors["private_key_pem_file"])

    header = sign_cavage(method, Target(url), normalise_headers(headers), key, vector["headers"])

    assert header == vector["signature_header"]


def test_cavage_all_headers_vector_verifies_over_printed_string(
    cavage_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    # The draft's C.3 signature is over a string that omits the (created) and
    # (expires) lines its own headers= list names (see the fixtures README).
    vector = cavage_vectors["tests"]["all"]
    method, url, headers = _cavage_request(cavage_vectors, vector["signature_header"])
    public = _public(vectors_dir, cavage_vectors["public_key_pem_file"])

    parsed = parse_signature(method, url, headers)

    assert parsed.covered == tuple(vector["headers"])
    assert (parsed.created, parsed.expires) == (vector["created"], vector["expires"])
    lines = parsed.signing_base.decode().split("\n")
    assert lines[1:3] == ["(created): 1402170695", "(expires): 1402170699"]
    with pytest.raises(SignatureError) as info:
        verify_signature(parsed, public)
    assert info.value.reason == "bad_signature"
    printed = dataclasses.replace(
        parsed, signing_base=vector["signing_string_as_printed_in_spec"].encode()
    )
    assert verify_signature(printed, public).key_id == "Test"


# --- RFC 9421 Appendix B and §4.3 ------------------------------------------------

REQUEST_CASES = ["sig-b21", "sig-b22", "sig-b23", "sig-b26"]


def _rfc_request(
    vectors: dict[str, Any], case: dict[str, Any]
) -> tuple[str, str, CIMultiDict[str]]:
    method, target, headers, _body = _parse_raw_http(vectors["test_request"])
    headers["Signature-Input"] = case["Signature-Input"]
    headers["Signature"] = case["Signature"]
    return method, "https://" + headers["Host"] + target, headers


@pytest.mark.parametrize("name", REQUEST_CASES)
def test_rfc9421_request_vectors_verify(
    name: str, rfc9421_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    case = rfc9421_vectors["cases"][name]
    method, url, headers = _rfc_request(rfc9421_vectors, case)

    parsed = parse_signature(method, url, headers)

    assert parsed.scheme == "rfc9421"
    assert parsed.label == name
    assert parsed.key_id == case["key"]
    assert parsed.signing_base == case["signature_base"].encode()
    public = _public(vectors_dir, rfc9421_vectors["keys"][case["key"]]["public"])
    assert verify_signature(parsed, public).algorithm == case["alg"]
    # One flipped bit in the signature must not verify.
    flipped = bytes([parsed.signature[0] ^ 1]) + parsed.signature[1:]
    with pytest.raises(SignatureError) as info:
        verify_signature(dataclasses.replace(parsed, signature=flipped), public)
    assert info.value.reason == "bad_signature"


def test_rfc9421_b22_query_param_and_tag(rfc9421_vectors: dict[str, Any]) -> None:
    case = rfc9421_vectors["cases"]["sig-b22"]
    method, url, headers = _rfc_request(rfc9421_vectors, case)

    parsed = parse_signature(method, url, headers)

    assert parsed.tag == "header-example"
    assert parsed.covered == ("@authority", "content-digest", "@query-param")


def test_rfc9421_b21_nonce(rfc9421_vectors: dict[str, Any]) -> None:
    case = rfc9421_vectors["cases"]["sig-b21"]
    parsed = parse_signature(*_rfc_request(rfc9421_vectors, case))
    assert parsed.nonce == "b3k2pp5k7z-50gnwp.yemd"
    assert parsed.created == 1618884473
    assert parsed.covered == ()


def test_rfc9421_b23_passes_policy_at_its_own_time(rfc9421_vectors: dict[str, Any]) -> None:
    case = rfc9421_vectors["cases"]["sig-b23"]
    method, url, headers = _rfc_request(rfc9421_vectors, case)
    body = _parse_raw_http(rfc9421_vectors["test_request"])[3]
    parsed = parse_signature(method, url, headers)

    # Content-Digest is sha-512 of the published body; created/Date are fresh at 02:08.
    check_policy(parsed, method, headers, body, now=1618884473 + 60)

    with pytest.raises(SignatureError) as info:
        check_policy(parsed, method, headers, body + b" ", now=1618884473 + 60)
    assert info.value.reason == "digest_mismatch"


def test_rfc9421_b24_response_signature(rfc9421_vectors: dict[str, Any], vectors_dir: Path) -> None:
    case = rfc9421_vectors["cases"]["sig-b24"]
    _version, status, headers, _body = _parse_raw_http(rfc9421_vectors["test_response"])
    headers["Signature-Input"] = case["Signature-Input"]
    headers["Signature"] = case["Signature"]
    # RFC 9421 §B.2.4 signs a response whose Content-Digest differs from the
    # one in the Appendix B.2 test response; take it from the signed base.
    base_lines = dict(line.split(": ", 1) for line in case["signature_base"].split("\n"))
    headers["Content-Digest"] = base_lines['"content-digest"']
    target = Target("https://example.com/foo")

    parsed = parse_rfc9421("POST", target, normalise_headers(headers), status=int(status))

    assert parsed.signing_base == case["signature_base"].encode()
    public = _public(vectors_dir, rfc9421_vectors["keys"][case["key"]]["public"])
    assert len(parsed.signature) == 64  # raw r||s, converted to DER to verify
    assert verify_signature(parsed, public).algorithm == "ecdsa-p256-sha256"
    # @status cannot be resolved on a request.
    with pytest.raises(SignatureError) as info:
        parse_signature("POST", "https://example.com/foo", headers)
    assert info.value.reason == "unparsable_header"


def test_rfc9421_b25_hmac(rfc9421_vectors: dict[str, Any], vectors_dir: Path) -> None:
    case = rfc9421_vectors["cases"]["sig-b25"]
    secret = base64.b64decode((vectors_dir / rfc9421_vectors["shared_secret_b64_file"]).read_text())
    parsed = parse_signature(*_rfc_request(rfc9421_vectors, case))
    assert parsed.signing_base == case["signature_base"].encode()

    # hmac-sha256 is not declared in this vector's params: refuse unless declared.
    with pytest.raises(SignatureError) as info:
        verify_hmac_signature(parsed, secret)
    assert info.value.reason == "unsupported_algorithm"
    declared = dataclasses.replace(parsed, algorithm="hmac-sha256")
    assert verify_hmac_signature(declared, secret).algorithm == "hmac-sha256"
    with pytest.raises(SignatureError) as info:
        verify_hmac_signature(declared, secret[:-1])
    assert info.value.reason == "bad_signature"


def test_rfc9421_b26_ed25519_resigns_exactly(
    rfc9421_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    case = rfc9421_vectors["cases"]["sig-b26"]
    method, url, headers = _rfc_request(rfc9421_vectors, case)
    key = _private(vectors_dir, "test-key-ed25519", rfc9421_vectors["keys"][case["key"]]["private"])
    components = ["date", "@method", "@path", "@authority", "content-type", "content-length"]

    signature_input, signature = sign_rfc9421(
        method,
        Target(url),
        normalise_headers(headers),
        key,
        components,
        {"created": 1618884473, "keyid": "test-key-ed25519"},
        label="sig-b26",
    )

    assert signature_input == case["Signature-Input"]
    assert signature == case["Signature"]


def _proxy_request(vectors: dict[str, Any]) -> tuple[str, str, CIMultiDict[str], bytes, str]:
    case = vectors["cases"]["proxy_sig (sec 4.3)"]
    method, target, headers, body = _parse_raw_http(vectors["test_request"])
    headers["Forwarded"] = "for=192.0.2.123;host=example.com;proto=https"
    params_line = case["signature_base"].rsplit("\n", 1)[1]
    inner = params_line.removeprefix('"@signature-params": ')
    headers["Signature-Input"] = f"proxy_sig={inner}"
    headers["Signature"] = case["Signature"]
    return method, "https://origin.host.internal.example" + target, headers, body, inner


def test_rfc9421_proxy_signature_verifies_and_resigns(
    rfc9421_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    case = rfc9421_vectors["cases"]["proxy_sig (sec 4.3)"]
    method, url, headers, body, inner = _proxy_request(rfc9421_vectors)

    parsed = parse_signature(method, url, headers)

    assert parsed.label == "proxy_sig"
    assert parsed.signing_base == case["signature_base"].encode()
    assert (parsed.algorithm, parsed.created, parsed.expires) == (
        "rsa-v1_5-sha256",
        1618884480,
        1618884540,
    )
    public = _public(vectors_dir, rfc9421_vectors["keys"]["test-key-rsa"]["public"])
    assert verify_signature(parsed, public).algorithm == "rsa-v1_5-sha256"
    # The vector also satisfies our policy inside its own validity window ...
    check_policy(parsed, method, headers, body, now=1618884500)
    # ... and is refused once ``expires`` has passed.
    with pytest.raises(SignatureError) as info:
        check_policy(parsed, method, headers, body, now=1618884541)
    assert info.value.reason == "expired"

    key = _private(vectors_dir, "test-key-rsa", rfc9421_vectors["keys"]["test-key-rsa"]["private"])
    member = parse_dictionary(headers["Signature-Input"])["proxy_sig"]
    components = [str(item.value) for item in member.items] if not isinstance(member, Item) else []
    signature_input, signature = sign_rfc9421(
        method,
        Target(url),
        normalise_headers(headers),
        key,
        components,
        {
            "created": 1618884480,
            "keyid": "test-key-rsa",
            "alg": "rsa-v1_5-sha256",
            "expires": 1618884540,
        },
        label="proxy_sig",
    )
    assert signature_input == f"proxy_sig={inner}"
    assert signature == case["Signature"]


def test_rfc9421_label_selects_among_several_signatures(
    rfc9421_vectors: dict[str, Any], vectors_dir: Path
) -> None:
    b26 = rfc9421_vectors["cases"]["sig-b26"]
    method, url, headers = _rfc_request(rfc9421_vectors, rfc9421_vectors["cases"]["sig-b21"])
    headers["Signature-Input"] += ", " + b26["Signature-Input"]
    headers["Signature"] += ", " + b26["Signature"]

    first = parse_signature(method, url, headers)
    chosen = parse_signature(method, url, headers, label="sig-b26")

    assert first.label == "sig-b21"
    assert chosen.label == "sig-b26"
    public = _public(vectors_dir, rfc9421_vectors["keys"]["test-key-ed25519"]["public"])
    assert verify_signature(chosen, public).algorithm == "ed25519"
    with pytest.raises(SignatureError) as info:
        parse_signature(method, url, headers, label="nope")
    assert info.value.reason == "unparsable_header"


def test_policy_defaults_reject_the_old_vectors(cavage_vectors: dict[str, Any]) -> None:
    # A 2014 Date is stale by any clock we run on.
    vector = cavage_vectors["tests"]["basic"]
    method, url, headers = _cavage_request(cavage_vectors, vector["signature_header"])
    parsed = parse_signature(method, url, headers)
    with pytest.raises(SignatureError) as info:
        check_policy(parsed, "GET", headers, None, policy=SignaturePolicy())
    assert info.value.reason == "stale_date"
