"""Key pairs: generation, PEM (de)serialisation and FEP-521a Multikey encoding.

Private keys are parsed once (when an account is loaded) and kept as
``cryptography`` objects; nothing on a request path parses a private PEM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ED25519_PUB_MULTICODEC = b"\xed\x01"


@dataclass(frozen=True)
class KeyPair:
    """PEM strings of one key pair as stored in the database."""

    private_pem: str = field(repr=False)
    public_pem: str


def generate_rsa_keypair(bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return KeyPair(
        private_pem=private_key_to_pem(key), public_pem=public_key_to_pem(key.public_key())
    )


def generate_ed25519_keypair() -> KeyPair:
    key = ed25519.Ed25519PrivateKey.generate()
    return KeyPair(
        private_pem=private_key_to_pem(key), public_pem=public_key_to_pem(key.public_key())
    )


def private_key_to_pem(key: PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key(pem: str, *, trusted: bool = False) -> PrivateKey:
    """Parse a private key. ``trusted`` (keys we generated and stored ourselves)
    skips RSA's consistency checks, the slow, GIL-holding part of a load."""
    key = serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=trusted
    )
    if not isinstance(
        key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    ):
        raise ValueError("unsupported private key type")
    return key


def load_public_key(pem: str) -> PublicKey:
    """Load a public key from SPKI PEM (also accepts PKCS#1 'RSA PUBLIC KEY')."""
    key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("unsupported public key type")
    return key


def _b58encode(data: bytes) -> str:
    num = int.from_bytes(data, "big")
    out = ""
    while num:
        num, rem = divmod(num, 58)
        out = _B58_ALPHABET[rem] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def _b58decode(text: str) -> bytes:
    num = 0
    for ch in text:
        idx = _B58_ALPHABET.find(ch)
        if idx < 0:
            raise ValueError("invalid base58 character")
        num = num * 58 + idx
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def ed25519_public_to_multibase(key: ed25519.Ed25519PublicKey) -> str:
    """FEP-521a ``publicKeyMultibase``: 'z' + base58btc(0xed01 + raw key)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _b58encode(_ED25519_PUB_MULTICODEC + raw)


def ed25519_public_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    if not value.startswith("z"):
        raise ValueError("only base58btc multibase is supported")
    data = _b58decode(value[1:])
    if not data.startswith(_ED25519_PUB_MULTICODEC) or len(data) != 34:
        raise ValueError("not an Ed25519 multikey")
    return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])


def ed25519_pem_to_multibase(public_pem: str) -> str:
    key = load_public_key(public_pem)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return ed25519_public_to_multibase(key)
