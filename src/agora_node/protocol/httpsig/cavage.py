"""draft-cavage-http-signatures-12, as the fediverse (Mastodon & co.) uses it.

The header is ``keyId="…",algorithm="…",headers="…",signature="…"``
(optionally ``created=…``/``expires=…``), in ``Signature`` or after
``Signature `` in ``Authorization``.  Without ``headers`` the draft's older
default, ``date``, applies, as in Appendix C.1 and in Mastodon.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from functools import lru_cache

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig.algorithms import (
    CAVAGE_ALGORITHMS,
    sign_primitive,
    signing_primitive,
)
from agora_node.protocol.httpsig.message import (
    MAX_COVERED,
    Headers,
    Target,
    field_value,
    unparsable,
)
from agora_node.protocol.httpsig.model import SCHEME_CAVAGE, ParsedSignature, SigningKey

# One ``name=value`` or ``name="value"`` pair and the comma after it; the
# parser insists these matches tile the whole header, so nothing is skipped.
_PARAM = re.compile(
    r'[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*=[ \t]*(?:"([^"]*)"|([^",\s]*))[ \t]*(?:,|\Z)'
)
_CREATED = re.compile(r"[0-9]{1,15}")
_EXPIRES = re.compile(r"([0-9]{1,15})(?:\.[0-9]{1,9})?")
DEFAULT_COVERED = ("date",)


def _parse_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos, end = 0, len(value)
    while pos < end:
        match = _PARAM.match(value, pos)
        if match is None or match.end() == pos:
            raise unparsable(f"cavage parameters do not parse at {pos}")
        name = match.group(1).lower()  # keyId vs keyid: both seen in the wild
        if name in params:
            raise unparsable(f"repeated cavage parameter {name}")
        quoted = match.group(2)
        params[name] = quoted if quoted is not None else match.group(3)
        pos = match.end()
    return params


@lru_cache(maxsize=64)
def _covered(header_list: str) -> tuple[str, ...]:
    """The ``headers`` parameter as names; cached, senders repeat theirs."""
    return tuple(header_list.lower().split())


def _time_param(value: str | None, pattern: re.Pattern[str]) -> int | None:
    if value is None:
        return None
    match = pattern.fullmatch(value)
    if match is None:
        raise unparsable("created/expires is not a Unix time")
    return int(match.group(1) if match.groups() else match.group(0))


def signing_string(
    method: str,
    target: Target,
    headers: Headers,
    covered: Sequence[str],
    created: str | None = None,
    expires: str | None = None,
) -> bytes:
    """Cavage §2.3: one ``name: value`` line per covered header, in order."""
    lines = []
    for name in covered:
        if name == "(request-target)":
            value: str | None = f"{method.lower()} {target.request_target}"
        elif name == "(created)":
            value = created
        elif name == "(expires)":
            value = expires
        else:
            value = field_value(headers, name)
        if value is None:
            raise SignatureError("header_not_covered", f"signed header {name} is missing")
        lines.append(f"{name}: {value}")
    try:
        # aiohttp decodes header bytes as UTF-8 with surrogateescape; undo it.
        return "\n".join(lines).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise unparsable("header value cannot be encoded") from exc


def parse_cavage(method: str, target: Target, headers: Headers, raw: str) -> ParsedSignature:
    """Parse one cavage header value and rebuild its signing string."""
    params = _parse_params(raw)
    key_id = params.get("keyid")
    encoded = params.get("signature")
    if not key_id or not encoded:
        raise unparsable("cavage signature lacks keyId or signature")
    algorithm = params.get("algorithm")
    if algorithm is not None and algorithm.lower() not in CAVAGE_ALGORITHMS:
        raise SignatureError("unsupported_algorithm")
    header_list = params.get("headers")
    covered = DEFAULT_COVERED if header_list is None else _covered(header_list)
    if not covered or len(covered) > MAX_COVERED:
        raise unparsable("empty or oversized headers list")
    created_raw, expires_raw = params.get("created"), params.get("expires")
    created = _time_param(created_raw, _CREATED)
    expires = _time_param(expires_raw, _EXPIRES)
    try:
        signature = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise unparsable("signature is not base64") from exc
    if not signature:
        raise unparsable("empty signature")
    base = signing_string(method, target, headers, covered, created_raw, expires_raw)
    return ParsedSignature(
        scheme=SCHEME_CAVAGE,
        key_id=key_id,
        algorithm=algorithm,
        covered=covered,
        signature=signature,
        signing_base=base,
        created=created,
        expires=expires,
    )


def sign_cavage(
    method: str,
    target: Target,
    headers: Headers,
    key: SigningKey,
    covered: Sequence[str],
    *,
    created: int | None = None,
    expires: int | None = None,
) -> str:
    """The ``Signature`` header value over ``covered`` (lowercase names).

    RSA keys declare ``rsa-sha256`` (what Mastodon expects and the
    ``httpsig`` reference can check), other keys ``hs2019``.
    """
    primitive, declared = signing_primitive(key.private_key, rfc9421=False)
    created_raw = None if created is None else str(created)
    expires_raw = None if expires is None else str(expires)
    base = signing_string(method, target, headers, covered, created_raw, expires_raw)
    signature = sign_primitive(primitive, key.private_key, base, raw_ecdsa=False)
    parts = [f'keyId="{key.key_id}"', f'algorithm="{declared}"']
    if created_raw is not None:
        parts.append(f"created={created_raw}")
    if expires_raw is not None:
        parts.append(f"expires={expires_raw}")
    parts.append(f'headers="{" ".join(covered)}"')
    parts.append(f'signature="{base64.b64encode(signature).decode("ascii")}"')
    return ",".join(parts)
