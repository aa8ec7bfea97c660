"""A local account's public profile: its actor document, and changing it.

``local_actor_document`` is what peers fetch at the actor's id and what an
``Update`` carries when the profile changes. ``update_profile`` checks and
applies a change from any surface (the Mastodon API's update_credentials,
the web settings page), stores the posting defaults that go with it, and
tells every server with a follower, as Mastodon does, with an
``Update{Person}`` to their (shared) inboxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.errors import UnprocessableEntity
from agora_node.processing.effects import Effects, new_activity_id
from agora_node.processing.outbound import OutboundContext, Sent, publish
from agora_node.processing.outbound_text import render
from agora_node.protocol import builders
from agora_node.protocol.keys import ed25519_pem_to_multibase
from agora_node.protocol.sanitize import sanitize_display_name
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import PUBLIC, VISIBILITIES
from agora_node.store import accounts as accounts_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow, AccountSettings

# Mastodon's limits on a profile.
MAX_DISPLAY_NAME = 30
MAX_NOTE = 500
MAX_FIELDS = 4
MAX_FIELD_TEXT = 255
MAX_LANGUAGE = 16


def local_actor_document(
    db: sqlite_utils.Database, urls: LocalUrls, account: AccountRow
) -> dict[str, Any]:
    """The ActivityPub document of a local account, as it stands in the database."""
    actor = account.actor
    assert actor is not None
    username = account.username
    rsa = accounts_store.get_public_key(db, urls.main_key(username))
    ed = accounts_store.get_public_key(db, urls.ed25519_key(username))
    ed_pem = ed.public_key_pem if ed else ""
    return builders.actor_document(
        uri=actor.uri,
        actor_type=actor.type,
        username=actor.username,
        display_name=actor.display_name,
        summary_html=actor.summary,
        url=actor.url or urls.profile_page(username),
        published=actor.published,
        inbox=urls.inbox(username),
        outbox=urls.outbox(username),
        followers=urls.followers(username),
        following=urls.following(username),
        featured=urls.featured(username),
        shared_inbox=urls.shared_inbox,
        manually_approves=actor.manually_approves,
        discoverable=actor.discoverable,
        rsa_key_id=urls.main_key(username),
        rsa_public_pem=rsa.public_key_pem if rsa else "",
        ed25519_key_id=urls.ed25519_key(username) if ed_pem else None,
        ed25519_multibase=ed25519_pem_to_multibase(ed_pem) if ed_pem else None,
        also_known_as=actor.also_known_as,
        moved_to=actor.moved_to,
        fields=actor.fields,
        suspended=actor.suspended_at is not None,
        icon=actor.avatar_url,
        image=actor.header_url,
    )


def send_profile(
    db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, outcome: str
) -> Sent:
    """Tell the followers' servers what the account's actor document says now
    (an Update of the actor: after a profile change, a suspension or its end)."""
    fresh = accounts_store.get_account_by_id(db, account.id)
    assert fresh is not None and fresh.actor is not None
    urls = ctx.urls
    update = builders.activity(
        "Update",
        activity_id=new_activity_id(urls, account.username),
        actor=fresh.actor.uri,
        obj=builders.strip_context(local_actor_document(db, urls, fresh)),
        to=[PUBLIC],
        cc=[urls.followers(account.username)],
        published=ctx.now,
    )
    inboxes = social.follower_inboxes(db, fresh.actor.uri)
    return publish(
        db, ctx, fresh, update, inboxes, visibility="public", effects=Effects(outcome=outcome)
    )


@dataclass(frozen=True)
class ProfileChange:
    """What to change; ``None`` leaves a part as it is."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    fields: tuple[tuple[str, str], ...] | None = None
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    hide_collections: bool | None = None


def _checked(change: ProfileChange) -> ProfileChange:
    def too_long(what: str, text: str | None, limit: int) -> None:
        if text is not None and len(text) > limit:
            raise UnprocessableEntity(f"Validation failed: {what} is over {limit} characters")

    too_long("display name", change.display_name, MAX_DISPLAY_NAME)
    too_long("note", change.note, MAX_NOTE)
    too_long("language", change.language, MAX_LANGUAGE)
    if change.fields is not None:
        if len(change.fields) > MAX_FIELDS:
            raise UnprocessableEntity(f"Validation failed: at most {MAX_FIELDS} profile fields")
        for name, value in change.fields:
            too_long("a field's name", name, MAX_FIELD_TEXT)
            too_long("a field's value", value, MAX_FIELD_TEXT)
    if change.privacy is not None and change.privacy not in VISIBILITIES:
        raise UnprocessableEntity(
            f"Validation failed: privacy must be one of {', '.join(VISIBILITIES)}"
        )
    return change


def _inline(html: str) -> str:
    """A field's value as Mastodon gives it: its one line of HTML, no paragraph."""
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        return html[3:-4]
    return html


def update_profile(
    db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, change: ProfileChange
) -> Sent | None:
    """Apply ``change`` (422 when it breaks a limit) and send the new actor out
    (None when only the posting defaults changed: nothing to tell)."""
    actor = account.actor
    assert actor is not None
    _checked(change)
    urls, domain = ctx.urls, ctx.domain
    tag_base = f"{urls.base_url}/tags"
    values: dict[str, Any] = {}
    if change.display_name is not None:
        values["display_name"] = sanitize_display_name(change.display_name, MAX_DISPLAY_NAME)
    if change.note is not None:
        values["summary"] = render(change.note, {}, domain, tag_base).html
    if change.locked is not None:
        values["manually_approves"] = int(change.locked)
    if change.bot is not None:
        values["type"] = "Service" if change.bot else "Person"
    if change.discoverable is not None:
        values["discoverable"] = int(change.discoverable)
    kept = None
    if change.fields is not None:
        kept = tuple((n, v) for n, v in change.fields if n.strip() or v.strip())
        values["fields"] = [
            {
                "name": sanitize_display_name(n, MAX_FIELD_TEXT),
                "value": _inline(render(v, {}, domain, tag_base).html),
            }
            for n, v in kept
        ]
    accounts_store.set_account_profile(db, account.id, values)
    settings = accounts_store.get_account_settings(db, account.id)
    accounts_store.put_account_settings(
        db,
        account.id,
        AccountSettings(
            privacy=change.privacy if change.privacy is not None else settings.privacy,
            sensitive=change.sensitive if change.sensitive is not None else settings.sensitive,
            language=change.language if change.language is not None else settings.language,
            note=change.note if change.note is not None else settings.note,
            fields=kept if kept is not None else settings.fields,
            hide_collections=(
                change.hide_collections
                if change.hide_collections is not None
                else settings.hide_collections
            ),
        ),
    )
    if not values:
        return None
    return send_profile(db, ctx, account, "updated")
