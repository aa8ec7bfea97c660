"""Polls, federated as Mastodon does.

A poll is a ``Question`` whose options are ``oneOf`` (one choice) or
``anyOf`` (several), each an object with a ``name`` and its vote count in
``replies.totalItems``; ``endTime`` says when it closes. A vote is a
``Create{Note}`` whose note has the option's ``name``, no content, and
``inReplyTo`` the poll, addressed to the poll's author only. The author's
server counts the votes and sends the new totals to the poll's audience (and
its voters) as an ``Update`` of the Question.

This module holds what both directions need: reading a poll out of a stored
post (``poll_of``, ours or remote), the checks a vote must pass, recording a
vote on one of our polls and sending the new totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from agora_node.errors import UnprocessableEntity
from agora_node.processing.audience import inboxes_for, personal_inboxes
from agora_node.processing.effects import (
    Effects,
    local_account,
    new_activity_id,
    notify,
    send_activity,
)
from agora_node.protocol import builders
from agora_node.protocol.sanitize import sanitize_display_name
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import as_list
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store import polls as polls_store
from agora_node.store.objects import ObjectRow

# Mastodon's limits, announced in the instance's configuration.
MAX_OPTIONS = 4
MAX_OPTION_CHARS = 50
MIN_EXPIRATION = 300
MAX_EXPIRATION = 2_629_746


@dataclass(frozen=True)
class PollDraft:
    """A poll as its author asks for it."""

    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


def checked_draft(poll: PollDraft) -> PollDraft:
    """The draft with its options cleaned (422 when it breaks a limit)."""
    options = tuple(sanitize_display_name(o, MAX_OPTION_CHARS + 1) for o in poll.options)
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise UnprocessableEntity(f"Validation failed: a poll has 2 to {MAX_OPTIONS} options")
    if any(not o for o in options):
        raise UnprocessableEntity("Validation failed: a poll option can't be blank")
    if any(len(o) > MAX_OPTION_CHARS for o in options):
        raise UnprocessableEntity(
            f"Validation failed: a poll option is at most {MAX_OPTION_CHARS} characters"
        )
    if len(set(options)) != len(options):
        raise UnprocessableEntity("Validation failed: poll options must differ")
    if not MIN_EXPIRATION <= poll.expires_in <= MAX_EXPIRATION:
        raise UnprocessableEntity(
            f"Validation failed: a poll runs {MIN_EXPIRATION} to {MAX_EXPIRATION} seconds"
        )
    return PollDraft(options, poll.expires_in, poll.multiple, poll.hide_totals)


def question_fields(poll: PollDraft, now: float) -> dict[str, Any]:
    """What a Note gains to become this poll's Question (no votes yet)."""
    return {
        "anyOf" if poll.multiple else "oneOf": [
            {"type": "Note", "name": o, "replies": {"type": "Collection", "totalItems": 0}}
            for o in poll.options
        ],
        "endTime": builders.iso(now + poll.expires_in),
        "votersCount": 0,
    }


@dataclass(frozen=True)
class PollView:
    options: tuple[str, ...]
    votes: tuple[int, ...]
    multiple: bool
    ends_at: float | None
    voters: int | None

    def expired(self, now: float) -> bool:
        return self.ends_at is not None and self.ends_at <= now


def _time(value: Any) -> float | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def poll_of(obj: ObjectRow) -> PollView | None:
    """The poll a stored post carries, if any: ours keep the Question itself in
    ``data``; a remote one keeps what ``note_record`` took from it."""
    data = obj.data
    remote = data.get("poll")
    if isinstance(remote, dict):
        options = [o for o in remote.get("options") or [] if isinstance(o, dict)]
        voters = remote.get("voters")
        return PollView(
            tuple(str(o.get("name", "")) for o in options),
            tuple(int(o.get("votes", 0)) for o in options),
            bool(remote.get("multiple")),
            _time(remote.get("endTime")),
            voters if isinstance(voters, int) else None,
        )
    if obj.type != "Question" or not obj.local:
        return None
    multiple = bool(data.get("anyOf"))
    options = [
        o for o in as_list(data.get("anyOf" if multiple else "oneOf")) if isinstance(o, dict)
    ]
    votes = []
    for option in options:
        replies = option.get("replies")
        total = replies.get("totalItems", 0) if isinstance(replies, dict) else 0
        votes.append(total if isinstance(total, int) else 0)
    voters = data.get("votersCount")
    return PollView(
        tuple(str(o.get("name", "")) for o in options),
        tuple(votes),
        multiple,
        _time(data.get("endTime")),
        voters if isinstance(voters, int) else None,
    )


def check_vote(
    db: sqlite_utils.Database, poll: ObjectRow, voter_uri: str, choices: Sequence[int], now: float
) -> PollView:
    """The poll, if ``voter_uri`` may cast ``choices`` on it now (422 otherwise)."""
    view = poll_of(poll)
    if view is None or poll.is_tombstone:
        raise UnprocessableEntity("Validation failed: this post has no poll")
    if view.expired(now):
        raise UnprocessableEntity("Validation failed: the poll has already ended")
    if not choices:
        raise UnprocessableEntity("Validation failed: choose at least one option")
    if len(set(choices)) != len(choices) or any(not 0 <= c < len(view.options) for c in choices):
        raise UnprocessableEntity("Validation failed: no such option")
    if len(choices) > 1 and not view.multiple:
        raise UnprocessableEntity("Validation failed: this poll takes one choice")
    if polls_store.choices_of(db, poll.uri, voter_uri):
        raise UnprocessableEntity("Validation failed: you have already voted on this poll")
    return view


def publish_totals(db: sqlite_utils.Database, urls: LocalUrls, poll: ObjectRow, now: float) -> None:
    """Count one of our polls again, keep the counts in its Question, and send the
    Question as an Update to its audience and to its voters' servers."""
    view = poll_of(poll)
    author = local_account(db, poll.actor_uri)
    if view is None or author is None or author.actor is None:
        return
    tally = polls_store.counts(db, poll.uri, len(view.options))
    key = "anyOf" if view.multiple else "oneOf"
    data = dict(poll.data)
    data[key] = [
        {"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": n}}
        for name, n in zip(view.options, tally.votes, strict=True)
    ]
    data["votersCount"] = tally.voters
    objects_store.refresh_object(db, poll.uri, {"data": data})
    to, cc = [str(a) for a in as_list(data.get("to"))], [str(a) for a in as_list(data.get("cc"))]
    update = builders.activity(
        "Update",
        activity_id=new_activity_id(urls, author.username),
        actor=author.actor.uri,
        obj=builders.strip_context(data),
        to=to,
        cc=cc,
        published=now,
    )
    voters = [v for v in polls_store.voters_of(db, poll.uri) if v != author.actor.uri]
    inboxes = [*inboxes_for(db, author.actor, to, cc), *personal_inboxes(db, voters)]
    send_activity(
        db, author, update, inboxes, visibility=poll.visibility, now=now, effects=Effects()
    )


def is_vote(db: sqlite_utils.Database, urls: LocalUrls, obj: dict[str, Any]) -> ObjectRow | None:
    """The poll of ours that ``obj`` votes on, if it is a vote (a named note without
    content, in reply to one of our Questions)."""
    parent = obj.get("inReplyTo")
    if not isinstance(obj.get("name"), str) or obj.get("content") or not isinstance(parent, str):
        return None
    if not urls.is_local(parent):
        return None
    poll = objects_store.get_object(db, parent)
    if poll is None or poll.type != "Question" or not poll.local:
        return None
    return poll


def take_vote(
    db: sqlite_utils.Database,
    urls: LocalUrls,
    poll: ObjectRow,
    voter_uri: str,
    obj: dict[str, Any],
    activity_uri: str,
    now: float,
    eff: Effects,
) -> None:
    """A remote vote on one of our polls: counted once, totals sent out again.

    A vote for an option the poll lacks, after the end, or beyond what the poll
    allows (a second choice on a one-choice poll) is ignored, as peers expect.
    """
    view = poll_of(poll)
    name = str(obj.get("name"))
    if view is None or name not in view.options or view.expired(now):
        eff.outcome = "vote ignored"
        return
    choice = view.options.index(name)
    earlier = polls_store.choices_of(db, poll.uri, voter_uri)
    if choice in earlier or (earlier and not view.multiple):
        eff.outcome = "vote ignored"
        return
    polls_store.add_votes(db, poll.uri, voter_uri, [choice], [activity_uri], now)
    fresh = objects_store.get_object(db, poll.uri)
    if fresh is not None:
        publish_totals(db, urls, fresh, now)
    eff.outcome = "vote counted"


def announce_end(db: sqlite_utils.Database, poll_uri: str, now: float) -> Effects:
    """A poll ended: its author (when local) and every local voter hear of it, as
    Mastodon's "poll" notification (from the poll's author, about the poll)."""
    effects = Effects(outcome="poll ended")
    poll = objects_store.get_object(db, poll_uri)
    if poll is not None and not poll.is_tombstone:
        author = poll.actor_uri
        told = [*([author] if poll.local else []), *polls_store.local_voters_of(db, poll_uri)]
        for actor_uri in dict.fromkeys(told):
            account = accounts_store.get_account_by_actor_uri(db, actor_uri)
            if account is not None and account.deleted_at is None:
                notify(db, account, "poll", author, poll_uri, None, now, effects)
    polls_store.mark_announced(db, poll_uri, now)
    return effects
