"""Cross-cutting rules: every activity is idempotent by id, and junk never
turns into an exception (which would roll back and retry a hopeless job)."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.processing.conftest import (
    ALICE,
    BOB,
    DEE,
    EVE,
    FERN,
    PUBLIC,
    actor_doc,
    count,
    local_note,
    payload,
    process,
    retarget,
    store_actor,
    tables_snapshot,
)

SLUG = "01JD3M2W8Q4X9B7C5N6P0R1S2T"


def every_kind(post: str) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    """One of each activity we handle, in an order where each one matters."""
    like = payload("misskey_like_reaction.json")
    like["object"] = post
    announce = payload("mastodon_announce.json")
    announce["object"] = post
    undo_like = payload("misskey_undo_like.json")
    undo_like["object"]["object"] = post
    new_alice = "https://gts.example/users/alice"
    flag = retarget(payload("mastodon_flag.json"))
    react = payload("pleroma_emoji_react.json")
    react["object"] = post
    return [
        (retarget(payload("gts_follow.json")), {}),
        (retarget(payload("mastodon_create_note.json")), {}),
        (payload("mastodon_create_question.json"), {}),
        (payload("blog_create_article.json"), {}),
        (retarget(payload("pleroma_create_direct.json")), {}),
        (payload("misskey_create_quote.json"), {}),
        (payload("mastodon_update_person.json"), {}),
        (like, {}),
        (announce, {}),
        (react, {}),
        (payload("mastodon_add_featured.json"), {}),
        (payload("mastodon_remove_featured.json"), {}),
        (undo_like, {}),
        (retarget(payload("gts_undo_follow.json")), {}),
        (payload("mastodon_delete_note.json"), {}),
        (flag, {}),
        (retarget(payload("mastodon_block.json")), {}),
        (payload("mastodon_move.json"), {new_alice: actor_doc(new_alice, alsoKnownAs=[ALICE])}),
        (payload("mastodon_delete_actor_signed.json"), {}),
    ]


def test_replaying_every_activity_changes_nothing(db: Database, ada: AccountRow) -> None:
    for uri in (ALICE, BOB, FERN, DEE, EVE, "https://mastodon.example/users/carol"):
        store_actor(db, uri)
    post = local_note(db, ada, SLUG)
    activities = every_kind(post)
    outcomes = [process(db, act, fetched=fetched).outcome for act, fetched in activities]
    assert "duplicate" not in outcomes and "unknown type" in outcomes
    before = tables_snapshot(db)
    assert before["notifications"] > 0 and before["deliveries"] > 0

    for act, fetched in activities:
        assert process(db, act, fetched=fetched).outcome == "duplicate", act["type"]

    assert tables_snapshot(db) == before


def test_handlers_cope_without_the_sender_row(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    announce = payload("mastodon_announce.json")
    announce["object"] = post
    like = payload("misskey_like_reaction.json")
    like["object"] = post

    assert process(db, announce).outcome == "boosted"
    assert process(db, like).outcome == "liked"
    assert process(db, retarget(payload("mastodon_block.json"))).outcome == "block ignored"
    assert process(db, payload("mastodon_move.json")).outcome == (
        "move target does not list the origin"
    )
    assert process(db, payload("mastodon_delete_actor_signed.json")).outcome == "actor deleted"


@pytest.mark.parametrize(
    "activity",
    [
        {"type": "Delete", "object": "urn:uuid:1"},
        {"type": "Delete", "object": "javascript:alert(1)"},
        {"type": "Add", "object": "data:,x", "target": f"{ALICE}/collections/featured"},
        {"type": "Announce", "object": "https://gts.example/s/1"},
        {"type": "Create", "object": {"id": "urn:x", "type": "Note", "attributedTo": ALICE}},
        {"type": "Undo", "object": {"type": "Block", "object": 42}},
        {"type": "Move", "object": ALICE, "target": {"id": 3}},
        {"type": "Flag", "object": [None, 7, {"id": "https://agora.test/users/ada"}]},
        {"type": "Update", "object": "https://mastodon.example/users/alice/statuses/1"},
        {"type": "Accept", "object": {"type": "Follow"}},
    ],
)
def test_junk_is_ignored_without_raising(
    db: Database, alice: Any, activity: dict[str, Any]
) -> None:
    announced = {"id": "https://gts.example/s/1", "type": "Note", "attributedTo": "ftp://x"}
    doc = {"id": f"{ALICE}#junk", "actor": ALICE, "to": [PUBLIC], **activity}

    process(db, doc, fetched={"https://gts.example/s/1": announced})

    assert count(db, "activities") == 1
    assert count(db, "objects") == 0 and count(db, "featured") == 0
    # (No account ada here: a report about nobody of ours is not kept.)
    assert count(db, "reports") == 0
    assert count(db, "notifications") == 0 and count(db, "deliveries") == 0
