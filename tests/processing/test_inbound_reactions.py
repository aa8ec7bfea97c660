"""Inbound Like and Announce, their Undo, and the unknown EmojiReact."""

from __future__ import annotations

from typing import Any

from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.processing.conftest import (
    ALICE,
    BOB,
    DEE,
    FERN,
    NOW,
    PUBLIC,
    count,
    get_object,
    local,
    local_note,
    notifications,
    payload,
    process,
    tables_snapshot,
)

SLUG = "01JD3M2W8Q4X9B7C5N6P0R1S2T"
LIKE_ID = "https://misskey.example/likes/9y2k5a7c9e"
ANNOUNCE_ID = "https://mastodon.example/users/alice/statuses/113540000000000007/activity"


def like(target: str) -> dict[str, Any]:
    doc = payload("misskey_like_reaction.json")
    doc["object"] = target
    return doc


def undo_like(target: str) -> dict[str, Any]:
    doc = payload("misskey_undo_like.json")
    doc["object"]["object"] = target
    return doc


def announce(target: str, **extra: Any) -> dict[str, Any]:
    doc = payload("mastodon_announce.json")
    doc["object"] = target
    doc["cc"] = [f"{ALICE}/followers"]
    doc.update(extra)
    return doc


def undo_announce(inner: Any = None) -> dict[str, Any]:
    return {
        "id": f"{ANNOUNCE_ID}#undo",
        "type": "Undo",
        "actor": ALICE,
        "object": inner or {"id": ANNOUNCE_ID, "type": "Announce", "actor": ALICE},
    }


# -- Like ------------------------------------------------------------------------


def test_like_of_a_local_post_notifies(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)

    effects = process(db, like(post))

    assert effects.outcome == "liked"
    assert count(db, "likes", "actor_uri = ? AND object_uri = ?", (FERN, post)) == 1
    assert notifications(db, ada) == [("favourite", FERN, post)]


def test_like_replay_and_second_like_are_no_ops(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    process(db, like(post))
    before = tables_snapshot(db)

    assert process(db, like(post)).outcome == "duplicate"
    again = like(post)
    again["id"] += "-2"
    assert process(db, again).outcome == "already liked"
    after = tables_snapshot(db)
    assert after.pop("activities") == before.pop("activities") + 1
    assert after == before


def test_like_of_a_remote_post_is_counted_without_notification(
    db: Database, ada: AccountRow
) -> None:
    target = "https://mastodon.example/users/alice/statuses/1"
    assert process(db, like(target)).outcome == "liked"
    assert count(db, "likes") == 1
    assert count(db, "notifications") == 0


def test_like_from_a_blocked_actor_does_not_notify(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    db.write_sync(lambda c: social.put_block(c, local("ada"), FERN, None, NOW))

    assert process(db, like(post)).outcome == "liked"
    assert notifications(db, ada) == []


def test_undo_like_removes_like_and_notification(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    process(db, like(post))

    assert process(db, undo_like(post)).outcome == "unliked"
    assert count(db, "likes") == 0
    assert notifications(db, ada) == []


def test_undo_like_by_target_when_the_like_id_differs(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    process(db, like(post))
    undo = undo_like(post)
    undo["object"]["id"] = "https://misskey.example/likes/some-other-id"

    assert process(db, undo).outcome == "unliked"
    assert count(db, "likes") == 0


def test_undo_like_before_like_makes_the_like_ignored(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    assert process(db, undo_like(post)).outcome == "undo recorded"

    assert process(db, like(post)).outcome == "like ignored"
    assert count(db, "likes") == 0
    assert notifications(db, ada) == []


# -- Announce --------------------------------------------------------------------


def test_announce_of_a_local_post(db: Database, ada: AccountRow, alice: Any) -> None:
    post = local_note(db, ada, SLUG)

    effects = process(db, announce(post))

    assert effects.outcome == "boosted"
    boost = get_object(db, ANNOUNCE_ID)
    assert boost is not None
    assert boost.type == "Announce" and boost.boost_of == post and boost.actor_uri == ALICE
    assert boost.visibility == "public"
    assert boost.published == 1732536000.0
    assert notifications(db, ada) == [("reblog", ALICE, post)]


def test_announce_replays_and_second_boosts_are_no_ops(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    post = local_note(db, ada, SLUG)
    process(db, announce(post))
    before = tables_snapshot(db)

    assert process(db, announce(post)).outcome == "duplicate"
    assert process(db, announce(post, id=ANNOUNCE_ID + "2")).outcome == "already boosted"
    after = tables_snapshot(db)
    assert after.pop("activities") == before.pop("activities") + 1
    assert after == before


def test_announce_of_an_unknown_post_stores_the_fetched_copy(db: Database, alice: Any) -> None:
    target = "https://gts.example/users/bob/statuses/01X"
    doc = {
        "id": target,
        "type": "Note",
        "attributedTo": BOB,
        "content": "<p>hello<script>x</script></p>",
        "to": [PUBLIC],
    }

    assert process(db, announce(target), fetched={target: doc}).outcome == "boosted"

    original = get_object(db, target)
    assert original is not None and original.actor_uri == BOB and original.content == "<p>hello</p>"
    boost = get_object(db, ANNOUNCE_ID)
    assert boost is not None and boost.boost_of == target


def test_announce_of_an_unavailable_or_forged_post_is_ignored(db: Database, alice: Any) -> None:
    target = "https://gts.example/users/bob/statuses/01X"
    assert process(db, announce(target)).outcome == "announced object unavailable"
    forged = {"id": target, "type": "Note", "attributedTo": "https://evil.example/u/m"}
    effects = process(db, announce(target, id=ANNOUNCE_ID + "2"), fetched={target: forged})
    assert effects.outcome == "announced object unavailable"
    assert count(db, "objects") == 0


def test_announce_of_followers_only_or_direct_posts_is_refused(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    private = local_note(db, ada, "private", visibility="private")
    direct = local_note(db, ada, "direct", visibility="direct")

    assert process(db, announce(private)).outcome == "announce of a non-public object"
    effects = process(db, announce(direct, id=ANNOUNCE_ID + "2"))
    assert effects.outcome == "announce of a non-public object"
    assert count(db, "objects", "boost_of IS NOT NULL") == 0
    assert notifications(db, ada) == []


def test_announce_of_a_fetched_followers_only_post_is_refused(db: Database, alice: Any) -> None:
    target = "https://gts.example/users/bob/statuses/02X"
    doc = {"id": target, "type": "Note", "attributedTo": BOB, "to": [f"{BOB}/followers"]}

    effects = process(db, announce(target), fetched={target: doc})

    assert effects.outcome == "announce of a non-public object"
    assert get_object(db, ANNOUNCE_ID) is None


def test_undo_announce_removes_the_boost_and_notification(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    post = local_note(db, ada, SLUG)
    process(db, announce(post))

    assert process(db, undo_announce()).outcome == "unboosted"
    assert get_object(db, ANNOUNCE_ID) is None
    assert notifications(db, ada) == []


def test_undo_announce_by_id_only(db: Database, ada: AccountRow, alice: Any) -> None:
    post = local_note(db, ada, SLUG)
    process(db, announce(post))

    assert process(db, undo_announce(ANNOUNCE_ID)).outcome == "unboosted"
    assert get_object(db, ANNOUNCE_ID) is None


def test_undo_announce_before_announce(db: Database, ada: AccountRow, alice: Any) -> None:
    post = local_note(db, ada, SLUG)
    assert process(db, undo_announce()).outcome == "undo recorded"

    assert process(db, announce(post)).outcome == "announce ignored"
    assert get_object(db, ANNOUNCE_ID) is None
    assert notifications(db, ada) == []


def test_emoji_react_is_recorded_but_ignored(db: Database, ada: AccountRow) -> None:
    post = local_note(db, ada, SLUG)
    doc = payload("pleroma_emoji_react.json")
    doc["object"] = post

    effects = process(db, doc)

    assert effects.outcome == "unknown type"
    assert count(db, "activities", "uri = ? AND type = 'EmojiReact'", (doc["id"],)) == 1
    assert count(db, "likes") == 0 and notifications(db, ada) == []
    assert count(db, "activities", "actor_uri = ?", (DEE,)) == 1
    assert process(db, doc).outcome == "duplicate"
