"""Follows, blocks, mutes, favourites and boosts, and undoing each, from any surface.

Each action resolves what it names (an account by handle or id, a post not
yet known here) and then runs the matching transaction of
``processing.outbound_social``. Accounts may be named by id or by handle
(``@user@host``, ``acct:user@host``); posts by id.
"""

from __future__ import annotations

import re

import sqlite_utils

from agora_node.actions.caller import Caller
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing import outbound_social
from agora_node.processing.outbound import Sent
from agora_node.store import moderation as moderation_store
from agora_node.store import mutes, relationships
from agora_node.store import objects as objects_store
from agora_node.store import social as social_store
from agora_node.store import timelines as timelines_store
from agora_node.store.accounts import ActorRow

# The longest private note on an account, in characters (Mastodon's limit).
MAX_NOTE = 2000


def is_handle(name: str) -> bool:
    """An account named by handle rather than by its http(s) id."""
    return not name.startswith(("https://", "http://"))


async def account_named(caller: Caller, name: str) -> ActorRow:
    """The actor behind an id or a handle, fetched and stored if new."""
    if is_handle(name):
        return await caller.resolver.actor_by_handle(name)
    return await caller.resolver.actor_by_uri(name)


async def follow(caller: Caller, account: str) -> Sent:
    return await caller.write(outbound_social.follow, (await account_named(caller, account)).uri)


async def follow_options(
    caller: Caller, account: str, *, reblogs: bool | None, notify: bool | None
) -> None:
    """What the caller wants of following ``account``: its boosts at home, and a
    notification for each of its new posts (private: nothing is sent)."""
    target, me = await _known_uri(caller, account), caller.actor_uri
    await caller.db.write(
        lambda c: social_store.set_follow_options(
            c, me, target, show_reblogs=reblogs, notify=notify
        )
    )


async def block(caller: Caller, account: str) -> Sent:
    return await caller.write(outbound_social.block, (await account_named(caller, account)).uri)


async def _known_uri(caller: Caller, account: str) -> str:
    """An account to stop following or blocking: a handle is looked up, an id used as is."""
    return (await caller.resolver.actor_by_handle(account)).uri if is_handle(account) else account


async def unfollow(caller: Caller, account: str) -> Sent:
    return await caller.write(outbound_social.unfollow, await _known_uri(caller, account))


async def unblock(caller: Caller, account: str) -> Sent:
    return await caller.write(outbound_social.unblock, await _known_uri(caller, account))


async def mute(
    caller: Caller, account: str, *, notifications: bool = True, duration: float | None = None
) -> None:
    """Stop seeing an account's posts (and, with ``notifications``, hearing from it),
    for ``duration`` seconds or until unmuted. Private: nothing is sent."""
    if duration is not None and duration < 0:
        raise UnprocessableEntity("Validation failed: duration must not be negative")
    target = (await account_named(caller, account)).uri
    if target == caller.actor_uri:
        raise UnprocessableEntity("Validation failed: that is your own account")
    me, now = caller.actor_uri, caller.now
    expires_at = now + duration if duration else None
    await caller.db.write(
        lambda c: mutes.put_mute(
            c, me, target, notifications=notifications, expires_at=expires_at, now=now
        )
    )


async def unmute(caller: Caller, account: str) -> None:
    target, me = await _known_uri(caller, account), caller.actor_uri
    await caller.db.write(lambda c: mutes.delete_mute(c, me, target))


async def note_on(caller: Caller, account: str, comment: str) -> None:
    """Keep a private note on an account (an empty one removes it)."""
    if len(comment) > MAX_NOTE:
        raise UnprocessableEntity(f"Validation failed: a note is at most {MAX_NOTE} characters")
    target, me, now = await _known_uri(caller, account), caller.actor_uri, caller.now
    await caller.db.write(lambda c: relationships.set_note(c, me, target, comment, now))


async def favourite(caller: Caller, post: str) -> Sent:
    doc = await caller.resolver.unknown_post(post)
    return await caller.write(outbound_social.like, post, {post: doc} if doc else None)


async def unfavourite(caller: Caller, post: str) -> Sent:
    return await caller.write(outbound_social.unlike, post)


async def boost(caller: Caller, post: str) -> Sent:
    doc = await caller.resolver.unknown_post(post)
    return await caller.write(outbound_social.boost, post, {post: doc} if doc else None)


async def unboost(caller: Caller, post: str) -> Sent:
    return await caller.write(outbound_social.unboost, post)


# A mark on a post: (the action that sets or clears it, whether it sets it).
_MARKS = {
    "favourite": (favourite, True),
    "unfavourite": (unfavourite, False),
    "reblog": (boost, True),
    "unreblog": (unboost, False),
}
MARKS = frozenset(_MARKS)


def _boosting(kind: str) -> bool:
    return kind in ("reblog", "unreblog")


async def current_mark(caller: Caller, kind: str, post: str) -> str | None:
    """The caller's boost of ``post`` (its uri), or ``post`` when favourited by them."""
    me = caller.actor_uri

    def read(c: sqlite_utils.Database) -> str | None:
        if _boosting(kind):
            return objects_store.boost_of_by_actor(c, me, post)
        return post if timelines_store.liked_among(c, me, [post]) else None

    return await caller.db.read(read)


async def set_mark(caller: Caller, kind: str, post: str) -> bool:
    """Favourite or boost ``post`` (or undo it) unless it already is so; whether it changed."""
    action, wanted = _MARKS[kind]
    if (await current_mark(caller, kind, post) is not None) == wanted:
        return False
    await action(caller, post)
    return True


async def follower_of_request(caller: Caller, follow_id: str) -> str:
    """The account that sent the follow request ``follow_id`` to the caller."""
    row = await caller.db.read(lambda db: objects_store.get_activity_row(db, follow_id))
    if row is None or row[0] != "Follow" or row[2] != caller.actor_uri:
        raise NotFound("no follow request with this id")
    return str(row[1])


async def own_activity(caller: Caller, activity_id: str) -> tuple[str, str | None] | None:
    """(type, object) of one of the caller's activities, None if it is not theirs."""
    row = await caller.db.read(lambda db: objects_store.get_activity_row(db, activity_id))
    if row is None or row[1] != caller.actor_uri:
        return None
    return row[0], row[2]


async def accept_follower(caller: Caller, follower_uri: str) -> Sent:
    return await caller.write(outbound_social.accept_follow, follower_uri)


async def reject_follower(caller: Caller, follower_uri: str) -> Sent:
    """Refuse a follow request, or remove an accepted follower."""
    return await caller.write(outbound_social.reject_follow, follower_uri)


async def answer_request(caller: Caller, follower_uri: str, *, accept: bool) -> Sent:
    """Approve or refuse a pending follow request from ``follower_uri``."""
    me = caller.actor_uri
    facts = await caller.db.read(lambda c: relationships.standings(c, me, [follower_uri]))
    if not facts[follower_uri].requested_by:
        raise NotFound("Record not found")
    return await (accept_follower if accept else reject_follower)(caller, follower_uri)


async def undo(caller: Caller, activity_id: str) -> Sent:
    """Undo one of the caller's activities, named by its id."""
    return await caller.write(outbound_social.undo, activity_id)


UNDO_BY_TARGET = {
    "Follow": unfollow,
    "Like": unfavourite,
    "Announce": unboost,
    "Block": unblock,
}


# -- one's own domain blocks --------------------------------------------------------------

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?")


def checked_domain(raw: str, own: str) -> str:
    """A server's host name as blocks name it (lower case, no scheme, path or dot)."""
    domain = raw.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/.")
    if not _DOMAIN.fullmatch(domain):
        raise UnprocessableEntity("Validation failed: domain must be a server's host name")
    if domain == own.lower():
        raise UnprocessableEntity("Validation failed: this server cannot be blocked from itself")
    return domain


async def block_domain(caller: Caller, raw: str) -> None:
    """Hide everything from one server: its accounts leave one's timelines and
    notifications; one stops following them and they stop following one (each
    told, as by an unfollow and a removal), as on Mastodon."""
    domain = checked_domain(raw, caller.domain)
    me = caller.actor_uri
    await caller.db.write(lambda c: moderation_store.put_domain_block(c, me, domain, caller.now))
    followed, followers = await caller.db.read(
        lambda c: moderation_store.relations_on_domain(c, me, domain)
    )
    for uri in followed:
        await unfollow(caller, uri)
    for uri in followers:
        await reject_follower(caller, uri)


async def unblock_domain(caller: Caller, raw: str) -> None:
    domain = checked_domain(raw, caller.domain)
    me = caller.actor_uri
    await caller.db.write(lambda c: moderation_store.delete_domain_block(c, me, domain))
