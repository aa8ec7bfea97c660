"""Signing outgoing requests (deliveries and signed fetches).

Called at send time by the delivery worker, so ``Date``/``created`` are
fresh for every attempt.  The private key is already an object in the
``SigningKey``; nothing here parses PEM.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from agora_node.protocol.httpsig.algorithms import signing_primitive
from agora_node.protocol.httpsig.cavage import sign_cavage
from agora_node.protocol.httpsig.digest import compute_content_digest, compute_digest_header
from agora_node.protocol.httpsig.message import Target, host_header_for, normalise_headers
from agora_node.protocol.httpsig.model import SCHEME_CAVAGE, SCHEME_RFC9421, SigningKey
from agora_node.protocol.httpsig.policy import BODY_METHODS
from agora_node.protocol.httpsig.rfc9421 import DEFAULT_LABEL, sign_rfc9421
from agora_node.protocol.httpsig.sfv import BareItem

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(timestamp: float) -> str:
    """IMF-fixdate, locale-independent (like ``email.utils.formatdate(usegmt=True)``)."""
    t = time.gmtime(timestamp)
    return (
        f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _set(headers: dict[str, str], present: set[str], name: str, value: str) -> None:
    """Set ``name``, first dropping any differently-cased copy the caller passed."""
    lowered = name.lower()
    if lowered in present:
        for existing in [k for k in headers if k.lower() == lowered]:
            del headers[existing]
    headers[name] = value


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: SigningKey,
    *,
    scheme: str = SCHEME_CAVAGE,
    now: float | None = None,
) -> dict[str, str]:
    """The headers to send: ``headers`` plus Host, Date, a digest and the signature.

    Host and Date given by the caller are kept (and signed); a digest is
    always recomputed from ``body`` so it cannot disagree with it.

    - cavage: ``(request-target) host date digest [content-type]`` for
      requests with a body, ``(request-target) host date [accept]`` otherwise;
    - rfc9421 (label ``sig1``, params ``created``, ``keyid``, ``alg``):
      ``@method @target-uri @authority content-digest [content-type]`` or
      ``@method @target-uri @authority [accept]``.
    """
    if scheme not in (SCHEME_CAVAGE, SCHEME_RFC9421):
        raise ValueError(f"unknown signature scheme {scheme!r}")
    clock = time.time() if now is None else now
    out = dict(headers)
    present = {name.lower() for name in out}
    if "host" not in present:
        out["Host"] = host_header_for(url)
    if "date" not in present:
        out["Date"] = http_date(clock)
    with_body = body is not None or method.upper() in BODY_METHODS
    cavage = scheme == SCHEME_CAVAGE
    if with_body:
        data = body or b""
        if cavage:
            _set(out, present, "Digest", compute_digest_header(data))
        else:
            _set(out, present, "Content-Digest", compute_content_digest(data))
    normalised = normalise_headers(out)
    target = Target(url)
    if cavage:
        covered = ["(request-target)", "host", "date"]
        covered += ["digest", "content-type"] if with_body else ["accept"]
        covered = [name for name in covered if name.startswith("(") or name in normalised]
        _set(out, present, "Signature", sign_cavage(method, target, normalised, key, covered))
        return out
    components = ["@method", "@target-uri", "@authority"]
    components += ["content-digest", "content-type"] if with_body else ["accept"]
    components = [name for name in components if name.startswith("@") or name in normalised]
    _primitive, alg = signing_primitive(key.private_key, rfc9421=True)
    params: dict[str, BareItem] = {"created": int(clock), "keyid": key.key_id, "alg": alg}
    signature_input, signature = sign_rfc9421(
        method, target, normalised, key, components, params, label=DEFAULT_LABEL
    )
    _set(out, present, "Signature-Input", signature_input)
    _set(out, present, "Signature", signature)
    return out
