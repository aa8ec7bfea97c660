"""Builders for the JSON documents we publish (actors, collections, activities).

Pure functions: they take plain values and return dicts ready for JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agora_node.protocol.vocab import AS_CONTEXT as AS
from agora_node.protocol.vocab import DATA_INTEGRITY_CONTEXT as DATA_INTEGRITY
from agora_node.protocol.vocab import PUBLIC as PUBLIC
from agora_node.protocol.vocab import SECURITY_CONTEXT as SEC

ACTOR_CONTEXT: list[Any] = [
    AS,
    SEC,
    DATA_INTEGRITY,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "suspended": "toot:suspended",
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]


def iso(ts: float | None, *, milliseconds: bool = False) -> str | None:
    """RFC 3339 UTC timestamp, as Mastodon writes them: whole seconds in
    ActivityPub documents, milliseconds in its client API."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    if milliseconds:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_document(
    *,
    uri: str,
    actor_type: str,
    username: str,
    display_name: str,
    summary_html: str,
    url: str,
    published: float | None,
    inbox: str,
    outbox: str,
    followers: str,
    following: str,
    featured: str,
    shared_inbox: str,
    manually_approves: bool,
    discoverable: bool,
    rsa_key_id: str,
    rsa_public_pem: str,
    ed25519_key_id: str | None = None,
    ed25519_multibase: str | None = None,
    also_known_as: tuple[str, ...] = (),
    moved_to: str | None = None,
    fields: tuple[dict[str, str], ...] = (),
    suspended: bool = False,
    icon: str | None = None,
    image: str | None = None,
) -> dict[str, Any]:
    """A local actor. A ``suspended`` one keeps what identifies it (id, keys,
    inbox) and says ``suspended``, its profile left out, as Mastodon serves one."""
    if suspended:
        display_name, summary_html, discoverable, fields = "", "", False, ()
        icon = image = None
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": uri,
        "type": actor_type,
        "preferredUsername": username,
        "name": display_name,
        "summary": summary_html,
        "url": url,
        "inbox": inbox,
        "outbox": outbox,
        "followers": followers,
        "following": following,
        "featured": featured,
        "endpoints": {"sharedInbox": shared_inbox},
        "manuallyApprovesFollowers": manually_approves,
        "discoverable": discoverable,
        "indexable": discoverable,
        "publicKey": {"id": rsa_key_id, "owner": uri, "publicKeyPem": rsa_public_pem},
    }
    if published is not None:
        doc["published"] = iso(published)
    if ed25519_key_id and ed25519_multibase:
        doc["assertionMethod"] = [
            {
                "id": ed25519_key_id,
                "type": "Multikey",
                "controller": uri,
                "publicKeyMultibase": ed25519_multibase,
            }
        ]
    if also_known_as:
        doc["alsoKnownAs"] = list(also_known_as)
    if moved_to:
        doc["movedTo"] = moved_to
    if fields:
        doc["attachment"] = [
            {"type": "PropertyValue", "name": f["name"], "value": f["value"]} for f in fields
        ]
    pictures: dict[str, str | None] = {"icon": icon, "image": image}
    for key, picture in pictures.items():
        if picture:
            doc[key] = {"type": "Image", "mediaType": _image_type(picture), "url": picture}
    if suspended:
        doc["suspended"] = True
    return doc


def _image_type(url: str) -> str:
    ext = url.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "gif": "image/gif", "webp": "image/webp"}.get(ext, "image/jpeg")


def tombstone(
    uri: str, former_type: str | None = None, deleted: float | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {"@context": AS, "id": uri, "type": "Tombstone"}
    if former_type:
        doc["formerType"] = former_type
    if deleted is not None:
        doc["deleted"] = iso(deleted)
    return doc


def ordered_collection(
    uri: str, total: int, first: str | None, last: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS,
        "id": uri,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    if last is not None:
        doc["last"] = last
    return doc


def ordered_collection_page(
    uri: str,
    part_of: str,
    items: list[Any],
    total: int,
    next_uri: str | None,
    prev_uri: str | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS,
        "id": uri,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "totalItems": total,
        "orderedItems": items,
    }
    if next_uri:
        doc["next"] = next_uri
    if prev_uri:
        doc["prev"] = prev_uri
    return doc


def activity(
    activity_type: str,
    *,
    activity_id: str,
    actor: str,
    obj: Any,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    published: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A generic activity with addressing; ``obj`` may be a URI or an object."""
    doc: dict[str, Any] = {
        "@context": AS,
        "id": activity_id,
        "type": activity_type,
        "actor": actor,
        "object": obj,
    }
    if to:
        doc["to"] = to
    if cc:
        doc["cc"] = cc
    if published is not None:
        doc["published"] = iso(published)
    doc.update(extra)
    return doc


def strip_context(doc: dict[str, Any]) -> dict[str, Any]:
    """An embedded copy of a document: the same without its ``@context``."""
    return {k: v for k, v in doc.items() if k != "@context"}
