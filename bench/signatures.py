"""HTTP-signature throughput against raw ``cryptography`` (no network).

Run: ``.venv/bin/python bench/signatures.py``.  Prints one line per metric:

    NAME: ours=<ops/s> baseline=<ops/s> ratio=<ours/baseline>

- sign: our ``sign_request`` (Host, Date, Digest, signing string, RSA-2048
  PKCS#1 v1.5 SHA-256, header) vs a bare ``private_key.sign`` of a message
  of the same size.  Target ratio >= 0.9.
- verify: our ``parse_signature`` + ``check_policy`` + ``verify_signature``
  with the public key already an object vs ``load_pem_public_key`` + a bare
  ``verify`` (what a naive inbox does per request).  Target ratio >= 0.7.

Ours and baseline run in alternating short slices so drift in CPU clock or
load hits both equally.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from agora_node.protocol.httpsig import (
    SigningKey,
    check_policy,
    parse_signature,
    sign_request,
    verify_signature,
)
from agora_node.protocol.keys import private_key_to_pem, public_key_to_pem

SECONDS_PER_METRIC = 2.5
SLICES = 10
URL = "https://remote.example/users/bob/inbox"
BODY = (
    b'{"@context": "https://www.w3.org/ns/activitystreams", "type": "Follow", ' + b'"id": "x"}' * 8
)
REQUEST_HEADERS = {"Content-Type": "application/activity+json", "User-Agent": "Agora/bench"}


def _ops_per_second(func: Callable[[], object], seconds: float) -> tuple[int, float]:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(20):
            func()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count, now - start


def compare(name: str, ours: Callable[[], object], baseline: Callable[[], object]) -> float:
    ours(), baseline()  # warm up
    totals = {"ours": [0, 0.0], "baseline": [0, 0.0]}
    for _ in range(SLICES):
        for label, func in (("ours", ours), ("baseline", baseline)):
            count, elapsed = _ops_per_second(func, SECONDS_PER_METRIC / (2 * SLICES))
            totals[label][0] += count
            totals[label][1] += elapsed
    ours_rate = totals["ours"][0] / totals["ours"][1]
    base_rate = totals["baseline"][0] / totals["baseline"][1]
    ratio = ours_rate / base_rate
    print(f"{name}: ours={ours_rate:.1f} baseline={base_rate:.1f} ratio={ratio:.3f}", flush=True)
    return ratio


def main() -> int:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = SigningKey.from_pem(
        "https://local.example/users/alice#main-key", private_key_to_pem(private)
    )
    public = private.public_key()
    public_pem = public_key_to_pem(public).encode("ascii")

    for scheme in ("cavage", "rfc9421"):
        signed = sign_request("POST", URL, REQUEST_HEADERS, BODY, key, scheme=scheme)
        base = parse_signature("POST", URL, signed).signing_base
        raw_signature = private.sign(base, padding.PKCS1v15(), hashes.SHA256())
        suffix = "" if scheme == "cavage" else "_rfc9421"

        def our_sign(scheme: str = scheme) -> object:
            return sign_request("POST", URL, REQUEST_HEADERS, BODY, key, scheme=scheme)

        def raw_sign(base: bytes = base) -> object:
            return private.sign(base, padding.PKCS1v15(), hashes.SHA256())

        def our_verify(signed: dict[str, str] = signed) -> object:
            parsed = parse_signature("POST", URL, signed)
            check_policy(parsed, "POST", signed, BODY)
            return verify_signature(parsed, public)

        def raw_verify(base: bytes = base, raw_signature: bytes = raw_signature) -> None:
            loaded = serialization.load_pem_public_key(public_pem)
            assert isinstance(loaded, rsa.RSAPublicKey)
            loaded.verify(raw_signature, base, padding.PKCS1v15(), hashes.SHA256())

        compare(f"sign_rsa{suffix}_ops_per_s", our_sign, raw_sign)
        compare(f"verify_rsa{suffix}_ops_per_s", our_verify, raw_verify)
    return 0


if __name__ == "__main__":
    sys.exit(main())
