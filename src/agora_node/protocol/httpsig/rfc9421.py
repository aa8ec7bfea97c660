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
from collections.abc import Callable, Mapping, Sequence
from typing import Any
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
    serialize_item,
    serialize_params,
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


# Derived components that depend on the method and target alone.
_SIMPLE_DERIVED: dict[str, Callable[[str, Target], str]] = {
    "@method": lambda method, _target: method,
    "@target-uri": lambda _method, target: target.url,
    "@scheme": lambda _method, target: target.scheme,
    "@request-target": lambda _method, target: target.request_target,
    "@path": lambda _method, target: target.path,
    "@query": lambda _method, target: "?" + target.query,
}


def _general_component(
    item: Item, method: str, target: Target, headers: Headers, status: int | None
) -> str:
    """Components the plan cache does not cover: parameters, ``@authority``,
    ``@query-param``, ``@status`` and anything we refuse."""
    name, params = item
    if type(name) is not str:  # a Token (str subclass) is not an identifier either
        raise unparsable("component identifier is not a string")
    lowered = str(name).lower()
    if params and not (lowered == "@query-param" and set(params) == {"name"}):
        raise unparsable(f"unsupported parameters on {lowered}")
    if lowered == "@authority":
        value = target.authority or (field_value(headers, "host") or "").lower()
        if not value:
            raise SignatureError("header_not_covered", "no authority for @authority")
    elif lowered == "@query-param":
        value = _query_param(target, params["name"])
    elif lowered == "@status" and status is not None:
        value = str(status)
    else:
        raise unparsable(f"unsupported component {lowered}")
    if "\n" in value or "\r" in value:
        raise unparsable(f"line break in {lowered}")
    return value


# Per plain component name: (identifier as serialised, lowercased name, the
# derived-component function if it is a simple one).  Bounded, so hostile
# names cannot grow it; the usual dozen names are all it ever holds.
_Plan = tuple[str, str, Callable[[str, Target], str] | None]
_PLANS: dict[str, _Plan] = {}
_MAX_PLANS = 256


def _plan(item: Item) -> _Plan | None:
    name, params = item
    if params or type(name) is not str:
        return None
    plan = _PLANS.get(str(name))
    if plan is None:
        lowered = str(name).lower()
        plan = (serialize_item(item), lowered, _SIMPLE_DERIVED.get(lowered))
        if len(_PLANS) < _MAX_PLANS:
            _PLANS[str(name)] = plan
    return plan


def _signature_base(
    inner: InnerList, method: str, target: Target, headers: Headers, status: int | None
) -> tuple[bytes, str]:
    """(signature base, serialised inner list): §2.5 lines, then @signature-params."""
    if len(inner.items) > MAX_COVERED:
        raise unparsable("too many covered components")
    lines = []
    identifiers: list[str] = []
    try:
        for item in inner.items:
            plan = _plan(item)
            if plan is None:  # parameters, or not even a string
                identifier = serialize_item(item)
                value = _general_component(item, method, target, headers, status)
            else:
                identifier, lowered, simple = plan
                if simple is not None:
                    value = simple(method, target)
                    if "\n" in value or "\r" in value:
                        raise unparsable(f"line break in {lowered}")
                elif lowered[:1] != "@":
                    field = field_value(headers, lowered)
                    if field is None:
                        raise SignatureError("header_not_covered", f"{lowered} is missing")
                    value = field
                else:
                    value = _general_component(item, method, target, headers, status)
            if identifier in identifiers:
                raise unparsable(f"component {identifier} covered twice")
            identifiers.append(identifier)
            lines.append(f"{identifier}: {value}")
        # Same text as serialize_inner_list(inner), reusing the identifiers.
        serialized = f"({' '.join(identifiers)}){serialize_params(inner.params)}"
        lines.append(f'"@signature-params": {serialized}')
        return "\n".join(lines).encode("ascii"), serialized
    except (SFError, UnicodeEncodeError) as exc:
        raise unparsable("signature base is not ASCII structured data") from exc


def signature_base(
    inner: InnerList, method: str, target: Target, headers: Headers, status: int | None = None
) -> bytes:
    """§2.5: component lines plus the ``@signature-params`` line, as ASCII."""
    return _signature_base(inner, method, target, headers, status)[0]


def _signature_params(inner: InnerList) -> dict[str, Any]:
    """The known parameters, type-checked; unknown ones stay signed but unused."""
    known: dict[str, Any] = {}
    for name, value in inner.params.items():
        if name in _INTEGER_PARAMS:
            if type(value) is not int or value < 0:  # bool is not an int here
                raise unparsable(f"{name} must be a non-negative integer")
        elif name in _STRING_PARAMS:
            if type(value) is not str:  # a Token is not a string here
                raise unparsable(f"{name} must be a string")
        else:
            continue
        known[name] = value
    return known


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
    signature_bytes = signature[0] if not isinstance(signature, InnerList) else None
    if type(signature_bytes) is not bytes or not signature_bytes:
        raise unparsable("Signature member is not a non-empty byte sequence")
    params = _signature_params(inner)
    key_id, alg = params.get("keyid"), params.get("alg")
    if not key_id:
        raise unparsable("signature has no keyid")
    if alg is not None and alg not in RFC9421_ALGORITHMS:
        raise SignatureError("unsupported_algorithm")
    base, _serialized = _signature_base(inner, method, target, headers, status)
    return ParsedSignature(
        scheme=SCHEME_RFC9421,
        key_id=key_id,
        algorithm=alg,
        covered=tuple([str(item[0]).lower() for item in inner.items]),
        signature=signature_bytes,
        signing_base=base,
        created=params.get("created"),
        expires=params.get("expires"),
        label=label,
        nonce=params.get("nonce"),
        tag=params.get("tag"),
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
    inner = InnerList(tuple([Item(name, {}) for name in components]), dict(params))
    base, serialized = _signature_base(inner, method, target, headers, None)
    signature = sign_primitive(primitive, key.private_key, base, raw_ecdsa=True)
    encoded = base64.b64encode(signature).decode("ascii")
    return f"{label}={serialized}", f"{label}=:{encoded}:"
