"""Inbound Block, Move, Flag and Add/Remove on the featured collection."""

from __future__ import annotations

import json
from typing import Any

from agora_node.config import Settings
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.conftest import add_account
from tests.processing.conftest import (
    ALICE,
    NOW,
    actor_doc,
    count,
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

NEW_ALICE = "https://gts.example/users/alice"
BLOCK_ID = "https://mastodon.example/2d8e4b1a-0c6f-4e3b-8f7a-5b9c1d2e3f40"


def block(target: str = "ada") -> dict[str, Any]:
    doc = payload("mastodon_block.json")
    doc["object"] = local(target)
    return doc


def follow_both_ways(db: Database) -> None:
    def write(c: Any) -> None:
        social.put_follow(c, ALICE, local("ada"), f"{ALICE}/f/1", "accepted", NOW)
        social.put_follow(c, local("ada"), ALICE, "https://agora.test/f/1", "accepted", NOW)

    db.write_sync(write)


# -- Block -----------------------------------------------------------------------


def test_block_removes_follows_both_ways(db: Database, ada: AccountRow, alice: Any) -> None:
    follow_both_ways(db)

    assert process(db, block()).outcome == "blocked"

    assert follow_state(db, ALICE, local("ada")) is None
    assert follow_state(db, local("ada"), ALICE) is None
    assert rows(db, "SELECT actor_uri, target_uri, activity_uri FROM blocks") == [
        (ALICE, local("ada"), BLOCK_ID)
    ]
    assert notifications(db, ada) == []


def test_block_of_an_unknown_account_is_ignored(db: Database, ada: AccountRow) -> None:
    assert process(db, payload("mastodon_block.json")).outcome == "block ignored"
    assert count(db, "blocks") == 0


def test_undo_block(db: Database, ada: AccountRow, alice: Any) -> None:
    process(db, block())
    undo = {"id": f"{BLOCK_ID}/undo", "type": "Undo", "actor": ALICE, "object": block()}

    assert process(db, undo).outcome == "unblocked"
    assert count(db, "blocks") == 0


def test_undo_block_by_id_only_and_before_the_block(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    undo = {"id": f"{BLOCK_ID}/undo", "type": "Undo", "actor": ALICE, "object": BLOCK_ID}
    assert process(db, undo).outcome == "undo recorded"

    assert process(db, block()).outcome == "block ignored"
    assert count(db, "blocks") == 0


# -- Move ------------------------------------------------------------------------


def new_home(**extra: Any) -> dict[str, Any]:
    return actor_doc(NEW_ALICE, alsoKnownAs=[ALICE], **extra)


def test_move_migrates_local_followers(db: Database, settings: Any, ada: AccountRow) -> None:
    store_actor(db, ALICE)
    ben = add_account(db, settings, "ben")
    follow_both_ways(db)
    db.write_sync(lambda c: social.put_follow(c, local("ben"), ALICE, None, "accepted", NOW))
    move = payload("mastodon_move.json")

    effects = process(db, move, fetched={NEW_ALICE: new_home()})

    assert effects.outcome == "moved"
    for name, account in (("ada", ada), ("ben", ben)):
        assert follow_state(db, local(name), ALICE) is None
        assert follow_state(db, local(name), NEW_ALICE) == "pending"
        assert notifications(db, account) == [("move", ALICE, NEW_ALICE)]
    # The old account's own follow of ada is not ours to move.
    assert follow_state(db, ALICE, local("ada")) == "accepted"
    follows = rows(db, "SELECT uri, actor_uri, data FROM activities WHERE type = 'Follow'")
    assert {r[1] for r in follows} == {local("ada"), local("ben")}
    for uri, _actor, data in follows:
        assert json.loads(data)["object"] == NEW_ALICE
        inboxes = rows(db, "SELECT inbox FROM deliveries WHERE activity_uri = ?", (uri,))
        assert inboxes == [(f"{NEW_ALICE}/inbox",)]
    origin = db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, ALICE))
    assert origin is not None and origin.moved_to == NEW_ALICE and origin.last_move_at == NOW
    target = db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, NEW_ALICE))
    assert target is not None and target.also_known_as == (ALICE,)


def test_move_to_a_target_not_listing_the_origin_is_ignored(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    follow_both_ways(db)
    move = payload("mastodon_move.json")

    effects = process(db, move, fetched={NEW_ALICE: actor_doc(NEW_ALICE)})
    assert effects.outcome == "move target does not list the origin"
    move["id"] += "-2"
    assert process(db, move).outcome == "move target does not list the origin"
    move["id"] += "-3"
    wrong_id = {**new_home(), "id": "https://gts.example/users/other"}
    assert process(db, move, fetched={NEW_ALICE: wrong_id}).outcome == (
        "move target does not list the origin"
    )

    assert follow_state(db, local("ada"), ALICE) == "accepted"
    assert count(db, "deliveries") == 0


def test_one_move_per_week(db: Database, ada: AccountRow, alice: Any) -> None:
    move = payload("mastodon_move.json")
    process(db, move, fetched={NEW_ALICE: new_home()})
    follow_both_ways(db)
    third = "https://misskey.example/users/alice"
    again = {**move, "id": f"{ALICE}#moves/2", "target": third}
    fetched = {third: actor_doc(third, alsoKnownAs=[ALICE])}

    assert process(db, again, now=NOW + 6 * 86400, fetched=fetched).outcome == "move rate-limited"
    assert follow_state(db, local("ada"), ALICE) == "accepted"

    again["id"] = f"{ALICE}#moves/3"
    assert process(db, again, now=NOW + 8 * 86400, fetched=fetched).outcome == "moved"
    assert follow_state(db, local("ada"), third) == "pending"


def test_move_to_a_local_account_never_overwrites_it(
    db: Database, settings: Any, ada: AccountRow, alice: Any
) -> None:
    cleo = add_account(db, settings, "cleo")
    db.write_sync(
        lambda c: accounts_store.set_account_profile(c, cleo.id, {"also_known_as": [ALICE]})
    )
    follow_both_ways(db)
    move = {**payload("mastodon_move.json"), "target": local("cleo")}
    forged = actor_doc(local("cleo"), alsoKnownAs=[ALICE], inbox="https://evil.example/inbox")

    assert process(db, move, fetched={local("cleo"): forged}).outcome == "moved"

    target = db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, local("cleo")))
    assert target is not None and target.local and target.inbox == f"{local('cleo')}/inbox"
    assert follow_state(db, local("ada"), local("cleo")) == "accepted"
    assert notifications(db, cleo) == [("follow", local("ada"), None)]
    assert count(db, "deliveries") == 0


def test_move_replay_is_a_no_op(db: Database, ada: AccountRow, alice: Any) -> None:
    follow_both_ways(db)
    move = payload("mastodon_move.json")
    process(db, move, fetched={NEW_ALICE: new_home()})
    before = tables_snapshot(db)

    assert process(db, move, fetched={NEW_ALICE: new_home()}).outcome == "duplicate"
    assert tables_snapshot(db) == before


# -- Flag --------------------------------------------------------------------------


def test_flag_is_stored_as_a_report(db: Database, settings: Settings) -> None:
    mallory = add_account(db, settings, "mallory")
    flag = retarget(payload("mastodon_flag.json"))
    # The first post is mallory's; the second is not stored here (not kept).
    spam = flag["object"][1]
    db.write_sync(lambda c: objects_store.insert_object(c, {
        "uri": spam, "type": "Note", "actor_uri": "https://agora.test/users/mallory",
        "local": 1, "visibility": "public", "content": "<p>buy</p>", "published": NOW,
    }))  # fmt: skip
    flag["object"].append("https://elsewhere.example/users/x")

    assert process(db, flag).outcome == "reported"

    [(reporter, target, statuses, content)] = rows(
        db, "SELECT reporter_uri, target_uri, status_uris, content FROM reports"
    )
    assert reporter == "https://mastodon.example/actor"
    assert mallory.actor is not None and target == mallory.actor.uri
    assert json.loads(statuses) == [spam]
    assert content == "Repeated spam links in replies"
    assert process(db, flag).outcome == "duplicate"
    assert count(db, "reports") == 1


def test_flag_of_nothing_local_is_not_kept(db: Database) -> None:
    # The untouched fixture points at agora.example, another server.
    assert process(db, payload("mastodon_flag.json")).outcome == "report about nothing local"
    assert count(db, "reports") == 0


# -- featured collection -------------------------------------------------------------


def test_add_and_remove_on_the_senders_featured_collection(db: Database, alice: Any) -> None:
    post = "https://mastodon.example/users/alice/statuses/113520114722630410"

    assert process(db, payload("mastodon_add_featured.json")).outcome == "featured updated"
    assert rows(db, "SELECT actor_uri, object_uri FROM featured") == [(ALICE, post)]

    assert process(db, payload("mastodon_remove_featured.json")).outcome == "featured updated"
    assert count(db, "featured") == 0


def test_add_to_another_collection_is_ignored(db: Database, alice: Any) -> None:
    add = payload("mastodon_add_featured.json")
    add["target"] = "https://mastodon.example/users/carol/collections/featured"
    assert process(db, add).outcome == "not the featured collection"

    add.update(id=add["id"] + "-2", target=f"{ALICE}/collections/featured")
    add["object"] = "https://gts.example/users/bob/statuses/1"
    assert process(db, add).outcome == "featured object from another host"
    assert count(db, "featured") == 0


def test_add_from_an_actor_not_stored_is_ignored(db: Database) -> None:
    assert process(db, payload("mastodon_add_featured.json")).outcome == (
        "not the featured collection"
    )
    assert count(db, "featured") == 0


def test_a_suspended_remote_account_is_not_heard(db: Database, ada: AccountRow) -> None:
    store_actor(db, ALICE)
    db.write_sync(lambda c: c.execute("UPDATE actors SET suspended_at = 1 WHERE uri = ?", [ALICE]))
    follow = {"id": f"{ALICE}#follows/9", "type": "Follow", "actor": ALICE, "object": local("ada")}
    assert process(db, follow).outcome == "from a suspended account"
    assert count(db, "follows") == 0 and count(db, "activities") == 0
    # Its own deletion still goes through.
    gone = {"id": f"{ALICE}#delete", "type": "Delete", "actor": ALICE, "object": ALICE}
    assert process(db, gone).outcome == "actor deleted"
