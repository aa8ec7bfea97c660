"""A local account's posts: write, edit, delete.

The Note we publish is stored whole in ``objects.data`` (what we serve at
its id and embed in activities); the columns beside it are what queries
need. An edit keeps the previous version in the edit history and goes to
the same audience as the post (plus anyone newly mentioned); a delete
leaves a tombstone behind and goes to that audience too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from agora_node.errors import Forbidden, Gone, NotFound, UnprocessableEntity
from agora_node.processing.audience import (
    addressed,
    addressing,
    inboxes_for,
    local_recipients,
)
from agora_node.processing.effects import Effects, new_activity_id, notify, notify_subscribers
from agora_node.processing.outbound import (
    OutboundContext,
    Sent,
    actor_of,
    known_note,
    new_object_id,
    publish,
)
from agora_node.processing.outbound_text import MentionTarget, RenderedText, render
from agora_node.processing.polls import PollDraft, checked_draft, question_fields
from agora_node.protocol import builders
from agora_node.protocol.sanitize import plain_text, sanitize_display_name
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import AS_CONTEXT, Visibility
from agora_node.store import media as media_store
from agora_node.store import objects as objects_store
from agora_node.store import polls as polls_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow, ActorRow
from agora_node.store.media import MediaRow
from agora_node.store.objects import ObjectRow

MAX_TEXT = 5000
MAX_SUMMARY = 500
MAX_ATTACHMENTS = 4
NOTE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
    },
]


@dataclass(frozen=True)
class Draft:
    """A post as the author wrote it (plain text).

    A surface fills in what the person wrote; ``actions.posts`` resolves the
    mentions and the addressed actors before the transaction (an unresolved
    draft simply mentions nobody).
    """

    text: str
    visibility: Visibility = "public"
    summary: str = ""
    sensitive: bool = False
    in_reply_to: str | None = None
    language: str | None = None
    # acct_key -> actor, for the handles in ``text`` that could be resolved.
    mentions: Mapping[str, MentionTarget] = field(default_factory=dict)
    # Actors addressed without being mentioned in the text (a C2S client's to/cc).
    recipients: tuple[str, ...] = ()
    # A poll makes the post a Question.
    poll: PollDraft | None = None
    # Uploads to attach, in order (the author's own, ready, not on another
    # post); None on an edit keeps the post's attachments as they are.
    media_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class _Body:
    # The plain text as written (kept as the note's ``source``, for editing).
    source: str
    text: RenderedText
    summary: str
    sensitive: bool


def _compose(ctx: OutboundContext, draft: Draft) -> _Body:
    text = plain_text(draft.text)
    summary = sanitize_display_name(draft.summary, MAX_SUMMARY + 1)
    if not text and not summary and not draft.media_ids:
        raise UnprocessableEntity("a post needs some text or an attachment")
    if len(text) > MAX_TEXT:
        raise UnprocessableEntity(f"a post is limited to {MAX_TEXT} characters")
    if len(summary) > MAX_SUMMARY:
        raise UnprocessableEntity(f"a content warning is limited to {MAX_SUMMARY} characters")
    rendered = render(text, draft.mentions, ctx.domain, f"{ctx.urls.base_url}/tags")
    return _Body(text, rendered, summary, draft.sensitive or bool(summary))


def _attachments(
    db: sqlite_utils.Database,
    ctx: OutboundContext,
    account: AccountRow,
    uri: str,
    ids: tuple[int, ...],
) -> list[MediaRow]:
    """The uploads a post takes, checked as Mastodon checks them: the author's
    own, done processing, not on another post; at most four images, or one
    video or audio file alone; described, when the instance asks for it."""
    if len(set(ids)) != len(ids):
        raise UnprocessableEntity("Validation failed: an attachment is named twice")
    if len(ids) > MAX_ATTACHMENTS:
        raise UnprocessableEntity(
            f"Validation failed: a post takes at most {MAX_ATTACHMENTS} attachments"
        )
    found = media_store.media_of_account(db, account.id, ids)
    rows = []
    for media_id in ids:
        row = found.get(media_id)
        if row is None or (row.object_uri is not None and row.object_uri != uri):
            raise UnprocessableEntity(f"Validation failed: no upload {media_id} to attach")
        if row.state != "ready":
            raise UnprocessableEntity(
                f"Validation failed: upload {media_id} is "
                + ("still being processed" if row.state == "processing" else "not usable")
            )
        rows.append(row)
    if ctx.require_alt_text and any(r.kind == "image" and not r.description for r in rows):
        raise UnprocessableEntity(
            "Validation failed: describe every image (alt text): this server asks for it"
        )
    if len(rows) > 1 and any(r.kind in ("video", "audio") for r in rows):
        raise UnprocessableEntity(
            "Validation failed: a video or audio file cannot be attached with anything else"
        )
    return rows


def attachment_documents(urls: LocalUrls, rows: list[MediaRow]) -> list[dict[str, Any]]:
    """The attachments of a note, as Mastodon writes and reads them."""
    docs = []
    for row in rows:
        doc: dict[str, Any] = {
            "type": "Document",
            "mediaType": row.mime,
            "url": urls.media(row.file_key or ""),
            "name": row.description or None,
        }
        if row.blurhash:
            doc["blurhash"] = row.blurhash
        if row.width and row.height:
            doc["width"], doc["height"] = row.width, row.height
        if row.kind == "image":
            doc["focalPoint"] = [row.focus_x, row.focus_y]
        docs.append(doc)
    return docs


def _tags(ctx: OutboundContext, body: _Body) -> list[dict[str, str]]:
    mentions = [
        {"type": "Mention", "href": m.actor_uri, "name": m.name} for m in body.text.mentions
    ]
    hashtags = [
        {"type": "Hashtag", "href": f"{ctx.urls.base_url}/tags/{t}", "name": f"#{t}"}
        for t in body.text.hashtags
    ]
    return mentions + hashtags


def _tag_rows(tags: list[dict[str, str]]) -> list[tuple[str, str, str | None]]:
    """The ``tags`` table rows, shaped as ``note_record`` shapes remote ones."""
    return [
        ("mention", t["name"], t["href"])
        if t["type"] == "Mention"
        else ("hashtag", t["name"].lstrip("#"), t["href"])
        for t in tags
    ]


def _apply_body(
    note: dict[str, Any], ctx: OutboundContext, body: _Body, language: str | None
) -> None:
    note["summary"] = body.summary or None
    note["sensitive"] = body.sensitive
    note["content"] = body.text.html
    note["source"] = {"content": body.source, "mediaType": "text/plain"}
    if language:
        note["contentMap"] = {language: body.text.html}
    else:
        note.pop("contentMap", None)
    note["tag"] = _tags(ctx, body)


def _reach_locals(
    db: sqlite_utils.Database,
    ctx: OutboundContext,
    author: ActorRow,
    note: tuple[int, str, str],
    recipients: list[str],
    mentioned: list[str],
    effects: Effects,
    parent_author: str | None = None,
) -> None:
    """Local accounts among ``recipients``: recorded as recipients and notified.

    ``note`` is (row id, uri, activity uri). The author of the post replied
    to hears of a "reply" unless the text mentions them.
    """
    row_id, uri, activity_uri = note
    accounts = [
        a
        for a in local_recipients(db, ctx.urls, recipients)
        if a.actor and a.actor.uri != author.uri
    ]
    objects_store.set_recipients(db, row_id, [a.actor.uri for a in accounts if a.actor])
    for account in accounts:
        actor_uri = account.actor.uri if account.actor else ""
        kind = "reply" if actor_uri == parent_author and actor_uri not in mentioned else "mention"
        notify(db, account, kind, author.uri, uri, activity_uri, ctx.now, effects)


def post(
    db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, draft: Draft
) -> Sent:
    """Publish a new Note (a reply when ``draft.in_reply_to`` is set)."""
    actor = actor_of(account)
    body = _compose(ctx, draft)
    parent = known_note(db, ctx, draft.in_reply_to, actor) if draft.in_reply_to else None
    mentioned = [m.actor_uri for m in body.text.mentions]
    named = [*mentioned, *draft.recipients, *([parent.actor_uri] if parent else [])]
    recipients = [uri for uri in dict.fromkeys(named) if uri != actor.uri]
    followers = actor.followers_uri or ctx.urls.followers(account.username)
    to, cc = addressing(draft.visibility, followers, recipients)
    uri = new_object_id(ctx.urls, account.username)
    url = f"{ctx.urls.profile_page(account.username)}/{uri.rsplit('/', 1)[-1]}"
    poll = checked_draft(draft.poll) if draft.poll else None
    media = _attachments(db, ctx, account, uri, draft.media_ids or ())
    kind = "Question" if poll else "Note"
    note: dict[str, Any] = {
        "@context": NOTE_CONTEXT,
        "id": uri,
        "type": kind,
        "attributedTo": actor.uri,
        "inReplyTo": parent.uri if parent else None,
        "published": builders.iso(ctx.now),
        "url": url,
        "to": to,
        "cc": cc,
        **(question_fields(poll, ctx.now) if poll else {}),
    }
    _apply_body(note, ctx, body, draft.language)
    if media:
        note["attachment"] = attachment_documents(ctx.urls, media)
    activity_id = new_activity_id(ctx.urls, account.username)
    create = builders.activity(
        "Create", activity_id=activity_id, actor=actor.uri, obj=builders.strip_context(note),
        to=to, cc=cc, published=ctx.now,
    )  # fmt: skip
    row_id = objects_store.insert_object(
        db,
        {
            "uri": uri, "type": kind, "actor_uri": actor.uri, "local": 1,
            "visibility": draft.visibility, "content": body.text.html, "summary": body.summary,
            "sensitive": int(body.sensitive), "url": url,
            "in_reply_to": parent.uri if parent else None,
            "conversation": (parent.conversation or parent.uri) if parent else uri,
            "activity_uri": activity_id, "published": ctx.now, "data": note,
        },
    )  # fmt: skip
    if row_id is None:
        raise UnprocessableEntity("a post with this id exists")
    objects_store.set_tags(db, row_id, _tag_rows(note["tag"]))
    if media:
        media_store.attach(db, uri, [m.id for m in media])
    if poll is not None:
        polls_store.track_end(db, uri, ctx.now + poll.expires_in)
        if poll.hide_totals:
            polls_store.set_hide_totals(db, uri, True)
    effects = Effects(outcome="posted")
    parent_author = parent.actor_uri if parent is not None and parent.local else None
    _reach_locals(
        db, ctx, actor, (row_id, uri, activity_id), recipients, mentioned, effects, parent_author
    )
    notify_subscribers(
        db, actor.uri, (uri, activity_id), draft.visibility,
        parent.actor_uri if parent else None, ctx.now, effects,
    )  # fmt: skip
    inboxes = inboxes_for(db, actor, to, cc)
    return publish(
        db, ctx, account, create, inboxes, visibility=draft.visibility, effects=effects,
        object_id=uri,
    )  # fmt: skip


def own_note(db: sqlite_utils.Database, actor: ActorRow, uri: str) -> ObjectRow:
    """A live post of ``actor``'s (404 unknown, 403 someone else's, 410 deleted)."""
    found = objects_store.get_object(db, uri)
    if found is None or not found.local:
        raise NotFound("no such post")
    if found.actor_uri != actor.uri:
        raise Forbidden("this post is not yours")
    if found.is_tombstone:
        raise Gone("the post was deleted")
    if found.boost_of is not None or found.type not in ("Note", "Question"):
        raise UnprocessableEntity("only a post can be edited or deleted; undo a boost instead")
    return found


def edit(
    db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, uri: str, draft: Draft
) -> Sent:
    """Change a post's text, content warning, sensitivity or poll (not its audience).

    A new poll replaces the old one and its votes, as on Mastodon; a draft
    without a poll keeps the post's poll as it is.
    """
    actor = actor_of(account)
    existing = own_note(db, actor, uri)
    had = media_store.media_of_posts(db, [uri]).get(uri, [])
    keep = tuple(m.id for m in had) if draft.media_ids is None else draft.media_ids
    body = _compose(ctx, replace(draft, media_ids=keep))
    poll = checked_draft(draft.poll) if draft.poll else None
    media = _attachments(db, ctx, account, uri, keep)
    same_media = [(m.id, m.description, m.focus_x, m.focus_y) for m in media] == [
        (m.id, m.description, m.focus_x, m.focus_y) for m in had
    ]
    if poll is None and same_media and (body.text.html, body.summary, body.sensitive) == (
        existing.content, existing.summary, existing.sensitive,
    ):  # fmt: skip
        raise UnprocessableEntity("the post is unchanged")
    to, cc = addressed(existing.data)
    new = [
        m.actor_uri
        for m in body.text.mentions
        if m.actor_uri not in to and m.actor_uri not in cc and m.actor_uri != actor.uri
    ]
    if existing.visibility == "direct":
        to = [*to, *new]
    else:
        cc = [*cc, *new]
    note = {**existing.data, "to": to, "cc": cc, "updated": builders.iso(ctx.now)}
    _apply_body(note, ctx, body, draft.language)
    note.pop("attachment", None)
    if media:
        note["attachment"] = attachment_documents(ctx.urls, media)
    media_store.attach(db, uri, [m.id for m in media])
    changed: dict[str, Any] = {
        "content": body.text.html, "summary": body.summary, "sensitive": int(body.sensitive),
        "data": note, "updated": ctx.now,
    }  # fmt: skip
    if poll is not None:
        for key in ("oneOf", "anyOf"):
            note.pop(key, None)
        note.update(question_fields(poll, ctx.now), type="Question")
        changed["type"] = "Question"
        polls_store.clear_votes(db, uri)
        polls_store.set_hide_totals(db, uri, poll.hide_totals)
        polls_store.track_end(db, uri, ctx.now + poll.expires_in)
    objects_store.update_object(
        db,
        uri,
        changed,
        {
            "content": existing.content, "summary": existing.summary,
            "sensitive": int(existing.sensitive), "name": existing.name,
            "updated": existing.updated or existing.published,
        },
        ctx.now,
    )  # fmt: skip
    objects_store.set_tags(db, existing.id, _tag_rows(note["tag"]))
    activity_id = new_activity_id(ctx.urls, account.username)
    effects = Effects(outcome="edited")
    _reach_locals(db, ctx, actor, (existing.id, uri, activity_id), new, new, effects)
    update = builders.activity(
        "Update", activity_id=activity_id, actor=actor.uri, obj=builders.strip_context(note),
        to=to, cc=cc, published=ctx.now,
    )  # fmt: skip
    inboxes = inboxes_for(db, actor, to, cc)
    return publish(
        db, ctx, account, update, inboxes, visibility=existing.visibility, effects=effects,
        object_id=uri,
    )  # fmt: skip


def delete(db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, uri: str) -> Sent:
    """Delete a post: a tombstone stays, a Delete goes to the post's audience."""
    actor = actor_of(account)
    existing = own_note(db, actor, uri)
    to, cc = addressed(existing.data)
    inboxes = inboxes_for(db, actor, to, cc)
    objects_store.tombstone_object(db, uri, actor.uri, ctx.now)
    social.delete_notifications_for_object(db, uri, actor.uri)
    activity = builders.activity(
        "Delete", activity_id=new_activity_id(ctx.urls, account.username), actor=actor.uri,
        obj={"id": uri, "type": "Tombstone"}, to=to, cc=cc, published=ctx.now,
    )  # fmt: skip
    return publish(
        db, ctx, account, activity, inboxes, visibility=existing.visibility,
        effects=Effects(outcome="deleted"), object_id=uri,
    )  # fmt: skip
