"""Who may say what: the origin rules for inbound activities.

An HTTP signature proves only that the holder of a key sent these bytes. These
rules turn that into "this actor, on their own server, says this about their
own things". They run after signature verification and before schema
validation, so they must cope with malformed input themselves.

Errors, by what went wrong:

* no key owner at all (unsigned) -> ``SignatureError("missing_signature")``, 401
* key owner is not the actor -> ``SignatureError("key_owner_mismatch")``, 401:
  the signature is fine but names someone else, so the request is not
  authenticated *as this actor*;
* the activity has no usable actor or id -> ``BadRequest``, 400;
* the actor reaches for something it does not own (an id on another host, a
  post attributed to someone else) -> ``Forbidden``, 403.

Hosts are compared with :func:`hosts.host_of` (port included, default ports
dropped): the server holding an actor's key controls everything on its host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agora_node.errors import BadRequest, Forbidden, SignatureError
from agora_node.protocol.hosts import host_of, same_origin
from agora_node.protocol.vocab import ACTOR_TYPES, as_list, id_of, types_of

# Activities whose object the actor *points at* rather than authors: the
# accepted Follow (which is ours), the boosted post, the liked or reported
# thing. A copy embedded here may live on any host; it is never trusted
# inline (see object_is_trusted_inline), so processing uses only its id.
POINTING_TYPES = frozenset(
    {
        "Announce", "Accept", "Reject", "Like", "Dislike", "EmojiReact", "Follow",
        "Block", "Flag", "Add", "Remove", "TentativeAccept", "TentativeReject",
    }
)  # fmt: skip
# Activities that create or change the actor's own things: even an object
# given only by URI must be on the actor's host.
AUTHORING_TYPES = frozenset({"Create", "Update", "Delete", "Undo"})
_MAX_AUTHORS = 100


def _host(uri: str, what: str) -> str:
    try:
        return host_of(uri)
    except ValueError:
        raise BadRequest(f"{what} is not an http(s) URI") from None


def _authors(obj: Mapping[str, Any]) -> list[str | None]:
    """Who claims to have made an object: attributedTo, or an activity's actor."""
    claimed = as_list(obj.get("attributedTo"))[:_MAX_AUTHORS] + as_list(obj.get("actor"))[:1]
    return [id_of(a) for a in claimed]


def _check_attribution(obj: Mapping[str, Any], actor: str) -> None:
    for author in _authors(obj):
        if author != actor:
            raise Forbidden("object is attributed to someone other than the actor")


def check_activity_authority(activity: Mapping[str, Any], key_owner: str) -> None:
    """Raise unless ``key_owner`` may have sent ``activity`` (rules in the module doc).

    ``key_owner`` is the actor URI the verified signing key belongs to.
    """
    if not key_owner:
        raise SignatureError("missing_signature")
    actor = id_of(activity.get("actor"))
    if actor is None:
        raise BadRequest("activity has no actor")
    if actor != key_owner:
        raise SignatureError("key_owner_mismatch")
    actor_host = _host(actor, "actor")
    activity_id = activity.get("id")
    if not isinstance(activity_id, str):
        raise BadRequest("activity has no id")
    if _host(activity_id, "activity id") != actor_host:
        raise Forbidden("activity id is not on the actor's host")

    types = set(types_of(activity))
    raw_object = activity.get("object")
    object_id = id_of(raw_object)
    pointing = bool(types & POINTING_TYPES)
    if object_id is not None and not pointing:
        must_be_local = isinstance(raw_object, Mapping) or bool(types & AUTHORING_TYPES)
        if must_be_local and _host(object_id, "object id") != actor_host:
            raise Forbidden("object id is not on the actor's host")

    if isinstance(raw_object, Mapping):
        _check_embedded(types, raw_object, actor)
    if "Move" in types and object_id != actor:
        raise Forbidden("an actor can only move itself")
    if types & {"Add", "Remove"}:
        target = id_of(activity.get("target"))
        if target is not None and _host(target, "target") != actor_host:
            raise Forbidden("target collection is not on the actor's host")


def _check_embedded(types: set[str], obj: Mapping[str, Any], actor: str) -> None:
    object_types = set(types_of(obj))
    if types & {"Create", "Update"}:
        _check_attribution(obj, actor)
        if object_types & ACTOR_TYPES and id_of(obj) != actor:
            raise Forbidden("an actor can only update itself")
    elif "Undo" in types:
        # Only the actor who did something can undo it.
        _check_attribution(obj, actor)
    elif types & {"Accept", "Reject"} and "Follow" in object_types:
        # You can only accept or reject a follow of yourself.
        if id_of(obj.get("object")) != actor:
            raise Forbidden("the follow being answered is not addressed to the actor")


def object_is_trusted_inline(activity: Mapping[str, Any]) -> bool:
    """Whether the embedded object may be stored as sent, without refetching it.

    True only when it has an id on the actor's origin and every author it
    claims is the actor; an Announce must moreover name the announcer as
    author (a boost of one's own post). Anything else is a claim about a
    third party, to be fetched from its origin.
    """
    obj = activity.get("object")
    actor = id_of(activity.get("actor"))
    if not isinstance(obj, Mapping) or actor is None:
        return False
    object_id = id_of(obj)
    if object_id is None or not same_origin(object_id, actor):
        return False
    authors = _authors(obj)
    if any(author != actor for author in authors):
        return False
    return "Announce" not in types_of(activity) or bool(authors)
