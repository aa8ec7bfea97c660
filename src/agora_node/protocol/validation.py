"""Schema validation of inbound activities and fetched objects.

Everything a peer sends is checked here before any handler reads it, so
handlers can rely on shapes (``id`` is an http(s) URI, ``tag`` is bounded…)
instead of re-checking. The JSON Schemas in the repository's ``schemas/``
folder are the single statement of what we accept; they are read and compiled
once, on first use, and nothing else in this module touches the disk.

Failures raise :class:`~agora_node.errors.BadRequest` with a JSONPath-like
``path`` and a ``detail`` written by us: jsonschema's own messages quote the
offending value, which may be 100 kB of hostile HTML we must not echo.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from agora_node.errors import BadRequest
from agora_node.protocol.vocab import ACTIVITY_TYPES, types_of

SCHEMAS_DIR_ENV = "AGORA_SCHEMAS_DIR"

# type name -> schema file stem. Anything not listed gets the minimal schema.
ACTIVITY_SCHEMAS: Mapping[str, str] = {
    "Follow": "follow",
    "Accept": "accept",
    "Reject": "reject",
    "Undo": "undo",
    "Create": "create",
    "Update": "update",
    "Delete": "delete",
    "Like": "like",
    "Announce": "announce",
    "Block": "block",
    "Move": "move",
    "Flag": "flag",
    "Add": "add",
    "Remove": "remove",
}
OBJECT_SCHEMAS: Mapping[str, str] = {
    "Note": "note",
    "Article": "note",
    "Page": "note",
    "Question": "question",
    "Person": "actor",
    "Service": "actor",
    "Application": "actor",
    "Group": "actor",
    "Organization": "actor",
    "Tombstone": "tombstone",
}
ANY_ACTIVITY = "any_activity"
ANY_OBJECT = "any_object"
EMBEDDED_ACTIVITY = "embedded_activity"

# JSON-LD keywords that make one document describe many nodes. The rest of
# the node reads documents as plain trees; a graph would let a peer smuggle
# statements about other subjects past the origin checks.
_GRAPH_KEYWORDS = ("@graph", "@included", "@reverse")
# Announce { Create { Note } } is the deepest real chain (group relays).
_MAX_EMBEDDED = 3
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def schemas_dir() -> Path:
    """Where the schemas live: ``$AGORA_SCHEMAS_DIR`` if set, else the repository's.

    An explicitly set variable wins, so it is never silently ignored; the
    repository path covers the editable install from the src layout. It is an
    environment variable and not a config key because the schemas are
    compiled once per process on first use, wherever that is (the inbox, a
    worker, ``check-config``), with no settings at hand; it says where the
    installation's files are, not how a node behaves.
    """
    configured = os.environ.get(SCHEMAS_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "schemas"


@cache
def _validators() -> dict[str, Draft202012Validator]:
    """Read, check and compile every schema once; a bad schema fails loudly here."""
    directory = schemas_dir()
    contents: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            schema = json.load(fh)
        Draft202012Validator.check_schema(schema)
        contents[path.stem] = schema
    needed = {*ACTIVITY_SCHEMAS.values(), *OBJECT_SCHEMAS.values()}
    needed |= {ANY_ACTIVITY, ANY_OBJECT, EMBEDDED_ACTIVITY, "defs"}
    missing = needed - contents.keys()
    if missing:
        raise RuntimeError(f"schemas missing from {directory}: {sorted(missing)}")
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema)) for schema in contents.values()
    )
    return {
        stem: Draft202012Validator(schema, registry=registry) for stem, schema in contents.items()
    }


@cache
def _fast_validators() -> dict[str, Any]:
    """The same schemas compiled by jsonschema-rs: a quick answer for valid documents.

    On the inbox path ``jsonschema`` was the largest CPU cost per delivery,
    and this engine answers a valid document orders of magnitude faster
    (bench/inbox.py).
    ``jsonschema`` still explains every refusal, so error paths and messages
    do not depend on which engine said no.
    """
    _validators()  # checks the schemas and that none is missing
    contents: dict[str, dict[str, Any]] = {}
    for path in sorted(schemas_dir().glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            contents[path.stem] = json.load(fh)
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in contents.values()])
    return {
        stem: jsonschema_rs.validator_for(schema, registry=registry)
        for stem, schema in contents.items()
    }


def warm_up() -> None:
    """Compile every schema now (start-up), not on the first request's event-loop turn."""
    _validators()
    _fast_validators()


def _pick(types: list[str], table: Mapping[str, str], fallback: str) -> str:
    for name in types:
        if name in table:
            return table[name]
    return fallback


def _is_activity(obj: Mapping[str, Any]) -> bool:
    return any(t in ACTIVITY_TYPES or t in ACTIVITY_SCHEMAS for t in types_of(obj))


def _json_path(prefix: str, parts: Iterable[str | int]) -> str:
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            path += f".{part}"
        else:
            path += "[" + json.dumps(part) + "]"
    return path


def _describe(error: ValidationError) -> str:
    """A short, value-free description of what rule failed."""
    rule, limit = error.validator, error.validator_value
    match rule:
        case "required":
            return str(error.message)  # names the missing property, from our schema
        case "maxLength":
            return f"longer than {limit} characters"
        case "minLength":
            return "must not be empty" if limit == 1 else f"shorter than {limit} characters"
        case "maxItems":
            return f"more than {limit} items"
        case "minItems":
            return f"fewer than {limit} items"
        case "maxContains":
            contains = error.schema.get("contains", {}) if isinstance(error.schema, dict) else {}
            kind = contains.get("properties", {}).get("type", {}).get("const", "matching")
            return f"more than {limit} {kind} items"
        case "maxProperties":
            return f"more than {limit} entries"
        case "type":
            names = " or ".join(limit) if isinstance(limit, list) else str(limit)
            return f"must be of type {names}"
        case "pattern":
            if isinstance(limit, str) and "[Hh][Tt][Tt][Pp]" in limit:
                return "not an absolute http(s) URI"
            return "does not match the expected format"
        case "minimum":
            return f"less than {limit}"
        case "enum" | "const":
            return "not an accepted value"
        case _:
            return str(rule)


def _check(stem: str, instance: Mapping[str, Any], prefix: str, message: str) -> None:
    if _fast_validators()[stem].is_valid(instance):
        return
    error = best_match(_validators()[stem].iter_errors(instance))
    if error is not None:
        raise BadRequest(
            message, path=_json_path(prefix, error.absolute_path), detail=_describe(error)
        )


def _refuse_graph_keywords(node: Mapping[str, Any], prefix: str) -> None:
    for keyword in _GRAPH_KEYWORDS:
        if keyword in node:
            raise BadRequest(
                "JSON-LD graph keywords are not accepted", path=_json_path(prefix, [keyword])
            )


def _require_object(doc: Any, message: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise BadRequest(message, path="$", detail="must be of type object")
    return doc


def _validate_embedded(activity: Mapping[str, Any], message: str) -> None:
    """Validate the chain of embedded objects (``object``, its ``object``…)."""
    node: Any = activity.get("object")
    prefix = "$.object"
    for _ in range(_MAX_EMBEDDED):
        if not isinstance(node, Mapping):
            return
        _refuse_graph_keywords(node, prefix)
        if _is_activity(node):
            _check(EMBEDDED_ACTIVITY, node, prefix, message)
            node, prefix = node.get("object"), prefix + ".object"
        else:
            _check(_pick(types_of(node), OBJECT_SCHEMAS, ANY_OBJECT), node, prefix, message)
            return


def validate_activity(doc: Any) -> None:
    """Refuse an inbound activity that is not in a shape we handle.

    Mastodon's LD ``signature`` block is allowed but ignored: we neither
    verify nor refuse it, and nothing downstream may treat it as proof.
    Unknown activity types (EmojiReact…) only need id, type and actor.
    """
    message = "invalid activity"
    activity = _require_object(doc, message)
    _refuse_graph_keywords(activity, "$")
    _check(_pick(types_of(activity), ACTIVITY_SCHEMAS, ANY_ACTIVITY), activity, "$", message)
    _validate_embedded(activity, message)


def validate_object(obj: Any) -> None:
    """Refuse a fetched object (post, actor, tombstone…) we could not handle safely.

    A fetched activity (a boost looked up by id) gets the activity rules.
    """
    message = "invalid object"
    node = _require_object(obj, message)
    if _is_activity(node):
        validate_activity(node)
        return
    _refuse_graph_keywords(node, "$")
    _check(_pick(types_of(node), OBJECT_SCHEMAS, ANY_OBJECT), node, "$", message)
