"""Inbound Update (note edits, profile refresh) and Delete (notes, actors)."""

from __future__ import annotations

import copy
from typing import Any

from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.processing.conftest import (
    ALICE,
    NOW,
    PUBLIC,
    count,
    follow_state,
    get_object,
    local,
    local_note,
    notifications,
    payload,
    process,
    retarget,
    rows,
    store_actor,
)

NOTE = "https://mastodon.example/users/alice/statuses/113520114722630410"


def created(db: Database) -> dict[str, Any]:
    doc = retarget(payload("mastodon_create_note.json"))
    doc["object"]["inReplyTo"] = None
    assert process(db, doc).outcome == "stored"
    return doc


def update_of(create: dict[str, Any], n: int, **changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(create["object"])
    obj.update(changes)
    return {
        "@context": create["@context"],
        "id": f"{NOTE}#updates/{n}",
        "type": "Update",
        "actor": ALICE,
        "to": [PUBLIC],
        "object": obj,
    }


def history(db: Database) -> list[dict[str, Any]]:
    return db.read_sync(lambda c: objects_store.object_history(c, NOTE))


# -- Update ---------------------------------------------------------------------


def test_note_edit_keeps_history(db: Database, ada: AccountRow, alice: Any) -> None:
    create = created(db)
    before = get_object(db, NOTE)
    assert before is not None

    effects = process(
        db,
        update_of(
            create, 1,
            content="<p>edited <script>x</script>#tomatoes</p>",
            updated="2024-11-21T10:00:00Z",
            tag=[{"type": "Hashtag", "name": "#Tomatoes", "href": "https://mastodon.example/tags/tomatoes"}],
        ),
    )  # fmt: skip

    assert effects.outcome == "note edited"
    after = get_object(db, NOTE)
    assert after is not None
    assert after.content == "<p>edited #tomatoes</p>"
    assert after.updated == 1732183200.0
    [previous] = history(db)
    assert previous["content"] == before.content
    assert previous["updated"] == before.published
    assert rows(db, "SELECT kind, name FROM tags") == [("hashtag", "tomatoes")]
    # An edit notifies nobody again.
    assert len(notifications(db, ada)) == 1


def test_older_update_arriving_late_is_ignored(db: Database, alice: Any) -> None:
    create = created(db)
    process(db, update_of(create, 2, content="<p>v3</p>", updated="2024-11-21T12:00:00Z"))

    effects = process(db, update_of(create, 1, content="<p>v2</p>", updated="2024-11-21T11:00:00Z"))

    assert effects.outcome == "stale update"
    note = get_object(db, NOTE)
    assert note is not None and note.content == "<p>v3</p>"
    assert len(history(db)) == 1


def test_update_without_a_change_adds_no_history(db: Database, alice: Any) -> None:
    create = created(db)

    assert process(db, update_of(create, 1)).outcome == "note unchanged"
    assert history(db) == []


def test_poll_count_refresh_is_not_an_edit(db: Database, alice: Any) -> None:
    create = payload("mastodon_create_question.json")
    process(db, create)
    uri = create["object"]["id"]
    obj = copy.deepcopy(create["object"])
    obj["oneOf"][0]["replies"]["totalItems"] = 5
    update = {"id": f"{uri}#updates/1", "type": "Update", "actor": ALICE, "object": obj}

    assert process(db, update).outcome == "note refreshed"

    poll = get_object(db, uri)
    assert poll is not None and poll.data["poll"]["options"][0]["votes"] == 5
    assert db.read_sync(lambda c: objects_store.object_history(c, uri)) == []


def test_update_of_someone_elses_note_is_ignored(db: Database, alice: Any) -> None:
    create = created(db)
    carol = "https://mastodon.example/users/carol"
    update = update_of(create, 1, content="<p>pwned</p>", attributedTo=carol)
    update.update(id="https://mastodon.example/users/carol#updates/1", actor=carol)

    assert process(db, update).outcome == "update of unknown or foreign note"
    note = get_object(db, NOTE)
    assert note is not None and "pwned" not in note.content
    assert history(db) == []


def test_update_of_an_unknown_note_is_ignored(db: Database, alice: Any) -> None:
    create = retarget(payload("mastodon_create_note.json"))
    assert process(db, update_of(create, 1)).outcome == "update of unknown or foreign note"
    assert get_object(db, NOTE) is None


def test_profile_update_refreshes_the_actor(db: Database, alice: Any) -> None:
    update = payload("mastodon_update_person.json")
    update["object"]["name"] = "Alice <b>:blobcat:</b>\u202e\u0000"
    update["object"]["summary"] += '<script>alert(1)</script><a href="javascript:x">y</a>'
    update["object"]["alsoKnownAs"] = ["https://gts.example/users/alice"]

    assert process(db, update).outcome == "profile refreshed"

    actor = db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, ALICE))
    assert actor is not None
    assert actor.display_name == "Alice :blobcat:"
    assert "Balcony gardener" in actor.summary
    assert "script" not in actor.summary and "javascript:" not in actor.summary
    assert actor.featured_uri == f"{ALICE}/collections/featured"
    assert actor.shared_inbox == "https://mastodon.example/inbox"
    assert actor.also_known_as == ("https://gts.example/users/alice",)
    assert actor.fields[0]["name"] == "Website"
    assert "alice.example" in actor.fields[0]["value"]
    key = db.read_sync(lambda c: accounts_store.get_public_key(c, f"{ALICE}#main-key"))
    assert key is not None and "fixturefixture" in key.public_key_pem


def test_profile_update_of_another_actor_is_not_a_profile_refresh(db: Database, alice: Any) -> None:
    update = payload("mastodon_update_person.json")
    update["object"]["id"] = "https://mastodon.example/users/carol"

    assert process(db, update).outcome == "unsupported object"
    assert (
        db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, update["object"]["id"])) is None
    )


# -- Delete ---------------------------------------------------------------------


def test_delete_leaves_a_tombstone_a_late_create_cannot_revive(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    create = created(db)
    assert notifications(db, ada) == [("mention", ALICE, NOTE)]

    assert process(db, payload("mastodon_delete_note.json")).outcome == "deleted"

    note = get_object(db, NOTE)
    assert note is not None and note.is_tombstone and note.content == ""
    assert count(db, "tags") == 0
    assert notifications(db, ada) == []
    create["id"] += "-replayed"
    assert process(db, create).outcome == "already known or deleted"
    note = get_object(db, NOTE)
    assert note is not None and note.is_tombstone


def test_delete_before_create_means_the_create_is_ignored(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    process(db, payload("mastodon_delete_note.json"))

    effects = process(db, retarget(payload("mastodon_create_note.json")))

    assert effects.outcome == "already known or deleted"
    note = get_object(db, NOTE)
    assert note is not None and note.is_tombstone
    assert notifications(db, ada) == []


def test_delete_of_someone_elses_note_is_ignored(db: Database, ada: AccountRow, alice: Any) -> None:
    created(db)
    mine = local_note(db, ada, "mine")
    carol = "https://mastodon.example/users/carol"
    delete = payload("mastodon_delete_note.json")
    delete.update(id=f"{carol}#delete/1", actor=carol)

    assert process(db, delete).outcome == "delete of someone else's object"
    delete.update(id=f"{carol}#delete/2", object=mine)
    assert process(db, delete).outcome == "delete of someone else's object"

    for uri in (NOTE, mine):
        note = get_object(db, uri)
        assert note is not None and not note.is_tombstone


def test_delete_of_an_unknown_object_on_another_host_leaves_nothing(
    db: Database, alice: Any
) -> None:
    delete = payload("mastodon_delete_note.json")
    delete["object"] = "https://gts.example/users/bob/statuses/1"

    assert process(db, delete).outcome == "delete of an object on another host"
    assert get_object(db, "https://gts.example/users/bob/statuses/1") is None


def test_actor_self_delete_removes_content_follows_and_keys(db: Database, ada: AccountRow) -> None:
    carol = "https://mastodon.example/users/carol"
    store_actor(db, carol)
    create = retarget(payload("mastodon_create_note.json"))
    create.update(id=f"{carol}/statuses/1/activity", actor=carol)
    create["object"].update(id=f"{carol}/statuses/1", attributedTo=carol, inReplyTo=None)
    process(db, create)
    mine = local_note(db, ada, "liked")

    def graph(c: Any) -> None:
        social.put_follow(c, carol, local("ada"), f"{carol}/f/1", "accepted", NOW)
        social.put_follow(c, local("ada"), carol, "https://agora.test/f/2", "accepted", NOW)
        social.put_like(c, carol, mine, f"{carol}/likes/1", NOW)
        objects_store.insert_object(
            c, {"uri": f"{carol}/boosts/1", "type": "Announce", "actor_uri": carol,
                "boost_of": mine, "published": NOW},
        )  # fmt: skip

    db.write_sync(graph)

    effects = process(db, payload("mastodon_delete_actor_signed.json"))

    assert effects.outcome == "actor deleted"
    actor = db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, carol))
    assert actor is not None and actor.deleted_at == NOW
    note = get_object(db, f"{carol}/statuses/1")
    assert note is not None and note.is_tombstone and note.content == ""
    assert follow_state(db, carol, local("ada")) is None
    assert follow_state(db, local("ada"), carol) is None
    assert count(db, "likes") == 0
    assert get_object(db, f"{carol}/boosts/1") is None
    assert count(db, "tags") == 0
    assert notifications(db, ada) == []
    key = db.read_sync(lambda c: accounts_store.get_public_key(c, f"{carol}#main-key"))
    assert key is not None and key.gone
    # Their posts never come back.
    create["id"] += "-late"
    assert process(db, create).outcome == "already known or deleted"
