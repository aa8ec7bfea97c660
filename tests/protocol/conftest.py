"""Shared fixtures for the HTTP-signature tests: keys, a frozen clock, vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from agora_node.protocol.httpsig import SigningKey
from agora_node.protocol.keys import private_key_to_pem, public_key_to_pem

ACTOR_KEY_ID = "https://local.example/users/alice#main-key"


def _vectors_dir() -> Path:
    """The published vectors, copied into the repository (tests/fixtures/).

    A missing directory is a broken checkout, so it fails the run rather
    than skipping.
    """
    directory = Path(__file__).resolve().parents[1] / "fixtures" / "signature-vectors"
    if not (directory / "README.md").is_file():
        pytest.fail(f"signature test vectors not found at {directory}", pytrace=False)
    return directory


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return _vectors_dir()


@pytest.fixture(scope="session")
def cavage_vectors(vectors_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((vectors_dir / "cavage12-appendix-c.json").read_text())
    return data


@pytest.fixture(scope="session")
def rfc9421_vectors(vectors_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((vectors_dir / "rfc9421-appendix-b.json").read_text())
    return data


@pytest.fixture(scope="session")
def rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def rsa_key(rsa_private: rsa.RSAPrivateKey) -> SigningKey:
    return SigningKey.from_pem(ACTOR_KEY_ID, private_key_to_pem(rsa_private))


@pytest.fixture(scope="session")
def rsa_public_pem(rsa_private: rsa.RSAPrivateKey) -> str:
    return public_key_to_pem(rsa_private.public_key())


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return SigningKey(ACTOR_KEY_ID, ed25519.Ed25519PrivateKey.generate())


@pytest.fixture(scope="session")
def ec_key() -> SigningKey:
    return SigningKey(ACTOR_KEY_ID, ec.generate_private_key(ec.SECP256R1()))
