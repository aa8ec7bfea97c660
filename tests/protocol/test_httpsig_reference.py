"""Round trips against the independent ``httpsig`` package (rsa-sha256 only)."""

from __future__ import annotations

from email.utils import formatdate

import httpsig
import pytest

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig import (
    SigningKey,
    check_policy,
    compute_digest_header,
    parse_signature,
    sign_request,
    verify_signature,
)
from agora_node.protocol.keys import load_public_key, private_key_to_pem

NOW = 1_700_000_000.0
URL = "https://remote.example/users/bob/inbox?page=1"
PATH = "/users/bob/inbox?page=1"
BODY = b'{"type": "Create", "id": "https://local.example/activities/1"}'


def _their_verifier(
    headers: dict[str, str], public_pem: str, method: str, required: list[str]
) -> bool:
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=public_pem,
        required_headers=required,
        method=method,
        path=PATH,
        sign_header="signature",
    )
    return bool(verifier.verify())


def test_our_post_signature_verifies_with_httpsig(rsa_key: SigningKey, rsa_public_pem: str) -> None:
    headers = sign_request(
        "POST", URL, {"Content-Type": "application/activity+json"}, BODY, rsa_key, now=NOW
    )

    assert 'algorithm="rsa-sha256"' in headers["Signature"]
    assert 'headers="(request-target) host date digest content-type"' in headers["Signature"]
    required = ["(request-target)", "host", "date", "digest", "content-type"]
    assert _their_verifier(headers, rsa_public_pem, "POST", required)
    # Control: httpsig does notice a change, so the assertion above means something.
    tampered = {**headers, "Content-Type": "text/plain"}
    assert not _their_verifier(tampered, rsa_public_pem, "POST", required)


def test_our_get_signature_verifies_with_httpsig(rsa_key: SigningKey, rsa_public_pem: str) -> None:
    headers = sign_request(
        "GET", URL, {"Accept": "application/activity+json"}, None, rsa_key, now=NOW
    )

    assert "Digest" not in headers
    required = ["(request-target)", "host", "date", "accept"]
    assert _their_verifier(headers, rsa_public_pem, "GET", required)
    assert not _their_verifier(headers, rsa_public_pem, "POST", required)


@pytest.mark.parametrize("sign_header", ["signature", "authorization"])
def test_httpsig_signature_verifies_with_ours(
    sign_header: str, rsa_key: SigningKey, rsa_public_pem: str
) -> None:
    covered = ["(request-target)", "host", "date", "digest"]
    signer = httpsig.HeaderSigner(
        key_id=rsa_key.key_id,
        secret=private_key_to_pem(rsa_key.private_key),
        algorithm="rsa-sha256",
        headers=covered,
        sign_header=sign_header,
    )
    request_headers = {
        "Host": "remote.example",
        "Date": formatdate(NOW, usegmt=True),
        "Digest": compute_digest_header(BODY),
    }
    signed = dict(signer.sign(request_headers, method="POST", path=PATH))

    parsed = parse_signature("POST", URL, signed)
    verified = verify_signature(parsed, load_public_key(rsa_public_pem))
    check_policy(parsed, "POST", signed, BODY, now=NOW)

    assert parsed.covered == tuple(covered)
    assert (verified.key_id, verified.scheme, verified.algorithm) == (
        rsa_key.key_id,
        "cavage",
        "rsa-v1_5-sha256",
    )
    # Control: the same httpsig signature fails once the target changes.
    moved = parse_signature("POST", URL.replace("page=1", "page=2"), signed)
    with pytest.raises(SignatureError) as info:
        verify_signature(moved, load_public_key(rsa_public_pem))
    assert info.value.reason == "bad_signature"
