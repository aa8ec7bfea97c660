"""Inbound Follow, Accept, Reject and Undo of a Follow."""

from __future__ import annotations

import json
from typing import Any

from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.conftest import add_account
from tests.processing.conftest import (
    BOB,
    NOW,
    follow_state,
    local,
    notifications,
    payload,
    process,
    retarget,
    rows,
    store_actor,
    tables_snapshot,
)

FOLLOW_ID = "https://gts.example/users/bob/follow/01JD5Q8W6K3N2M1P0R9S8T7V6X"


def follow(
    follower: str = BOB, followee: str = "ada", follow_id: str = FOLLOW_ID
) -> dict[str, Any]:
    doc = retarget(payload("gts_follow.json"))
    doc.update(id=follow_id, actor=follower, object=local(followee))
    return doc


def answers(db: Database, kind: str) -> list[dict[str, Any]]:
    """Local activities of ``kind`` we queued, with their delivery inboxes."""
    found = []
    for uri, data, is_local in rows(
        db, "SELECT uri, data, local FROM activities WHERE type = ? ORDER BY id", (kind,)
    ):
        inboxes = [
            r[0] for r in rows(db, "SELECT inbox FROM deliveries WHERE activity_uri = ?", (uri,))
        ]
        found.append({"uri": uri, "doc": json.loads(data), "local": is_local, "inboxes": inboxes})
    return found


def test_follow_of_an_open_account_is_accepted(db: Database, ada: AccountRow, bob: Any) -> None:
    effects = process(db, follow())

    assert effects.outcome == "accepted"
    assert follow_state(db, BOB, local("ada")) == "accepted"
    assert notifications(db, ada) == [("follow", BOB, None)]
    [accept] = answers(db, "Accept")
    assert accept["local"] == 1
    assert accept["inboxes"] == [f"{BOB}/inbox"]
    assert accept["doc"]["actor"] == local("ada")
    assert accept["doc"]["object"]["id"] == FOLLOW_ID
    assert accept["uri"].startswith(local("ada") + "/activities/")
    assert effects.deliveries == 1 and effects.notifications == 1


def test_follow_of_a_locked_account_waits_for_approval(
    db: Database, settings: Any, bob: Any
) -> None:
    cleo = add_account(db, settings, "cleo", locked=True)

    effects = process(db, follow(followee="cleo"))

    assert effects.outcome == "pending"
    assert follow_state(db, BOB, local("cleo")) == "pending"
    assert notifications(db, cleo) == [("follow_request", BOB, None)]
    assert answers(db, "Accept") == []
    assert rows(db, "SELECT count(*) FROM deliveries") == [(0,)]

    # A second request (new id) while pending neither notifies again nor accepts.
    process(db, follow(followee="cleo", follow_id=FOLLOW_ID + "-again"))
    assert notifications(db, cleo) == [("follow_request", BOB, None)]
    assert follow_state(db, BOB, local("cleo")) == "pending"


def test_follow_from_a_blocked_actor_is_rejected(db: Database, ada: AccountRow, bob: Any) -> None:
    assert ada.actor is not None
    db.write_sync(lambda c: social.put_block(c, ada.actor.uri, BOB, None, NOW))  # type: ignore[union-attr]

    effects = process(db, follow())

    assert effects.outcome == "rejected (blocked)"
    assert follow_state(db, BOB, local("ada")) is None
    assert notifications(db, ada) == []
    assert answers(db, "Accept") == []
    [reject] = answers(db, "Reject")
    assert reject["inboxes"] == [f"{BOB}/inbox"]
    assert reject["doc"]["object"]["id"] == FOLLOW_ID


def test_repeated_follow_when_accepted_resends_accept_only(
    db: Database, ada: AccountRow, bob: Any
) -> None:
    process(db, follow())
    effects = process(db, follow(follow_id=FOLLOW_ID + "/2"))

    assert effects.outcome == "accepted"
    assert notifications(db, ada) == [("follow", BOB, None)]
    accepts = answers(db, "Accept")
    assert len(accepts) == 2
    assert accepts[1]["doc"]["object"]["id"] == FOLLOW_ID + "/2"
    assert accepts[1]["inboxes"] == [f"{BOB}/inbox"]


def test_follow_replay_is_a_no_op(db: Database, ada: AccountRow, bob: Any) -> None:
    process(db, follow())
    before = tables_snapshot(db)

    effects = process(db, follow())

    assert effects.outcome == "duplicate"
    assert tables_snapshot(db) == before


def test_follow_from_an_actor_not_yet_stored(db: Database, ada: AccountRow) -> None:
    # No actor row: accepted all the same, with nowhere to deliver the Accept yet.
    effects = process(db, follow())

    assert effects.outcome == "accepted"
    assert follow_state(db, BOB, local("ada")) == "accepted"
    assert len(answers(db, "Accept")) == 1
    assert effects.deliveries == 0


def test_follow_of_an_unknown_or_remote_account_is_ignored(db: Database, ada: AccountRow) -> None:
    assert process(db, follow(followee="nobody")).outcome == "follow of unknown account"
    doc = follow(follow_id=FOLLOW_ID + "/x")
    doc["object"] = "https://mastodon.example/users/alice"
    assert process(db, doc).outcome == "follow of unknown account"
    assert rows(db, "SELECT count(*) FROM follows") == [(0,)]


# -- Accept / Reject of our follows ----------------------------------------------

OUR_FOLLOW = "https://agora.test/users/ada/follows/01JD5QZZZZ0000000000000000"


def our_follow(db: Database, follow_id: str | None = OUR_FOLLOW) -> None:
    db.write_sync(lambda c: social.put_follow(c, local("ada"), BOB, follow_id, "pending", NOW))


def test_accept_by_embedded_follow(db: Database, ada: AccountRow, bob: Any) -> None:
    our_follow(db)

    effects = process(db, retarget(payload("gts_accept_follow.json")))

    assert effects.outcome == "follow accepted"
    assert follow_state(db, local("ada"), BOB) == "accepted"


def test_accept_by_follow_id_only(db: Database, ada: AccountRow, bob: Any) -> None:
    our_follow(db)
    accept = retarget(payload("gts_accept_follow.json"))
    accept["object"] = OUR_FOLLOW

    assert process(db, accept).outcome == "follow accepted"
    assert follow_state(db, local("ada"), BOB) == "accepted"


def test_accept_matches_the_embedded_pair_when_the_id_is_unknown(
    db: Database, ada: AccountRow, bob: Any
) -> None:
    our_follow(db, "https://agora.test/users/ada/activities/other-id")

    assert process(db, retarget(payload("gts_accept_follow.json"))).outcome == "follow accepted"
    assert follow_state(db, local("ada"), BOB) == "accepted"


def test_accept_from_someone_other_than_the_followee_is_ignored(
    db: Database, ada: AccountRow, bob: Any
) -> None:
    our_follow(db)
    mallory = "https://evil.example/users/mallory"
    store_actor(db, mallory)
    by_id = retarget(payload("gts_accept_follow.json"))
    by_id.update(id="https://evil.example/accepts/1", actor=mallory, object=OUR_FOLLOW)

    assert process(db, by_id).outcome == "accept of unknown follow"

    embedded = retarget(payload("gts_accept_follow.json"))
    embedded.update(id="https://evil.example/accepts/2", actor=mallory)
    embedded["object"]["id"] = "https://agora.test/users/ada/follows/unknown"
    assert process(db, embedded).outcome == "accept of unknown follow"
    assert follow_state(db, local("ada"), BOB) == "pending"


def test_reject_removes_our_follow(db: Database, ada: AccountRow, bob: Any) -> None:
    our_follow(db)
    reject = retarget(payload("gts_reject_follow.json"))
    reject["to"] = local("ada")
    reject["object"].update(id=OUR_FOLLOW, actor=local("ada"))

    assert process(db, reject).outcome == "follow rejected"
    assert follow_state(db, local("ada"), BOB) is None


def test_reject_by_id_also_ends_an_accepted_follow(db: Database, ada: AccountRow, bob: Any) -> None:
    our_follow(db)
    process(db, retarget(payload("gts_accept_follow.json")))
    reject = retarget(payload("gts_reject_follow.json"))
    reject["object"] = OUR_FOLLOW

    assert process(db, reject).outcome == "follow rejected"
    assert follow_state(db, local("ada"), BOB) is None


def test_reject_for_a_follow_we_never_sent_is_ignored(
    db: Database, ada: AccountRow, bob: Any
) -> None:
    # The fixture answers a follow by "mallory", who is not an account here.
    assert process(db, retarget(payload("gts_reject_follow.json"))).outcome == (
        "reject of unknown follow"
    )


# -- Undo of a Follow -----------------------------------------------------------


def test_undo_follow_removes_follow_and_its_notification(
    db: Database, ada: AccountRow, bob: Any
) -> None:
    process(db, follow())
    assert notifications(db, ada) == [("follow", BOB, None)]

    effects = process(db, retarget(payload("gts_undo_follow.json")))

    assert effects.outcome == "unfollowed"
    assert follow_state(db, BOB, local("ada")) is None
    assert notifications(db, ada) == []


def test_undo_follow_by_id_only(db: Database, ada: AccountRow, bob: Any) -> None:
    process(db, follow())
    undo = retarget(payload("gts_undo_follow.json"))
    undo["object"] = FOLLOW_ID

    assert process(db, undo).outcome == "unfollowed"
    assert follow_state(db, BOB, local("ada")) is None


def test_undo_before_follow_makes_the_late_follow_ignored(
    db: Database, ada: AccountRow, bob: Any
) -> None:
    assert process(db, retarget(payload("gts_undo_follow.json"))).outcome == "undo recorded"

    effects = process(db, follow())

    assert effects.outcome == "already undone"
    assert follow_state(db, BOB, local("ada")) is None
    assert notifications(db, ada) == []
    assert answers(db, "Accept") == []


def test_undo_of_someone_elses_follow_is_ignored(db: Database, ada: AccountRow, bob: Any) -> None:
    process(db, follow())
    undo = retarget(payload("gts_undo_follow.json"))
    undo["id"] = "https://gts.example/users/carl/undo/1"
    undo["actor"] = "https://gts.example/users/carl"

    assert process(db, undo).outcome == "undo of someone else's activity"
    # Nor by id alone: the stored Follow belongs to bob.
    undo.update(id="https://gts.example/users/carl/undo/2", object=FOLLOW_ID)
    assert process(db, undo).outcome == "undo of someone else's activity"
    assert follow_state(db, BOB, local("ada")) == "accepted"
