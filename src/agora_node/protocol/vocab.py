"""ActivityStreams vocabulary: the constants and small readers every layer shares.

Real-world JSON-LD arrives in many equivalent shapes (a value or a list of
values, a URI or an embedded object with an ``id``). These helpers read those
shapes once, here, so that no caller has to remember every variant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
# FEP-521a's example actor uses both of these: the Data Integrity context
# (proofs, FEP-8b32) and the Multikey context that defines ``Multikey`` and
# ``publicKeyMultibase``.
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# WebFinger link to where a person acts on a remote account or post by its URI
# (OStatus' subscribe template; Mastodon's "follow from your server" uses it).
SUBSCRIBE_REL = "http://ostatus.org/schema/1.0/subscribe"
# Compacted forms seen in the wild (Pleroma, older Mastodon, hand-written
# payloads); all mean the same collection after JSON-LD expansion.
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = f'application/ld+json; profile="{AS_CONTEXT}"'

Visibility = Literal["public", "unlisted", "private", "direct"]
# Every visibility, widest first, and the two anyone may read (public is also
# listed on the public timelines, unlisted is not). The rules over them live
# in processing/visibility.py; store queries bind these same tuples.
VISIBILITIES: tuple[Visibility, ...] = ("public", "unlisted", "private", "direct")
OPEN_VISIBILITIES: tuple[Visibility, ...] = ("public", "unlisted")

ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
# AS2 activity types plus the extension activities peers send. ``Question``
# is an activity in AS2 but travels as an object (a poll) on the fediverse,
# so it is deliberately absent.
ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike",
        "Flag", "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move",
        "Offer", "Read", "Reject", "Remove", "TentativeAccept", "TentativeReject",
        "Travel", "Undo", "Update", "View",
        "EmojiReact",  # Pleroma/Akkoma reactions
        "LikeRequest", "ReplyRequest", "AnnounceRequest",  # GoToSocial interaction requests
        "QuoteRequest",  # Mastodon quote posts (FEP-044f)
    }
)  # fmt: skip

_ADDRESS_FIELDS = ("to", "cc", "bto", "bcc", "audience")

# RFC 9110 media-type parameter: token "=" ( token / quoted-string )
_PARAM = re.compile(r";\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;\s]*)\s*")


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a list: AS2 lets any non-functional property be one or many."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def id_of(value: Any) -> str | None:
    """The URI a value refers to: the string itself, or an embedded object's ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = value.get("id")
        if isinstance(inner, str):
            return inner
    return None


def types_of(obj: Any) -> list[str]:
    """The ``type`` names of an object (JSON-LD allows one or a list); [] if none."""
    if not isinstance(obj, Mapping):
        return []
    return [t for t in as_list(obj.get("type")) if isinstance(t, str)]


def is_public(addr: Any) -> bool:
    """True for the Public collection in any of its spellings."""
    return id_of(addr) in PUBLIC_ALIASES


def _ids(value: Any) -> list[str]:
    return [i for i in (id_of(v) for v in as_list(value)) if i is not None]


def audience_of(obj: Mapping[str, Any]) -> set[str]:
    """Every address an object is delivered to (to, cc, bto, bcc, audience)."""
    found: set[str] = set()
    for name in _ADDRESS_FIELDS:
        found.update(_ids(obj.get(name)))
    return found


def visibility_of(obj: Mapping[str, Any], followers_uri: str | None) -> Visibility:
    """Classify an object's addressing the way Mastodon does.

    Public in ``to`` is public; Public only in ``cc`` is unlisted; the author's
    followers collection addressed (``to`` or ``cc``) is followers-only
    ("private"); anything else reaches only the named actors ("direct").
    Without a known ``followers_uri`` a followers-only post cannot be told
    apart from a direct one, so it is classed as the narrower "direct".
    """
    to = _ids(obj.get("to"))
    cc = _ids(obj.get("cc"))
    if any(is_public(a) for a in to):
        return "public"
    if any(is_public(a) for a in cc):
        return "unlisted"
    if followers_uri is not None and (followers_uri in to or followers_uri in cc):
        return "private"
    return "direct"


def is_activity_json_content_type(ct: str) -> bool:
    """Accept the two media types ActivityPub allows for activities.

    ``application/activity+json`` (any parameters) or ``application/ld+json``
    whose ``profile`` parameter names the ActivityStreams context. Type and
    parameter names are case-insensitive; a profile may list several URIs.
    """
    media_type, _, rest = ct.partition(";")
    media_type = media_type.strip().lower()
    if media_type == ACTIVITY_JSON:
        return True
    if media_type != "application/ld+json":
        return False
    for match in _PARAM.finditer(";" + rest):
        name, value = match.group(1).lower(), match.group(2)
        if name != "profile":
            continue
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if AS_CONTEXT in value.split():
            return True
    return False
