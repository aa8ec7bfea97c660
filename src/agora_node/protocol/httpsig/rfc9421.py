"""RFC 9421 HTTP Message Signatures: parse, rebuild the signature base, sign.

The signature base (§2.5) is one ``"<component>": <value>`` line per
covered component, then ``"@signature-params": <inner list>``, where the
inner list is our *re-serialisation* of the parsed ``Signature-Input``
member (§3.2), never the bytes as received: whitespace the wire allows
cannot change what is verified.

Component parameters (``sf``, ``bs``, ``key``, ``req``, ``tr``) are not
implemented and make the header unparsable rather than silently ignored;
``name`` on ``@query-param`` is supported.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from urllib.parse import quote, unquote_plus

from agora_node.errors import SignatureError
from agora_node.protocol.httpsig.algorithms import (
    RFC9421_ALGORITHMS,
    sign_primitive,
    signing_primitive,
)
from agora_node.protocol.httpsig.message import (
    MAX_COVERED,
    Headers,
    Target,
    field_value,
    signature_field,
    unparsable,
)
from agora_node.protocol.httpsig.model import SCHEME_RFC9421, ParsedSignature, SigningKey
from agora_node.protocol.httpsig.sfv import (
    BareItem,
    InnerList,
    Item,
    SFError,
    Token,
    is_key,
    parse_dictionary,
    serialize_inner_list,
    serialize_item,
)

DEFAULT_LABEL = "sig1"
_STRING_PARAMS = ("keyid", "alg", "nonce", "tag")
_INTEGER_PARAMS = ("created", "expires")


def _form_encode(text: str) -> str:
    """WHATWG x-www-form-urlencoded percent-encoding, space as %20 (§2.2.8)."""
    return quote(text, safe="*").replace("~", "%7E")


def _query_param(target: Target, name: BareItem) -> str:
    if not isinstance(name, str) or isinstance(name, Token):
        raise unparsable("@query-param name must be a string")
    found = [
        _form_encode(unquote_plus(value))
        for key, _eq, value in (pair.partition("=") for pair in target.query.split("&") if pair)
        if _form_encode(unquote_plus(key)) == name
    ]
    if not found:
        raise SignatureError("header_not_covered", f"query parameter {name} is missing")
    if len(found) > 1:
        raise unparsable(f"query parameter {name} is repeated")  # §2.2.8
    return found[0]


def _derived(
    name: str, item: Item, method: str, target: Target, headers: Headers, status: int | None
) -> str:
    if item.params and not (name == "@query-param" and set(item.params) == {"name"}):
        raise unparsable(f"unsupported parameters on {name}")
    if name == "@method":
        return method
    if name == "@target-uri":
        return target.url
    if name == "@authority":
        authority = target.authority or (field_value(headers, "host") or "").lower()
        if not authority:
            raise SignatureError("header_not_covered", "no authority for @authority")
        return authority
    if name == "@scheme":
        return target.scheme
    if name == "@request-target":
        return target.request_target
    if name == "@path":
        return target.path
    if name == "@query":
        return "?" + target.query
    if name == "@query-param":
        return _query_param(target, item.params["name"])
    if name == "@status" and status is not None:
        return str(status)
    raise unparsable(f"unsupported derived component {name}")


def _component_value(
    item: Item, method: str, target: Target, headers: Headers, status: int | None
) -> str:
    name = item.value
    if not isinstance(name, str) or isinstance(name, Token):
        raise unparsable("component identifier is not a string")
    lowered = name.lower()
    if lowered.startswith("@"):
        value = _derived(lowered, item, method, target, headers, status)
        if "\n" in value or "\r" in value:
            raise unparsable(f"line break in {name}")
        return value
    if item.params:
        raise unparsable(f"unsupported parameters on {name}")
    field = field_value(headers, lowered)
    if field is None:
        raise SignatureError("header_not_covered", f"signed header {lowered} is missing")
    return field


def signature_base(
    inner: InnerList, method: str, target: Target, headers: Headers, status: int | None = None
) -> bytes:
    """§2.5: component lines plus the ``@signature-params`` line, as ASCII."""
    if len(inner.items) > MAX_COVERED:
        raise unparsable("too many covered components")
    lines = []
    seen: set[str] = set()
    try:
        for item in inner.items:
            identifier = serialize_item(item)
            if identifier in seen:
                raise unparsable(f"component {identifier} covered twice")
            seen.add(identifier)
            value = _component_value(item, method, target, headers, status)
            lines.append(f"{identifier}: {value}")
        lines.append(f'"@signature-params": {serialize_inner_list(inner)}')
        return "\n".join(lines).encode("ascii")
    except (SFError, UnicodeEncodeError) as exc:
        raise unparsable("signature base is not ASCII structured data") from exc


def _typed_param(inner: InnerList, name: str) -> BareItem | None:
    value = inner.params.get(name)
    if value is None:
        return None
    if name in _INTEGER_PARAMS:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise unparsable(f"{name} must be a non-negative integer")
    elif not isinstance(value, str) or isinstance(value, Token):
        raise unparsable(f"{name} must be a string")
    return value


def parse_rfc9421(
    method: str,
    target: Target,
    headers: Headers,
    *,
    label: str | None = None,
    status: int | None = None,
) -> ParsedSignature:
    """Parse ``Signature-Input``/``Signature`` and rebuild one signature's base.

    Without ``label`` the first label present in both fields is used.
    ``status`` is only for verifying a signed *response* (``@status``).
    """
    raw_input = signature_field(headers, "signature-input")
    raw_signature = signature_field(headers, "signature")
    if raw_input is None or raw_signature is None:
        raise SignatureError("missing_signature")
    try:
        inputs = parse_dictionary(raw_input)
        signatures = parse_dictionary(raw_signature)
    except SFError as exc:
        raise unparsable(f"structured field: {exc}") from exc
    if label is None:
        label = next((name for name in inputs if name in signatures), None)
    if label is None or label not in inputs or label not in signatures:
        raise unparsable("no label appears in both Signature-Input and Signature")
    inner, signature = inputs[label], signatures[label]
    if not isinstance(inner, InnerList):
        raise unparsable("Signature-Input member is not an inner list")
    if not isinstance(signature, Item) or not isinstance(signature.value, bytes):
        raise unparsable("Signature member is not a byte sequence")
    if not signature.value:
        raise unparsable("empty signature")
    params = {name: _typed_param(inner, name) for name in (*_INTEGER_PARAMS, *_STRING_PARAMS)}
    key_id, alg = params["keyid"], params["alg"]
    if not isinstance(key_id, str) or not key_id:
        raise unparsable("signature has no keyid")
    if alg is not None and alg not in RFC9421_ALGORITHMS:
        raise SignatureError("unsupported_algorithm")
    base = signature_base(inner, method, target, headers, status)
    covered = tuple(str(item.value).lower() for item in inner.items)
    created, expires, nonce, tag = (params[n] for n in ("created", "expires", "nonce", "tag"))
    return ParsedSignature(
        scheme=SCHEME_RFC9421,
        key_id=key_id,
        algorithm=alg if isinstance(alg, str) else None,
        covered=covered,
        signature=signature.value,
        signing_base=base,
        created=created if isinstance(created, int) else None,
        expires=expires if isinstance(expires, int) else None,
        label=label,
        nonce=nonce if isinstance(nonce, str) else None,
        tag=tag if isinstance(tag, str) else None,
    )


def sign_rfc9421(
    method: str,
    target: Target,
    headers: Headers,
    key: SigningKey,
    components: Sequence[str],
    params: Mapping[str, BareItem],
    *,
    label: str = DEFAULT_LABEL,
) -> tuple[str, str]:
    """(``Signature-Input``, ``Signature``) values for one labelled signature.

    ``params`` are serialised in the given order and must include
    ``keyid``; an ``alg`` must name the key's own algorithm.
    """
    if not is_key(label):
        raise ValueError(f"invalid signature label {label!r}")
    primitive, declared = signing_primitive(key.private_key, rfc9421=True)
    if params.get("alg", declared) != declared:
        raise ValueError(f"this key signs with {declared}, not {params['alg']!r}")
    inner = InnerList(tuple(Item(name) for name in components), dict(params))
    base = signature_base(inner, method, target, headers)
    signature = sign_primitive(primitive, key.private_key, base, raw_ecdsa=True)
    encoded = base64.b64encode(signature).decode("ascii")
    return f"{label}={serialize_inner_list(inner)}", f"{label}=:{encoded}:"
