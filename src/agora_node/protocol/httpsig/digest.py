"""Body digests: RFC 3230 ``Digest`` (cavage) and RFC 9530 ``Content-Digest``.

A signature covers the digest *header*; only comparing that header with
the raw body ties the signature to the body.  Algorithms we do not know
are skipped (a sender may add ``sha-384``), but at least one known digest
must be present for a body to count as protected, and every known one must
match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig.message import Headers
from agora_node.protocol.httpsig.sfv import Item, SFError, parse_dictionary

_HASHES = frozenset({"sha-256", "sha-512"})


def compute_digest_header(body: bytes) -> str:
    """``Digest`` value for the body, as Mastodon sends it."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def compute_content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value for the body."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def _mismatch(detail: str) -> SignatureError:
    error = SignatureError("digest_mismatch")
    error.add_note(detail)
    return error


def _check(algorithm: str, expected: bytes, body: bytes) -> None:
    hasher = hashlib.sha256 if algorithm == "sha-256" else hashlib.sha512
    actual = hasher(body).digest()
    if not hmac.compare_digest(actual, expected):
        raise _mismatch(f"{algorithm} does not match the body")


def _check_digest_field(value: str, body: bytes) -> bool:
    """RFC 3230 ``alg=base64`` list; algorithm names are case-insensitive."""
    checked = False
    for member in value.split(","):
        name, sep, encoded = member.strip().partition("=")
        algorithm = name.strip().lower()
        if not sep or algorithm not in _HASHES:
            continue
        try:
            expected = binascii.a2b_base64(encoded.strip(), strict_mode=True)
        except (binascii.Error, ValueError) as exc:
            raise _mismatch("Digest is not base64") from exc
        _check(algorithm, expected, body)
        checked = True
    return checked


def _check_content_digest_field(value: str, body: bytes) -> bool:
    try:
        members = parse_dictionary(value)
    except SFError as exc:
        raise _mismatch("Content-Digest does not parse") from exc
    checked = False
    for name, member in members.items():
        if name not in _HASHES:
            continue
        expected = member.value if isinstance(member, Item) else None
        if not isinstance(expected, bytes):
            raise _mismatch("Content-Digest member is not a byte sequence")
        _check(name, expected, body)
        checked = True
    return checked


def verify_body_digests(headers: Headers, body: bytes | None) -> bool:
    """Check every known digest in ``Digest`` and ``Content-Digest``.

    Returns whether at least one was checked; raises ``digest_mismatch`` on
    the first that does not match.  A missing body counts as empty, so a
    caller that forgets to pass the body fails instead of skipping.
    """
    data = body if body is not None else b""
    checked = False
    for name, check in (
        ("digest", _check_digest_field),
        ("content-digest", _check_content_digest_field),
    ):
        values = headers.get(name)
        if values is None:
            continue
        value = ", ".join(values)
        if len(value) > 4096 or not value.isascii():
            raise _mismatch(f"{name} header is oversized or not ASCII")
        checked = check(value, data) or checked
    return checked
