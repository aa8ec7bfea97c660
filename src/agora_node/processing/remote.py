"""Turn remote ActivityStreams documents into rows we store, cleaned on ingest.

Everything a remote server says is untrusted: HTML is sanitised, names are
made plain, lengths are capped, and only http(s) URIs are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agora_node.protocol.hosts import host_of
from agora_node.protocol.sanitize import sanitize_display_name, sanitize_html
from agora_node.protocol.vocab import ACTOR_TYPES, as_list, id_of, visibility_of

MAX_CONTENT = 100_000
MAX_SUMMARY = 5_000
MAX_NAME = 500
MAX_BIO = 10_000
MAX_TAGS = 100
MAX_FIELDS = 16
NOTE_TYPES = frozenset({"Note", "Article", "Page", "Question", "Video", "Audio", "Image", "Event"})


def parse_time(value: Any, default: float | None = None) -> float | None:
    """An RFC 3339 / ISO 8601 timestamp as epoch seconds (None when absent or bad)."""
    if not isinstance(value, str) or not value:
        return default
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


def _http_uri(value: Any) -> str | None:
    uri = id_of(value)
    if isinstance(uri, str) and uri.startswith(("https://", "http://")) and len(uri) <= 2048:
        return uri
    return None


def _url_of(value: Any) -> str | None:
    """``url`` may be a string, a Link, or a list of them; prefer text/html."""
    candidates = as_list(value)
    for item in candidates:
        if isinstance(item, dict) and item.get("mediaType") == "text/html":
            href = _http_uri(item.get("href"))
            if href:
                return href
    for item in candidates:
        href = _http_uri(item.get("href") if isinstance(item, dict) else item)
        if href:
            return href
    return None


@dataclass(frozen=True)
class ActorRecord:
    """An actor row plus the public keys its document publishes."""

    values: dict[str, Any]
    keys: list[tuple[str, str, str]] = field(default_factory=list)


_SHORTCODE = re.compile(r":?([A-Za-z0-9_]{1,64}):?")


def emojis_of(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """The custom emoji (``tag`` of type ``Emoji``) a document uses: (shortcode, url)."""
    found: dict[str, str] = {}
    for tag in as_list(doc.get("tag"))[:MAX_TAGS]:
        if not isinstance(tag, dict) or tag.get("type") != "Emoji":
            continue
        match = _SHORTCODE.fullmatch(str(tag.get("name", "")))
        icon = tag.get("icon")
        url = _http_uri(icon.get("url")) if isinstance(icon, dict) else None
        if match and url:
            found.setdefault(match.group(1), url)
    return list(found.items())


def actor_record(doc: dict[str, Any], now: float) -> ActorRecord:
    """Row values and keys from an actor document (already validated, id checked)."""
    uri = str(doc["id"])
    host = host_of(uri)
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    types = [t for t in as_list(doc.get("type")) if isinstance(t, str)]
    actor_type = next((t for t in types if t in ACTOR_TYPES), "Person")
    username = doc.get("preferredUsername")
    if not isinstance(username, str) or not username:
        username = uri.rstrip("/").rsplit("/", 1)[-1]
    fields: list[dict[str, str]] = []
    for item in as_list(doc.get("attachment"))[:MAX_FIELDS]:
        if isinstance(item, dict) and item.get("type") == "PropertyValue":
            fields.append(
                {
                    "name": sanitize_display_name(str(item.get("name", "")), 255),
                    "value": sanitize_html(str(item.get("value", ""))[:2000]),
                }
            )
    values: dict[str, Any] = {
        "uri": uri,
        "local": 0,
        "type": actor_type,
        "username": sanitize_display_name(username, 100) or "unknown",
        "host": host,
        "display_name": sanitize_display_name(str(doc.get("name") or ""), 100),
        "summary": sanitize_html(str(doc.get("summary") or "")[:MAX_BIO]),
        "url": _url_of(doc.get("url")),
        "inbox": _http_uri(doc.get("inbox")),
        "outbox": _http_uri(doc.get("outbox")),
        "shared_inbox": _http_uri(endpoints.get("sharedInbox")) if endpoints else None,
        "followers_uri": _http_uri(doc.get("followers")),
        "following_uri": _http_uri(doc.get("following")),
        "featured_uri": _http_uri(doc.get("featured")),
        "manually_approves": int(bool(doc.get("manuallyApprovesFollowers"))),
        "discoverable": int(bool(doc.get("discoverable", True))),
        "also_known_as": [u for u in (_http_uri(v) for v in as_list(doc.get("alsoKnownAs"))) if u][
            :20
        ],
        "moved_to": _http_uri(doc.get("movedTo")),
        "fields": fields,
        "avatar_url": _picture(doc.get("icon")),
        "header_url": _picture(doc.get("image")),
        "emojis": emojis_of(doc),
        "document": doc,
        "fetched_at": now,
        "published": parse_time(doc.get("published")),
        "deleted_at": None,
    }
    keys: list[tuple[str, str, str]] = []
    for key in as_list(doc.get("publicKey")):
        if not isinstance(key, dict):
            continue
        key_id, pem = key.get("id"), key.get("publicKeyPem")
        owner = key.get("owner", uri)
        if isinstance(key_id, str) and isinstance(pem, str) and owner == uri:
            keys.append((key_id, pem, "rsa"))
    return ActorRecord(values, keys)


@dataclass(frozen=True)
class NoteRecord:
    values: dict[str, Any]
    tags: list[tuple[str, str, str | None]]
    mentions: list[str]
    addressed: list[str]


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _content_of(obj: dict[str, Any]) -> str:
    content = obj.get("content")
    if not isinstance(content, str) or not content:
        content_map = obj.get("contentMap")
        if isinstance(content_map, dict):
            content = next((v for v in content_map.values() if isinstance(v, str)), "")
    if (not isinstance(content, str) or not content) and isinstance(
        obj.get("_misskey_content"), str
    ):
        content = "<p>" + obj["_misskey_content"].replace("<", "&lt;") + "</p>"
    return sanitize_html(_text(content, MAX_CONTENT))


def _picture(value: Any) -> str | None:
    """The address of an actor's ``icon`` or ``image`` (an Image, a link, or a
    list of them: the first usable one)."""
    for item in as_list(value)[:5]:
        if isinstance(item, str):
            found = _http_uri(item)
        elif isinstance(item, dict):
            found = _url_of(item.get("url"))
        else:
            found = None
        if found:
            return found
    return None


def _dimension(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 100_000


def note_record(
    obj: dict[str, Any],
    *,
    author_uri: str,
    followers_uri: str | None,
    activity_uri: str | None,
    now: float,
) -> NoteRecord:
    """Row values for a Note / Article / Page / Question, sanitised."""
    types = [t for t in as_list(obj.get("type")) if isinstance(t, str)]
    obj_type = next((t for t in types if t in NOTE_TYPES), "Note")
    content = _content_of(obj)
    name = sanitize_display_name(_text(obj.get("name"), MAX_NAME), MAX_NAME)
    url = _url_of(obj.get("url"))
    if obj_type in ("Article", "Page") and name:
        # Kept as a note: the title and a link to the original lead the content.
        link = f' <a href="{url}">{url}</a>' if url else ""
        content = sanitize_html(f"<p><strong>{name}</strong>{link}</p>") + content
    tags: list[tuple[str, str, str | None]] = []
    mentions: list[str] = []
    for tag in as_list(obj.get("tag"))[:MAX_TAGS]:
        if not isinstance(tag, dict):
            continue
        kind = tag.get("type")
        href = _http_uri(tag.get("href"))
        tag_name = _text(tag.get("name"), 200)
        if kind == "Mention" and href:
            mentions.append(href)
            tags.append(("mention", tag_name, href))
        elif kind == "Hashtag" and tag_name:
            tags.append(("hashtag", tag_name.lstrip("#").lower(), href))
    tags += [("emoji", f":{code}:", url) for code, url in emojis_of(obj)]
    data: dict[str, Any] = {}
    attachments = []
    for att in as_list(obj.get("attachment"))[:20]:
        if isinstance(att, dict) and _http_uri(att.get("url")):
            kept: dict[str, Any] = {
                "type": _text(att.get("type"), 50) or "Document",
                "mediaType": _text(att.get("mediaType"), 100),
                "url": _url_of(att.get("url")),
                "name": sanitize_display_name(_text(att.get("name"), 1500), 1500),
                "blurhash": _text(att.get("blurhash"), 100),
            }
            width, height = att.get("width"), att.get("height")
            if _dimension(width) and _dimension(height):
                kept["width"], kept["height"] = width, height
            focus = att.get("focalPoint")
            if (
                isinstance(focus, list)
                and len(focus) == 2
                and all(isinstance(v, int | float) and -1 <= v <= 1 for v in focus)
            ):
                kept["focalPoint"] = [float(focus[0]), float(focus[1])]
            attachments.append(kept)
    if attachments:
        data["attachments"] = attachments
    if obj_type == "Question":
        key = "anyOf" if obj.get("anyOf") else "oneOf"
        options = []
        for option in as_list(obj.get(key))[:20]:
            if isinstance(option, dict):
                replies = option.get("replies") if isinstance(option.get("replies"), dict) else {}
                total = replies.get("totalItems", 0) if replies else 0
                options.append(
                    {
                        "name": sanitize_display_name(_text(option.get("name"), 200), 200),
                        "votes": total if isinstance(total, int) and total >= 0 else 0,
                    }
                )
        voters = obj.get("votersCount")
        data["poll"] = {
            "multiple": key == "anyOf",
            "options": options,
            "endTime": _text(obj.get("endTime") or obj.get("closed"), 40) or None,
            "voters": voters if isinstance(voters, int) and voters >= 0 else None,
        }
    quote = _http_uri(obj.get("quoteUrl") or obj.get("_misskey_quote") or obj.get("quoteUri"))
    if quote:
        data["quote"] = quote
    if obj_type in ("Article", "Page"):
        data["original_type"] = obj_type
    addressed = sorted(
        {
            a
            for field_name in ("to", "cc", "bto", "bcc", "audience")
            for a in (id_of(v) for v in as_list(obj.get(field_name)))
            if isinstance(a, str)
        }
    )
    values: dict[str, Any] = {
        "uri": str(obj["id"]),
        "type": "Question" if obj_type == "Question" else "Note",
        "actor_uri": author_uri,
        "local": 0,
        "visibility": visibility_of(obj, followers_uri),
        "content": content,
        "summary": sanitize_display_name(_text(obj.get("summary"), MAX_SUMMARY), MAX_SUMMARY),
        "sensitive": int(bool(obj.get("sensitive")) or bool(obj.get("summary"))),
        "name": name if obj_type != "Note" else "",
        "url": url,
        "in_reply_to": _http_uri(obj.get("inReplyTo")),
        "conversation": _http_uri(obj.get("conversation") or obj.get("context")),
        "activity_uri": activity_uri,
        "published": min(parse_time(obj.get("published"), now) or now, now + 300),
        "updated": parse_time(obj.get("updated")),
        "data": data,
    }
    return NoteRecord(values, tags, mentions, addressed)
