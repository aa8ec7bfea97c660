"""Reading and verifying incoming signatures.

Split in two so the caller can look the key up in between:
``parse_signature`` (pure parsing: which key, which bytes) →
key resolution (federation layer) → ``verify_signature`` and
``check_policy``.  Every failure is a ``SignatureError`` with a stable
``reason``; any malformed input is ``unparsable_header``, never an
unexpected exception type.
"""

from __future__ import annotations

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig.algorithms import (
    HMAC_SHA256,
    primitives_for,
    verify_hmac,
    verify_primitive,
)
from agora_node.protocol.httpsig.cavage import parse_cavage
from agora_node.protocol.httpsig.message import (
    HeaderSource,
    normalise_headers,
    signature_field,
    target_of,
    unparsable,
)
from agora_node.protocol.httpsig.model import (
    SCHEME_CAVAGE,
    ParsedSignature,
    VerifiedSignature,
)
from agora_node.protocol.httpsig.rfc9421 import parse_rfc9421
from agora_node.protocol.keys import PublicKey

_AUTH_SCHEME = "signature "


def parse_signature(
    method: str, url: str, headers: HeaderSource, *, label: str | None = None
) -> ParsedSignature:
    """Find the request's signature and rebuild the bytes it claims to sign.

    ``url`` is the full URL the request was made to; ``headers`` any
    Mapping or CIMultiDict.  RFC 9421 wins if ``Signature-Input`` is
    present (``label`` picks one of several signatures, default: the first);
    otherwise cavage from ``Signature`` or ``Authorization: Signature …``.
    """
    try:
        hdrs = normalise_headers(headers)
        target = target_of(url)
        if "signature-input" in hdrs:
            return parse_rfc9421(method, target, hdrs, label=label)
        raw = signature_field(hdrs, "signature")
        if raw is None:
            authorization = signature_field(hdrs, "authorization")
            if authorization is None or authorization[:10].lower() != _AUTH_SCHEME:
                raise SignatureError("missing_signature")
            raw = authorization[10:]
        return parse_cavage(method, target, hdrs, raw)
    except SignatureError:
        raise
    except Exception as exc:
        # Parsers above are written to raise SignatureError only; this is the
        # backstop that keeps a parser bug from turning into a 500.
        raise unparsable(f"unexpected {type(exc).__name__}") from exc


def verify_signature(parsed: ParsedSignature, public_key: PublicKey) -> VerifiedSignature:
    """Check ``parsed.signature`` over ``parsed.signing_base`` with ``public_key``.

    ``bad_signature`` if it does not verify, including when the declared
    algorithm cannot be produced by this key type (e.g. ``rsa-sha256`` with
    an Ed25519 key): the resolved key is then not the signer's, and callers
    refresh the key once on ``bad_signature``.  ``unsupported_algorithm``
    for algorithms we do not implement, and for HMAC, which needs
    ``verify_hmac_signature`` and a shared secret.
    """
    primitives = primitives_for(parsed.scheme == SCHEME_CAVAGE, parsed.algorithm, public_key)
    for primitive in primitives:
        if verify_primitive(primitive, public_key, parsed.signature, parsed.signing_base):
            return VerifiedSignature(
                key_id=parsed.key_id, scheme=parsed.scheme, algorithm=primitive
            )
    raise SignatureError("bad_signature")


def verify_hmac_signature(parsed: ParsedSignature, secret: bytes) -> VerifiedSignature:
    """Verify an ``hmac-sha256`` signature; the algorithm must be declared.

    Kept apart from ``verify_signature`` so a public key can never be used
    as an HMAC secret (algorithm confusion).
    """
    if (parsed.algorithm or "").lower() != HMAC_SHA256:
        raise SignatureError("unsupported_algorithm")
    if not verify_hmac(secret, parsed.signature, parsed.signing_base):
        raise SignatureError("bad_signature")
    return VerifiedSignature(key_id=parsed.key_id, scheme=parsed.scheme, algorithm=HMAC_SHA256)
