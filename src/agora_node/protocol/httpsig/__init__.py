"""HTTP signatures: draft-cavage-12 (fediverse flavour) and RFC 9421.

Pure functions, no network and no database.  Inbound::

    parsed = parse_signature(method, url, headers)   # which key, which bytes
    key = <resolve parsed.key_id>                     # federation layer
    verify_signature(parsed, key)                     # the crypto
    check_policy(parsed, method, headers, body)       # coverage, time, digest

Outbound: ``sign_request(method, url, headers, body, signing_key)``.
"""

from agora_node.protocol.httpsig.digest import compute_content_digest, compute_digest_header
from agora_node.protocol.httpsig.message import HeaderSource, normalise_headers
from agora_node.protocol.httpsig.model import (
    SCHEME_CAVAGE,
    SCHEME_RFC9421,
    ParsedSignature,
    SignaturePolicy,
    SigningKey,
    VerifiedSignature,
)
from agora_node.protocol.httpsig.policy import check_policy, parse_http_date
from agora_node.protocol.httpsig.signing import sign_request
from agora_node.protocol.httpsig.verification import (
    parse_signature,
    verify_hmac_signature,
    verify_signature,
)

__all__ = [
    "SCHEME_CAVAGE",
    "SCHEME_RFC9421",
    "HeaderSource",
    "ParsedSignature",
    "SignaturePolicy",
    "SigningKey",
    "VerifiedSignature",
    "check_policy",
    "compute_content_digest",
    "compute_digest_header",
    "normalise_headers",
    "parse_http_date",
    "parse_signature",
    "sign_request",
    "verify_hmac_signature",
    "verify_signature",
]
