"""Values that cross layers: the signing key, a parsed and a verified signature.

All frozen: a ``ParsedSignature`` is handed from the inbox view to key
resolution to verification, and nothing on the way may alter what was
signed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from agora_node.protocol.keys import PrivateKey, load_private_key

SCHEME_CAVAGE = "cavage"
SCHEME_RFC9421 = "rfc9421"


def _is_safe_key_id(key_id: str) -> bool:
    # The key id is written into a quoted cavage parameter and an sf-string,
    # neither of which can carry '"', '\' or control characters.
    return (
        bool(key_id)
        and key_id.isascii()
        and key_id.isprintable()
        and '"' not in key_id
        and "\\" not in key_id
    )


@dataclass(frozen=True)
class SigningKey:
    """A private key parsed once (account load), used for every request after."""

    key_id: str
    private_key: PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not _is_safe_key_id(self.key_id):
            raise ValueError("key_id must be printable ASCII without quotes or backslashes")
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
                raise ValueError("only P-256 and P-384 EC keys can sign")
        elif not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise ValueError("unsupported private key type")

    @classmethod
    def from_pem(cls, key_id: str, pem: str) -> SigningKey:
        return cls(key_id=key_id, private_key=load_private_key(pem))


@dataclass(frozen=True)
class ParsedSignature:
    """What a request claims: who signed, with what, over which bytes.

    ``signing_base`` is rebuilt from the request as received, so verifying
    it proves the covered components were not altered.  For cavage,
    ``created``/``expires`` are only *authenticated* if ``(created)`` /
    ``(expires)`` are in ``covered``; RFC 9421 always signs them.
    """

    scheme: str
    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    signature: bytes = field(repr=False)
    signing_base: bytes = field(repr=False)
    created: int | None
    expires: int | None
    label: str | None = None
    nonce: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class SignaturePolicy:
    """How strict ``check_policy`` is; the defaults match Mastodon's windows.

    ``require_date_for_get`` goes beyond the issue text: a signed GET that
    carries no time can be replayed forever (authorized fetch), so GET must
    cover ``date``/``(created)`` too unless this is turned off.
    """

    max_age_seconds: int = 3600 + 300
    max_future_seconds: int = 3600
    require_digest_for_post: bool = True
    require_date_for_get: bool = True


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified.

    ``algorithm`` is the primitive actually used, always in RFC 9421
    registry spelling (``rsa-v1_5-sha256``, ``rsa-v1_5-sha512``,
    ``rsa-pss-sha512``, ``ecdsa-p256-sha256``, ``ecdsa-p384-sha384``,
    ``ed25519``, ``hmac-sha256``), whatever the scheme declared
    (``hs2019``, ``rsa-sha256`` or nothing).
    """

    key_id: str
    scheme: str
    algorithm: str
