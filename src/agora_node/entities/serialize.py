"""Mastodon's JSON shapes (Account, Status, Notification), for the API and the pages.

Rendering happens in two steps: ``load_*`` runs on a reader thread and
gathers everything a page needs in a fixed number of batched queries
(``Rendering``); the ``*_json`` functions then build plain dicts without
touching the database. Ids are row ids as strings: actors for accounts
(so local and remote accounts share one id space, as in verify_credentials),
objects for statuses, notifications for notifications.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlite_utils

from agora_node.processing import polls
from agora_node.processing.filters import Filters
from agora_node.protocol import builders
from agora_node.protocol.sanitize import html_to_text
from agora_node.store import accounts as accounts_store
from agora_node.store import client_state
from agora_node.store import filters as filters_store
from agora_node.store import media as media_store
from agora_node.store import media_cache as media_cache_store
from agora_node.store import mutes as mutes_store
from agora_node.store import objects as objects_store
from agora_node.store import polls as polls_store
from agora_node.store import relationships as relationships_store
from agora_node.store import statuses as statuses_store
from agora_node.store import timelines as timelines_store
from agora_node.store.accounts import AccountSettings, ActorRow
from agora_node.store.filters import FilterRow, FilterStatusRow, KeywordRow
from agora_node.store.media import MediaRow
from agora_node.store.notifications import NotificationRow
from agora_node.store.objects import ObjectRow
from agora_node.store.timelines import ActorCounts, Page, StatusCounts, TagRow

# Our notification kinds as Mastodon names them; a reply is a mention there.
NOTIFICATION_TYPES = {
    "follow": "follow",
    "follow_request": "follow_request",
    "mention": "mention",
    "reply": "mention",
    "favourite": "favourite",
    "reblog": "reblog",
    "move": "move",
    "status": "status",
    "poll": "poll",
}


def source_text(row: ObjectRow) -> str:
    """What the author typed: the note's plain-text ``source``, else its content as text."""
    source = row.data.get("source") if isinstance(row.data, dict) else None
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        return str(source["content"])
    return html_to_text(row.content)


@functools.lru_cache(maxsize=65536)
def iso(when: float | None) -> str | None:
    """A time as the client API writes it (milliseconds, ``Z``). The same times
    come back page after page (an author's join date, a post's), so they are
    kept: formatting one costs more than looking it up."""
    return builders.iso(when, milliseconds=True)


@dataclass(frozen=True)
class Rendering:
    """What rendering a page of statuses (or notifications) needs, loaded up front."""

    base_url: str
    viewer_uri: str | None
    objects: dict[str, ObjectRow] = field(default_factory=dict)
    actors: dict[str, ActorRow] = field(default_factory=dict)
    actor_counts: dict[str, ActorCounts] = field(default_factory=dict)
    tags: dict[int, list[TagRow]] = field(default_factory=dict)
    counts: dict[str, StatusCounts] = field(default_factory=dict)
    refs: dict[str, tuple[int, str]] = field(default_factory=dict)
    favourited: set[str] = field(default_factory=set)
    reblogged: set[str] = field(default_factory=set)
    bookmarked: set[str] = field(default_factory=set)
    pinned: set[str] = field(default_factory=set)
    muted_threads: set[str] = field(default_factory=set)
    own_votes: dict[str, list[int]] = field(default_factory=dict)
    hidden_totals: set[str] = field(default_factory=set)
    # The uploads attached to local posts, by post.
    media: dict[str, list[MediaRow]] = field(default_factory=dict)
    # Remote media the cache holds a copy of: remote address -> our address.
    cached: dict[str, str] = field(default_factory=dict)
    # The viewer's keyword filters in force for this page's context, if any.
    filters: Filters | None = None

    def media_url(self, remote: str | None) -> str | None:
        """Our copy of a remote file when the cache has one, else its own address."""
        return self.cached.get(remote, remote) if remote else remote


# Who fetches remote media a rendering shows but the cache does not hold, by
# the base URL of the node rendering (set by app.py: federation/media_cache.py).
MEDIA_WANTED: dict[str, Callable[[str], None]] = {}


def _remote_media(db: sqlite_utils.Database, base_url: str, urls: Iterable[str]) -> dict[str, str]:
    """The cache's copies of ``urls`` (our addresses); the others are asked for."""
    wanted = [u for u in dict.fromkeys(urls) if u]
    want = MEDIA_WANTED.get(base_url)
    if not wanted or want is None:
        return {}
    known = media_cache_store.cached_among(db, wanted)
    for url in wanted:
        if url not in known:
            want(url)
    return {u: f"{base_url}/media/{k}" for u, k in known.items() if k}


def _remote_pictures(actors: Iterable[ActorRow]) -> list[str]:
    return [u for a in actors if not a.local for u in (a.avatar_url, a.header_url) if u]


def load_statuses(
    db: sqlite_utils.Database,
    rows: Sequence[ObjectRow],
    viewer_uri: str | None,
    base_url: str,
    *,
    extra_actors: Iterable[str] = (),
    filter_context: str | None = None,
) -> Rendering:
    """Gather boosted posts, authors, tags, counts and the viewer's marks; with a
    ``filter_context`` (``processing/filters.py``), the viewer's filters for it."""
    boosted = [r.boost_of for r in rows if r.boost_of]
    originals = objects_store.get_objects_by_uris(db, boosted) if boosted else {}
    posts = [*rows, *(o for o in originals.values() if not o.is_tombstone)]
    parents = [o.in_reply_to for o in posts if o.in_reply_to]
    content = [o for o in posts if o.boost_of is None]
    tags = timelines_store.tags_of(db, [o.id for o in content])
    mentioned = [t.href for found in tags.values() for t in found if t.kind == "mention" and t.href]
    authors = list(dict.fromkeys([*(o.actor_uri for o in posts), *extra_actors]))
    uris = [o.uri for o in content]
    questions = [o.uri for o in content if o.type == "Question"]
    viewer = viewer_uri if uris else None  # nothing to mark on an empty page
    actors = accounts_store.get_actors_by_uris(db, list(dict.fromkeys(authors + mentioned)))
    remote_files = [
        str(att.get("url"))
        for o in content
        if not o.local
        for att in (o.data.get("attachments") or [])
        if att.get("url")
    ]
    return Rendering(
        base_url,
        viewer_uri,
        objects={o.uri: o for o in posts},
        actors=actors,
        cached=_remote_media(db, base_url, [*remote_files, *_remote_pictures(actors.values())]),
        actor_counts=timelines_store.actor_counts(db, authors),
        tags=tags,
        counts=timelines_store.status_counts(db, uris),
        refs=timelines_store.object_refs(db, parents),
        favourited=timelines_store.liked_among(db, viewer, uris) if viewer else set(),
        reblogged=timelines_store.boosted_among(db, viewer, uris) if viewer else set(),
        bookmarked=client_state.bookmarked_among(db, viewer, uris) if viewer else set(),
        pinned=timelines_store.featured_among(db, viewer, uris) if viewer else set(),
        own_votes=polls_store.own_votes_among(db, viewer, questions) if viewer else {},
        hidden_totals=polls_store.hidden_totals_among(db, questions),
        media=media_store.media_of_posts(
            db, [o.uri for o in content if o.local and "attachment" in o.data]
        ),
        muted_threads=(
            mutes_store.muted_conversations_among(
                db, viewer, [o.conversation or o.uri for o in content]
            )
            if viewer
            else set()
        ),
        filters=_filters_for(db, viewer_uri, filter_context),
    )


def _filters_for(
    db: sqlite_utils.Database, viewer_uri: str | None, context: str | None
) -> Filters | None:
    if viewer_uri is None or context is None:
        return None
    rows = filters_store.active_filters_of_actor(db, viewer_uri, time.time())
    found = Filters(rows, context) if rows else None
    return found or None


def load_notifications(
    db: sqlite_utils.Database,
    rows: Sequence[NotificationRow],
    viewer_uri: str,
    base_url: str,
) -> Rendering:
    """(Filters apply in the ``notifications`` context.)"""
    """Senders, the posts the notifications are about, and ``move`` targets."""
    about = [n.object_uri for n in rows if n.object_uri and n.type != "move"]
    known = objects_store.get_objects_by_uris(db, about) if about else {}
    posts = [o for o in known.values() if not o.is_tombstone]
    targets = [n.object_uri for n in rows if n.object_uri and n.type == "move"]
    senders = [n.from_actor_uri for n in rows]
    return load_statuses(
        db, posts, viewer_uri, base_url, extra_actors=[*senders, *targets],
        filter_context="notifications",
    )  # fmt: skip


def account_rendering(db: sqlite_utils.Database, actor: ActorRow, base_url: str) -> Rendering:
    """What rendering one Account needs (its counts)."""
    return accounts_rendering(db, [actor], base_url)


def accounts_rendering(
    db: sqlite_utils.Database, actors: Sequence[ActorRow], base_url: str
) -> Rendering:
    """What rendering a list of Accounts needs, in a fixed number of queries."""
    counts = timelines_store.actor_counts(db, [a.uri for a in actors])
    return Rendering(
        base_url,
        None,
        actors={a.uri: a for a in actors},
        actor_counts=counts,
        cached=_remote_media(db, base_url, _remote_pictures(actors)),
    )


# -- Account --------------------------------------------------------------------


def account_json(ctx: Rendering, actor: ActorRow) -> dict[str, Any]:
    counts = ctx.actor_counts.get(actor.uri, ActorCounts())
    created = actor.published or actor.fetched_at or 0.0
    moderated: dict[str, Any] = {}  # Mastodon's optional attributes, there only when true
    if actor.suspended_at is not None:
        moderated["suspended"] = True
    if actor.silenced_at is not None:
        moderated["limited"] = True
    return {
        **moderated,
        "id": str(actor.id),
        "username": actor.username,
        "acct": actor.username if actor.local else actor.acct,
        "display_name": actor.display_name,
        "locked": actor.manually_approves,
        "bot": actor.type in ("Service", "Application"),
        "discoverable": actor.discoverable,
        "group": actor.type == "Group",
        "created_at": iso(created),
        "note": actor.summary,
        "url": actor.url or actor.uri,
        "uri": actor.uri,
        **_images(ctx.base_url, ctx.media_url(actor.avatar_url), ctx.media_url(actor.header_url)),
        "followers_count": counts.followers,
        "following_count": counts.following,
        "statuses_count": counts.statuses,
        "last_status_at": day(counts.last_status_at),
        "emojis": [emoji_json(code, url) for code, url in actor.emojis],
        "fields": [
            {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
            for f in actor.fields
        ],
    }


def day(when: float | None) -> str | None:
    """Mastodon gives the last post's day, not its time."""
    if when is None:
        return None
    return datetime.fromtimestamp(when, tz=UTC).date().isoformat()


def load_marked_statuses(
    db: sqlite_utils.Database, kind: str, viewer_uri: str, page: Page, base_url: str
) -> tuple[list[int], list[dict[str, Any]]]:
    """A page of the viewer's bookmarks or favourites (``kind``): the marks' ids, by
    which the list pages, and the posts as Status entities."""
    pairs = statuses_store.posts_marked_by(db, kind, viewer_uri, page)
    rows = [row for _, row in pairs]
    ctx = load_statuses(db, rows, viewer_uri, base_url)
    return [i for i, _ in pairs], statuses_json(ctx, rows)


def load_credential_account(
    db: sqlite_utils.Database, account_id: int, base_url: str
) -> dict[str, Any] | None:
    """The local account's own Account entity, read fresh; None when it is gone."""
    fresh = accounts_store.get_account_by_id(db, account_id)
    actor = fresh.actor if fresh else None
    if actor is None:
        return None
    return credential_account_json(
        account_rendering(db, actor, base_url),
        actor,
        accounts_store.get_account_settings(db, account_id),
        relationships_store.count_follow_requests(db, actor.uri),
    )


def credential_account_json(
    ctx: Rendering, actor: ActorRow, settings: AccountSettings, follow_requests: int
) -> dict[str, Any]:
    """The signed-in person's own Account, with the ``source`` an app edits from."""
    account = account_json(ctx, actor)
    note = settings.note if settings.note is not None else html_to_text(actor.summary)
    return {
        **account,
        "hide_collections": settings.hide_collections,
        "source": {
            "privacy": settings.privacy,
            "sensitive": settings.sensitive,
            "language": settings.language,
            "note": note,
            "fields": [
                {"name": name, "value": value, "verified_at": None}
                for name, value in (
                    settings.fields
                    if settings.fields is not None
                    else [(f["name"], html_to_text(f["value"])) for f in account["fields"]]
                )
            ],
            "follow_requests_count": follow_requests,
        },
    }


def _images(base_url: str, avatar: str | None = None, header: str | None = None) -> dict[str, str]:
    """Avatar and header: apps break on empty strings, so the defaults are real images."""
    avatar = avatar or f"{base_url}/static/avatar.png"
    header = header or f"{base_url}/static/header.png"
    return {"avatar": avatar, "avatar_static": avatar, "header": header, "header_static": header}


def _unknown_account(ctx: Rendering, uri: str) -> dict[str, Any]:
    """Should not happen (timelines only hold known authors), but never crash a page."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    host = uri.split("/")[2] if uri.count("/") >= 2 else ""
    return {
        "id": "0", "username": name, "acct": f"{name}@{host}", "display_name": "",
        "locked": False, "bot": False, "discoverable": False, "group": False,
        "created_at": iso(0.0), "note": "", "url": uri, "uri": uri,
        **_images(ctx.base_url), "followers_count": 0,
        "following_count": 0, "statuses_count": 0, "last_status_at": None, "emojis": [],
        "fields": [],
    }  # fmt: skip


def account_of(ctx: Rendering, uri: str) -> dict[str, Any]:
    actor = ctx.actors.get(uri)
    return account_json(ctx, actor) if actor else _unknown_account(ctx, uri)


# -- Status ---------------------------------------------------------------------


def _media_type(media_type: str | None, kind: str) -> str:
    major = (media_type or "").split("/", 1)[0]
    if major in ("image", "video", "audio"):
        return major  # an animated GIF is an image to apps (their "gifv" is a video)
    return {"Image": "image", "Video": "video", "Audio": "audio"}.get(kind, "unknown")


def aspect(width: int, height: int) -> float:
    return round(width / height, 4)


def _size_meta(width: int | None, height: int | None, **extra: Any) -> dict[str, Any]:
    if not width or not height:
        return {}
    return {"width": width, "height": height, "size": f"{width}x{height}",
            "aspect": aspect(width, height), **extra}  # fmt: skip


def media_json(base_url: str, row: MediaRow) -> dict[str, Any]:
    """Mastodon's MediaAttachment for one of our uploads (``url`` null while it
    is processed)."""
    url = f"{base_url}/media/{row.file_key}" if row.file_key else None
    preview = f"{base_url}/media/{row.preview_key}" if row.preview_key else None
    meta: dict[str, Any] = {}
    if original := _size_meta(row.width, row.height):
        meta["original"] = original
    if small := _size_meta(row.preview_width, row.preview_height):
        meta["small"] = small
    if row.kind == "image":
        meta["focus"] = {"x": row.focus_x, "y": row.focus_y}
    return {
        "id": str(row.id),
        "type": row.kind,
        "url": url,
        "preview_url": preview,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": row.description or None,
        "blurhash": row.blurhash,
    }


def _attachments(ctx: Rendering, obj: ObjectRow) -> list[dict[str, Any]]:
    if obj.local:
        return [media_json(ctx.base_url, m) for m in ctx.media.get(obj.uri, ())]
    out = []
    for index, att in enumerate(obj.data.get("attachments") or []):
        kind = _media_type(att.get("mediaType"), att.get("type") or "")
        meta: dict[str, Any] = {}
        if original := _size_meta(att.get("width"), att.get("height")):
            meta["original"] = original
        focus = att.get("focalPoint")
        if kind == "image" and focus:
            meta["focus"] = {"x": focus[0], "y": focus[1]}
        url = ctx.media_url(att.get("url"))
        out.append(
            {
                "id": str(obj.id * 100 + index),
                "type": kind,
                "url": url,
                "preview_url": url if kind == "image" else None,
                "remote_url": att.get("url"),
                "preview_remote_url": None,
                "text_url": None,
                "meta": meta,
                "description": att.get("name") or None,
                "blurhash": att.get("blurhash") or None,
            }
        )
    return out


def poll_json(ctx: Rendering, obj: ObjectRow) -> dict[str, Any] | None:
    """Mastodon's Poll for a post that carries one (the post's id is the poll's)."""
    view = polls.poll_of(obj)
    if view is None:
        return None
    expired = view.expired(time.time())
    hidden = obj.uri in ctx.hidden_totals and not expired and obj.actor_uri != ctx.viewer_uri
    mine = ctx.own_votes.get(obj.uri)
    body: dict[str, Any] = {
        "id": str(obj.id),
        "expires_at": iso(view.ends_at),
        "expired": expired,
        "multiple": view.multiple,
        "votes_count": sum(view.votes),
        "voters_count": view.voters if view.multiple else sum(view.votes),
        "options": [
            {"title": title, "votes_count": None if hidden else n}
            for title, n in zip(view.options, view.votes, strict=True)
        ],
        "emojis": [],
    }
    if ctx.viewer_uri is not None:
        body["voted"] = bool(mine) or obj.actor_uri == ctx.viewer_uri
        body["own_votes"] = mine or []
    return body


def emoji_json(shortcode: str, url: str) -> dict[str, Any]:
    """Mastodon's CustomEmoji for a remote one (never offered in our picker)."""
    return {"shortcode": shortcode, "url": url, "static_url": url, "visible_in_picker": False}


def _tag_lists(ctx: Rendering, obj: ObjectRow) -> dict[str, list[dict[str, Any]]]:
    mentions, hashtags, emojis = [], [], []
    for tag in ctx.tags.get(obj.id, []):
        if tag.kind == "mention" and tag.href in ctx.actors:
            actor = ctx.actors[tag.href]
            acct = actor.username if actor.local else actor.acct
            url = actor.url or actor.uri
            mentions.append(
                {"id": str(actor.id), "username": actor.username, "url": url, "acct": acct}
            )
        elif tag.kind == "hashtag":
            hashtags.append({"name": tag.name, "url": f"{ctx.base_url}/tags/{quote(tag.name)}"})
        elif tag.kind == "emoji" and tag.href:
            emojis.append(emoji_json(tag.name.strip(":"), tag.href))
    return {"mentions": mentions, "tags": hashtags, "emojis": emojis}


def _reply_ids(ctx: Rendering, obj: ObjectRow) -> tuple[str | None, str | None]:
    ref = ctx.refs.get(obj.in_reply_to or "")
    if ref is None:
        return None, None
    parent_author = ctx.actors.get(ref[1])
    return str(ref[0]), str(parent_author.id) if parent_author else None


def _viewer_marks(ctx: Rendering, obj: ObjectRow) -> dict[str, Any]:
    """Mastodon sends these only to a signed-in viewer."""
    if ctx.viewer_uri is None:
        return {}
    return {
        "favourited": obj.uri in ctx.favourited,
        "reblogged": obj.uri in ctx.reblogged,
        "muted": (obj.conversation or obj.uri) in ctx.muted_threads,
        "bookmarked": obj.uri in ctx.bookmarked,
        "pinned": obj.uri in ctx.pinned,
    }


def _language(obj: ObjectRow) -> str | None:
    """The language the post is written in: the first of its ``contentMap``, if any."""
    content_map = obj.data.get("contentMap")
    if isinstance(content_map, dict):
        for key in content_map:
            if isinstance(key, str) and 0 < len(key) <= 16:
                return key
    return None


def _post_json(ctx: Rendering, obj: ObjectRow) -> dict[str, Any]:
    counts = ctx.counts.get(obj.uri, StatusCounts())
    reply_to, reply_to_account = _reply_ids(ctx, obj)
    edited = obj.updated if obj.updated and obj.updated > obj.published else None
    return {
        "id": str(obj.id),
        "uri": obj.uri,
        "url": obj.url or obj.uri,
        "created_at": iso(obj.published),
        "edited_at": iso(edited),
        "account": account_of(ctx, obj.actor_uri),
        "content": obj.content,
        "spoiler_text": obj.summary,
        "sensitive": obj.sensitive or _sensitized(ctx, obj),
        "visibility": obj.visibility,
        "language": _language(obj),
        "in_reply_to_id": reply_to,
        "in_reply_to_account_id": reply_to_account,
        "reblog": None,
        "application": None,
        "media_attachments": _attachments(ctx, obj),
        **_tag_lists(ctx, obj),
        "card": None,
        "poll": poll_json(ctx, obj),
        "replies_count": counts.replies,
        "reblogs_count": counts.reblogs,
        "favourites_count": counts.favourites,
        "filtered": _filtered(ctx, obj),
        **_viewer_marks(ctx, obj),
    }


def _sensitized(ctx: Rendering, obj: ObjectRow) -> bool:
    """An admin marked the author's media sensitive: a post with media is."""
    author = ctx.actors.get(obj.actor_uri)
    if author is None or author.sensitized_at is None:
        return False
    return bool(ctx.media.get(obj.uri) or obj.data.get("attachments"))


def _filtered(ctx: Rendering, obj: ObjectRow) -> list[dict[str, Any]]:
    """Mastodon's FilterResult list: which of the viewer's filters match the post."""
    if ctx.filters is None or obj.actor_uri == ctx.viewer_uri:
        return []
    return [
        {
            "filter": filter_json(m.filter),
            "keyword_matches": list(m.keywords) or None,
            "status_matches": [str(obj.id)] if m.status_matches else None,
        }
        for m in ctx.filters.matches(obj)
    ]


def hidden_by_filters(ctx: Rendering, obj: ObjectRow) -> bool:
    """A ``hide`` filter of the viewer's matches the post (or the boosted post)."""
    if ctx.filters is None:
        return False
    post = ctx.objects.get(obj.boost_of, obj) if obj.boost_of else obj
    if post.actor_uri == ctx.viewer_uri:
        return False  # one's own posts are never filtered away
    return Filters.hides(ctx.filters.matches(post))


def filter_json(row: FilterRow) -> dict[str, Any]:
    """Mastodon's Filter (v2) with its keywords and posts."""
    return {
        "id": str(row.id),
        "title": row.title,
        "context": list(row.contexts),
        "expires_at": iso(row.expires_at),
        "filter_action": row.action,
        "keywords": [filter_keyword_json(k) for k in row.keywords],
        "statuses": [filter_status_json(s) for s in row.statuses],
    }


def filter_keyword_json(k: KeywordRow) -> dict[str, Any]:
    return {"id": str(k.id), "keyword": k.keyword, "whole_word": k.whole_word}


def filter_status_json(row: FilterStatusRow) -> dict[str, Any]:
    return {"id": str(row.id), "status_id": str(row.object_id or 0)}


def status_json(ctx: Rendering, obj: ObjectRow) -> dict[str, Any] | None:
    """A post, or a boost wrapping the post it boosts (None if that one is gone)."""
    if obj.boost_of is None:
        return _post_json(ctx, obj)
    original = ctx.objects.get(obj.boost_of)
    if original is None or original.is_tombstone:
        return None
    return {
        "id": str(obj.id),
        "uri": obj.uri,
        "url": obj.url or obj.uri,
        "created_at": iso(obj.published),
        "edited_at": None,
        "account": account_of(ctx, obj.actor_uri),
        "content": "",
        "spoiler_text": "",
        "sensitive": False,
        "visibility": obj.visibility,
        "language": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": _post_json(ctx, original),
        "application": None,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "filtered": _filtered(ctx, original),
        **_viewer_marks(ctx, original),
    }


def statuses_json(ctx: Rendering, rows: Sequence[ObjectRow]) -> list[dict[str, Any]]:
    """A list of statuses; those a ``hide`` filter of the viewer's matches are left out."""
    shown = [r for r in rows if not hidden_by_filters(ctx, r)] if ctx.filters else rows
    return [s for s in (status_json(ctx, r) for r in shown) if s is not None]


def notifications_json(ctx: Rendering, rows: Sequence[NotificationRow]) -> list[dict[str, Any]]:
    """Notifications, but those about a post a ``hide`` filter of the viewer's matches."""
    return [
        notification_json(ctx, r)
        for r in rows
        if not (r.object_uri in ctx.objects and hidden_by_filters(ctx, ctx.objects[r.object_uri]))
    ]


# -- Notification ---------------------------------------------------------------


def notification_json(ctx: Rendering, row: NotificationRow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(row.id),
        "type": NOTIFICATION_TYPES.get(row.type, row.type),
        "created_at": iso(row.created_at),
        "account": account_of(ctx, row.from_actor_uri),
    }
    if row.type == "move":
        target = ctx.actors.get(row.object_uri or "")
        body["target"] = account_json(ctx, target) if target else None
    elif row.object_uri and row.object_uri in ctx.objects:
        body["status"] = status_json(ctx, ctx.objects[row.object_uri])
    return body
