"""Signature primitives and the mapping from declared algorithm to primitive.

Primitives are named as in the RFC 9421 registry.  The *declared* name
(cavage ``rsa-sha256``/``hs2019``/absent, RFC 9421 ``alg``/absent) and the
*key type* together pick the primitive(s) to try:

- a declared name the key cannot satisfy (``rsa-sha256`` with an Ed25519
  key, ``ed25519`` with an RSA key, a P-384 key for ``ecdsa-p256-sha256``)
  is ``bad_signature``: the key we resolved is not the one that signed, and
  callers refresh a cached key once on ``bad_signature``;
- a name we do not implement is ``unsupported_algorithm`` (raised while
  parsing, before any key lookup), as is ``hmac-sha256`` here: HMAC is
  only ever checked with a shared secret, never with a public key.

``hs2019`` and an absent cavage algorithm follow fediverse practice: RSA
means PKCS#1 v1.5 with SHA-256.  An absent RFC 9421 ``alg`` with an RSA key
tries PKCS#1 v1.5/SHA-256 first, then PSS/SHA-512 (the Appendix B keys).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from agora_node.errors import SignatureError
from agora_node.protocol.keys import PrivateKey, PublicKey

RSA_V15_SHA256 = "rsa-v1_5-sha256"
RSA_V15_SHA512 = "rsa-v1_5-sha512"
RSA_PSS_SHA512 = "rsa-pss-sha512"
ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
ECDSA_P384_SHA384 = "ecdsa-p384-sha384"
ED25519 = "ed25519"
HMAC_SHA256 = "hmac-sha256"

#: cavage ``algorithm=`` values we accept, with the primitive they force
#: (``None``: the key type decides).
CAVAGE_ALGORITHMS: dict[str, str | None] = {
    "hs2019": None,
    "rsa-sha256": RSA_V15_SHA256,
    "rsa-sha512": RSA_V15_SHA512,
    "ecdsa-sha256": ECDSA_P256_SHA256,
    "ed25519": ED25519,
    "hmac-sha256": HMAC_SHA256,
}
#: RFC 9421 ``alg`` values we accept.
RFC9421_ALGORITHMS = frozenset(
    {RSA_V15_SHA256, RSA_PSS_SHA512, ECDSA_P256_SHA256, ECDSA_P384_SHA384, ED25519, HMAC_SHA256}
)

_PKCS1V15 = padding.PKCS1v15()
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_SHA256 = hashes.SHA256()
_SHA384 = hashes.SHA384()
_SHA512 = hashes.SHA512()
_EC_PRIMITIVES: dict[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int]] = {
    ECDSA_P256_SHA256: (ec.SECP256R1, _SHA256, 32),
    ECDSA_P384_SHA384: (ec.SECP384R1, _SHA384, 48),
}


def _ec_primitive(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str | None:
    for name, (curve, _hash, _size) in _EC_PRIMITIVES.items():
        if isinstance(key.curve, curve):
            return name
    return None


# Key family by concrete key class: isinstance() against cryptography's ABCs
# costs more than a dict hit, and this runs for every inbound request.
_FAMILY_BY_TYPE: dict[type, str] = {}
_RSA_PADDING: dict[str, tuple[padding.AsymmetricPadding, hashes.HashAlgorithm]] = {
    RSA_V15_SHA256: (_PKCS1V15, _SHA256),
    RSA_V15_SHA512: (_PKCS1V15, _SHA512),
    RSA_PSS_SHA512: (_PSS_SHA512, _SHA512),
}


def _family(key: object) -> str:
    """ "rsa", "ed25519", "ec" or "" (unsupported), for public or private keys."""
    family = _FAMILY_BY_TYPE.get(type(key))
    if family is None:
        if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
            family = "rsa"
        elif isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
            family = "ed25519"
        elif isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
            family = "ec"
        else:
            family = ""
        _FAMILY_BY_TYPE[type(key)] = family
    return family


def primitives_for(scheme_is_cavage: bool, declared: str | None, key: PublicKey) -> tuple[str, ...]:
    """The primitives to try, in order; raise if the key cannot match."""
    if scheme_is_cavage:
        forced = CAVAGE_ALGORITHMS.get((declared or "hs2019").lower(), "?")
        if forced == "?":
            raise SignatureError("unsupported_algorithm")
    else:
        if declared is not None and declared not in RFC9421_ALGORITHMS:
            raise SignatureError("unsupported_algorithm")
        forced = declared
    if forced == HMAC_SHA256:
        raise SignatureError("unsupported_algorithm", "hmac needs verify_hmac_signature")
    family = _family(key)
    if family == "rsa":
        if forced is None:
            return (RSA_V15_SHA256,) if scheme_is_cavage else (RSA_V15_SHA256, RSA_PSS_SHA512)
        if forced in _RSA_PADDING:
            return (forced,)
    elif family == "ed25519":
        if forced in (None, ED25519):
            return (ED25519,)
    elif family == "ec":
        actual = _ec_primitive(cast(ec.EllipticCurvePublicKey, key))
        if actual is not None and forced in (None, actual):
            return (actual,)
    else:
        raise SignatureError("unsupported_algorithm")
    raise SignatureError("bad_signature", "signature algorithm does not match the key")


def verify_primitive(primitive: str, key: PublicKey, signature: bytes, data: bytes) -> bool:
    """True if ``signature`` is valid; never raises for a bad signature."""
    family = _family(key)
    try:
        if family == "rsa" and primitive in _RSA_PADDING:
            pad, digest = _RSA_PADDING[primitive]
            cast(rsa.RSAPublicKey, key).verify(signature, data, pad, digest)
        elif family == "ed25519" and primitive == ED25519:
            cast(ed25519.Ed25519PublicKey, key).verify(signature, data)
        elif family == "ec" and primitive in _EC_PRIMITIVES:
            _curve, digest, size = _EC_PRIMITIVES[primitive]
            if len(signature) == 2 * size:
                # RFC 9421 §3.3.4: raw r||s; cryptography wants DER.
                r = int.from_bytes(signature[:size], "big")
                s = int.from_bytes(signature[size:], "big")
                signature = encode_dss_signature(r, s)
            cast(ec.EllipticCurvePublicKey, key).verify(signature, data, ec.ECDSA(digest))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_hmac(secret: bytes, signature: bytes, data: bytes) -> bool:
    expected = hmac.new(secret, data, hashlib.sha256).digest()
    return hmac.compare_digest(expected, signature)


def signing_primitive(key: PrivateKey, *, rfc9421: bool) -> tuple[str, str]:
    """(primitive, declared name) used when *we* sign with ``key``."""
    family = _family(key)
    if family == "rsa":
        return RSA_V15_SHA256, RSA_V15_SHA256 if rfc9421 else "rsa-sha256"
    if family == "ed25519":
        return ED25519, ED25519 if rfc9421 else "hs2019"
    primitive = _ec_primitive(cast(ec.EllipticCurvePrivateKey, key)) if family == "ec" else None
    if primitive is None:
        raise ValueError("unsupported signing key")
    return primitive, primitive if rfc9421 else "hs2019"


def sign_primitive(primitive: str, key: PrivateKey, data: bytes, *, raw_ecdsa: bool) -> bytes:
    """Sign ``data``; ECDSA is raw r||s for RFC 9421 and DER for cavage."""
    family = _family(key)
    if family == "rsa" and primitive in _RSA_PADDING:
        pad, digest = _RSA_PADDING[primitive]
        return cast(rsa.RSAPrivateKey, key).sign(data, pad, digest)
    if family == "ed25519" and primitive == ED25519:
        return cast(ed25519.Ed25519PrivateKey, key).sign(data)
    if family == "ec" and primitive in _EC_PRIMITIVES:
        _curve, digest, size = _EC_PRIMITIVES[primitive]
        der = cast(ec.EllipticCurvePrivateKey, key).sign(data, ec.ECDSA(digest))
        if not raw_ecdsa:
            return der
        r, s = decode_dss_signature(der)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(f"key cannot sign with {primitive}")
