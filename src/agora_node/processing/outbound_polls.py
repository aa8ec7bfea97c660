"""Voting in a poll, ours or a remote one (see ``processing.polls`` for the protocol)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from agora_node.errors import NotFound
from agora_node.processing import polls
from agora_node.processing.effects import Effects, new_activity_id
from agora_node.processing.outbound import OutboundContext, Sent, actor_of, new_object_id
from agora_node.processing.outbound_social import send_direct
from agora_node.protocol import builders
from agora_node.store import objects as objects_store
from agora_node.store import polls as polls_store
from agora_node.store.accounts import AccountRow


def vote(
    db: sqlite_utils.Database,
    ctx: OutboundContext,
    account: AccountRow,
    ballot: tuple[str, Sequence[int]],
) -> Sent | None:
    """Cast ``ballot`` (the poll's uri, the chosen option indexes).

    On one of our polls the vote is counted here and the new totals go out;
    on a remote poll each choice goes to the poll's author as a named note
    (the Sent of the last one is returned) and is remembered as one's own.
    """
    actor = actor_of(account)
    poll_uri, choices = ballot
    poll = objects_store.get_object(db, poll_uri)
    if poll is None:
        raise NotFound("Record not found")
    view = polls.check_vote(db, poll, actor.uri, choices, ctx.now)
    if view.ends_at is not None:  # the voter hears when it ends
        polls_store.track_end(db, poll.uri, view.ends_at)
    if poll.local:
        polls_store.add_votes(db, poll.uri, actor.uri, choices, [None] * len(choices), ctx.now)
        fresh = objects_store.get_object(db, poll.uri)
        if fresh is not None:
            polls.publish_totals(db, ctx.urls, fresh, ctx.now)
        return None
    sent: Sent | None = None
    activities: list[str] = []
    for choice in choices:
        note = {
            "id": new_object_id(ctx.urls, account.username),
            "type": "Note",
            "attributedTo": actor.uri,
            "name": view.options[choice],
            "inReplyTo": poll.uri,
            "to": [poll.actor_uri],
            "cc": [],
        }
        create = builders.activity(
            "Create", activity_id=new_activity_id(ctx.urls, account.username), actor=actor.uri,
            obj=note, to=[poll.actor_uri], cc=[], published=ctx.now,
        )  # fmt: skip
        sent = send_direct(db, ctx, account, create, [poll.actor_uri], Effects(), None)
        activities.append(create["id"])
    polls_store.add_votes(db, poll.uri, actor.uri, choices, activities, ctx.now)
    return sent
