"""Follow, like, boost, block, their undoing, and answering follow requests."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.config import Settings
from agora_node.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from agora_node.processing.outbound import OutboundContext, Sent
from agora_node.processing.outbound_notes import Draft, post
from agora_node.processing.outbound_social import (
    accept_follow,
    block,
    boost,
    follow,
    like,
    reject_follow,
    unblock,
    unboost,
    undo,
    unfollow,
    unlike,
)
from agora_node.protocol.validation import validate_activity
from agora_node.store import objects as objects_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.conftest import BASE_URL, DOMAIN, add_account
from tests.processing.conftest import (
    ALICE,
    BOB,
    NOW,
    PUBLIC,
    URLS,
    follow_state,
    local_note,
    notifications,
    process,
    rows,
    tables_snapshot,
)

ADA = f"{BASE_URL}/users/ada"
BEA = f"{BASE_URL}/users/bea"
BOB_NOTE = "https://gts.example/users/bob/statuses/1"


def run(db: Database, action: Any, *args: Any, fetched: dict[str, Any] | None = None) -> Sent:
    ctx = OutboundContext(URLS, DOMAIN, NOW, fetched or {})
    result: Sent = db.write_sync(lambda c: action(c, ctx, *args))
    validate_activity(result.activity)
    return result


def deliveries(db: Database, activity_id: str) -> list[str]:
    return sorted(
        r[0]
        for r in rows(db, "SELECT inbox FROM deliveries WHERE activity_uri = ?", (activity_id,))
    )


def bob_note(**extra: Any) -> dict[str, Any]:
    return {
        "id": BOB_NOTE,
        "type": "Note",
        "attributedTo": BOB,
        "content": "<p>hi</p>",
        "to": [PUBLIC],
        **extra,
    }


@pytest.fixture
def bea(db: Database, settings: Settings) -> AccountRow:
    return add_account(db, settings, "bea")


# -- follows --------------------------------------------------------------------------


def test_follow_a_remote_account(db: Database, ada: AccountRow, bob: dict[str, Any]) -> None:
    sent = run(db, follow, ada, BOB)
    assert sent.activity["type"] == "Follow" and sent.activity["object"] == BOB
    assert deliveries(db, sent.activity_id) == ["https://gts.example/users/bob/inbox"]
    assert follow_state(db, ADA, BOB) == "pending"
    # A repeated request is sent again (the Accept may have been lost)...
    again = run(db, follow, ada, BOB)
    assert deliveries(db, again.activity_id) == ["https://gts.example/users/bob/inbox"]
    # ...and once accepted, it is a conflict.
    process(
        db,
        {
            "id": "https://gts.example/a/1",
            "type": "Accept",
            "actor": BOB,
            "object": again.activity_id,
        },
    )
    assert follow_state(db, ADA, BOB) == "accepted"
    with pytest.raises(Conflict):
        run(db, follow, ada, BOB)
    gone = run(db, unfollow, ada, BOB)
    assert gone.activity["object"]["id"] == again.activity_id
    assert gone.activity["object"]["type"] == "Follow"
    assert deliveries(db, gone.activity_id) == ["https://gts.example/users/bob/inbox"]
    assert follow_state(db, ADA, BOB) is None


def test_follow_a_local_account_answers_at_once(
    db: Database, ada: AccountRow, bea: AccountRow, settings: Settings
) -> None:
    sent = run(db, follow, ada, BEA)
    assert follow_state(db, ADA, BEA) == "accepted"
    assert notifications(db, bea) == [("follow", ADA, None)]
    assert rows(db, "SELECT count(*) FROM deliveries") == [(0,)]
    assert rows(db, "SELECT type FROM activities ORDER BY type") == [("Accept",), ("Follow",)]
    run(db, unfollow, ada, BEA)
    assert follow_state(db, ADA, BEA) is None
    locked = add_account(db, settings, "cy", locked=True)
    run(db, follow, ada, f"{BASE_URL}/users/cy")
    assert follow_state(db, ADA, f"{BASE_URL}/users/cy") == "pending"
    assert notifications(db, locked) == [("follow_request", ADA, None)]
    assert sent.deliveries == 0


def test_follow_refusals(db: Database, ada: AccountRow, bob: dict[str, Any]) -> None:
    before = tables_snapshot(db)
    with pytest.raises(UnprocessableEntity):
        run(db, follow, ada, ADA)
    with pytest.raises(NotFound):
        run(db, follow, ada, "https://unknown.example/users/x")
    with pytest.raises(NotFound):
        run(db, unfollow, ada, BOB)
    assert tables_snapshot(db) == before


def test_accept_and_reject_follow_requests(
    db: Database, settings: Settings, alice: dict[str, Any], bob: dict[str, Any]
) -> None:
    cy = add_account(db, settings, "cy", locked=True)
    cy_uri = f"{BASE_URL}/users/cy"
    for actor in (ALICE, BOB):
        process(
            db, {"id": f"{actor}/follows/1", "type": "Follow", "actor": actor, "object": cy_uri}
        )
    assert follow_state(db, ALICE, cy_uri) == follow_state(db, BOB, cy_uri) == "pending"
    accepted = run(db, accept_follow, cy, ALICE)
    assert accepted.activity["object"]["id"] == f"{ALICE}/follows/1"
    assert deliveries(db, accepted.activity_id) == [f"{ALICE}/inbox"]
    assert follow_state(db, ALICE, cy_uri) == "accepted"
    rejected = run(db, reject_follow, cy, BOB)
    assert rejected.activity["type"] == "Reject"
    assert deliveries(db, rejected.activity_id) == [f"{BOB}/inbox"]
    assert follow_state(db, BOB, cy_uri) is None
    assert [n[0] for n in notifications(db, cy)] == ["follow_request"]
    with pytest.raises(NotFound):
        run(db, accept_follow, cy, BOB)


# -- likes and boosts ---------------------------------------------------------------


def test_like_and_unlike_a_fetched_post(db: Database, ada: AccountRow, bob: dict[str, Any]) -> None:
    liked = run(db, like, ada, BOB_NOTE, fetched={BOB_NOTE: bob_note()})
    assert deliveries(db, liked.activity_id) == ["https://gts.example/users/bob/inbox"]
    assert liked.activity["to"] == [BOB]
    before = tables_snapshot(db)
    with pytest.raises(UnprocessableEntity, match="already liked"):
        run(db, like, ada, BOB_NOTE)
    assert tables_snapshot(db) == before
    undone = run(db, unlike, ada, BOB_NOTE)
    assert undone.activity["object"]["id"] == liked.activity_id
    assert rows(db, "SELECT count(*) FROM likes") == [(0,)]
    with pytest.raises(NotFound):
        run(db, unlike, ada, BOB_NOTE)


def test_like_of_a_local_post_notifies(db: Database, ada: AccountRow, bea: AccountRow) -> None:
    uri = local_note(db, bea, "hello")
    sent = run(db, like, ada, uri)
    assert notifications(db, bea) == [("favourite", ADA, uri)]
    assert sent.deliveries == 0


def test_boost_goes_to_followers_and_author(
    db: Database, ada: AccountRow, alice: dict[str, Any], bob: dict[str, Any]
) -> None:
    db.write_sync(lambda c: social.put_follow(c, ALICE, ADA, None, "accepted", 0))
    sent = run(db, boost, ada, BOB_NOTE, fetched={BOB_NOTE: bob_note()})
    assert sent.activity["to"] == [PUBLIC] and sent.activity["cc"] == [f"{ADA}/followers", BOB]
    assert deliveries(db, sent.activity_id) == [
        "https://gts.example/inbox",
        "https://mastodon.example/inbox",
    ]
    row = db.read_sync(lambda c: objects_store.get_object(c, sent.activity_id))
    assert row is not None and row.local and row.boost_of == BOB_NOTE
    with pytest.raises(UnprocessableEntity):
        run(db, boost, ada, BOB_NOTE)
    undone = run(db, unboost, ada, BOB_NOTE)
    assert undone.activity["object"]["id"] == sent.activity_id
    assert deliveries(db, undone.activity_id) == deliveries(db, sent.activity_id)
    assert db.read_sync(lambda c: objects_store.get_object(c, sent.activity_id)) is None


def test_non_public_posts_cannot_be_boosted(db: Database, ada: AccountRow, bea: AccountRow) -> None:
    private = local_note(db, bea, "secret", visibility="private")
    db.write_sync(lambda c: social.put_follow(c, ADA, BEA, None, "accepted", 0))
    before = tables_snapshot(db)
    with pytest.raises(UnprocessableEntity, match="public"):
        run(db, boost, ada, private)
    assert tables_snapshot(db) == before


def test_posts_one_may_not_see_are_unknown(db: Database, ada: AccountRow, bea: AccountRow) -> None:
    private = local_note(db, bea, "secret", visibility="private")
    direct = local_note(db, bea, "for someone else", visibility="direct")
    before = tables_snapshot(db)
    for uri in (private, direct):
        with pytest.raises(UnprocessableEntity, match="unknown post"):
            run(db, like, ada, uri)
        with pytest.raises(UnprocessableEntity, match="unknown post"):
            run(db, post, ada, Draft("a reply", in_reply_to=uri))
    assert tables_snapshot(db) == before


# -- blocks and undo ------------------------------------------------------------------


def test_block_a_remote_account(db: Database, ada: AccountRow, bob: dict[str, Any]) -> None:
    db.write_sync(lambda c: social.put_follow(c, BOB, ADA, None, "accepted", 0))
    db.write_sync(lambda c: social.put_follow(c, ADA, BOB, None, "accepted", 0))
    sent = run(db, block, ada, BOB)
    assert deliveries(db, sent.activity_id) == ["https://gts.example/users/bob/inbox"]
    assert follow_state(db, BOB, ADA) is None and follow_state(db, ADA, BOB) is None
    private = run(db, post, ada, Draft("after", visibility="private"))
    assert deliveries(db, private.activity_id) == []
    with pytest.raises(Conflict):
        run(db, block, ada, BOB)
    undone = run(db, undo, ada, sent.activity_id)
    assert undone.activity["object"]["type"] == "Block"
    assert rows(db, "SELECT count(*) FROM blocks") == [(0,)]
    with pytest.raises(NotFound):
        run(db, unblock, ada, BOB)


def test_block_a_local_account(db: Database, ada: AccountRow, bea: AccountRow) -> None:
    db.write_sync(lambda c: social.put_follow(c, BEA, ADA, None, "accepted", 0))
    sent = run(db, block, ada, BEA)
    assert sent.deliveries == 0 and follow_state(db, BEA, ADA) is None
    assert db.read_sync(lambda c: social.is_blocked(c, ADA, BEA))


def test_undo_only_ones_own(db: Database, ada: AccountRow, bea: AccountRow) -> None:
    theirs = run(db, follow, bea, ADA)
    with pytest.raises(Forbidden):
        run(db, undo, ada, theirs.activity_id)
    with pytest.raises(NotFound):
        run(db, undo, ada, f"{ADA}/activities/nope")
    note = run(db, post, ada, Draft("x"))
    with pytest.raises(UnprocessableEntity):
        run(db, undo, ada, note.activity_id)
