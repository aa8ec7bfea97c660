"""Inbound Create: notes, their tags, addressing, replies and variants."""

from __future__ import annotations

from typing import Any

from agora_node.store import social
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.processing.conftest import (
    ALICE,
    DEE,
    EVE,
    FERN,
    NOW,
    PUBLIC,
    get_object,
    local,
    local_note,
    notifications,
    payload,
    process,
    retarget,
    rows,
    store_actor,
    tables_snapshot,
)

NOTE = "https://mastodon.example/users/alice/statuses/113520114722630410"


def create_note(db: Database, ada: AccountRow) -> dict[str, Any]:
    """The Mastodon fixture, replying to a real local post of ada's."""
    parent = local_note(db, ada, "01JD3M2W8Q4X9B7C5N6P0R1S2T")
    doc = retarget(payload("mastodon_create_note.json"))
    doc["object"]["inReplyTo"] = parent
    return doc


def tags_of(db: Database, uri: str) -> set[tuple[str, str, str | None]]:
    found = rows(
        db,
        "SELECT kind, name, href FROM tags "
        "WHERE object_id = (SELECT id FROM objects WHERE uri = ?)",
        (uri,),
    )
    return {(r[0], r[1], r[2]) for r in found}


def test_mastodon_note_with_mention_hashtag_and_emoji(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    doc = create_note(db, ada)

    effects = process(db, doc)

    assert effects.outcome == "stored"
    note = get_object(db, NOTE)
    assert note is not None and not note.local
    assert note.actor_uri == ALICE and note.visibility == "public"
    assert note.activity_uri == doc["id"]
    assert note.in_reply_to == doc["object"]["inReplyTo"]
    assert "the seedlings survived the frost" in note.content
    assert 'rel="nofollow noopener noreferrer"' in note.content
    assert note.data["attachments"][0]["mediaType"] == "image/jpeg"
    assert tags_of(db, NOTE) == {
        ("mention", "@ada@agora.example", local("ada")),
        ("hashtag", "gardening", "https://mastodon.example/tags/gardening"),
        (
            "emoji",
            ":blobcat:",
            "https://files.mastodon.example/custom_emojis/images/000/004/242/original/blobcat.png",
        ),
    }
    # Mentioned and replied to: one notification, the mention.
    assert notifications(db, ada) == [("mention", ALICE, NOTE)]
    # ada is in cc: she is a recipient of the post.
    assert rows(db, "SELECT actor_uri FROM object_recipients") == [(local("ada"),)]


def test_reply_to_a_local_post_notifies_its_author(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    doc = create_note(db, ada)
    doc["object"]["tag"] = []
    doc["object"]["cc"] = [f"{ALICE}/followers"]

    process(db, doc)

    assert notifications(db, ada) == [("reply", ALICE, NOTE)]


def test_content_is_sanitized_and_content_warning_kept(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    doc = create_note(db, ada)
    doc["object"]["content"] = (
        '<p onclick="x()">hi<script>alert(1)</script><img src=x onerror=y>'
        '<a href="javascript:evil()">link</a></p>'
    )
    doc["object"]["summary"] = "<b>spoilers</b> \u202eahead"

    process(db, doc)

    note = get_object(db, NOTE)
    assert note is not None
    for bad in ("script", "onclick", "onerror", "<img", "javascript:"):
        assert bad not in note.content
    assert note.summary == "spoilers ahead"
    assert note.sensitive


def test_sensitive_flag_without_summary(db: Database, ada: AccountRow, alice: Any) -> None:
    doc = create_note(db, ada)
    doc["object"]["sensitive"] = True

    process(db, doc)

    note = get_object(db, NOTE)
    assert note is not None and note.sensitive and note.summary == ""


def _visibility(db: Database, ada: AccountRow, to: list[str], cc: list[str], n: int) -> str:
    doc = create_note(db, ada) if n == 0 else retarget(payload("mastodon_create_note.json"))
    uri = f"{NOTE}-{n}"
    doc["id"] = f"{uri}/activity"
    doc["object"].update(id=uri, to=to, cc=cc, tag=[])
    process(db, doc)
    note = get_object(db, uri)
    assert note is not None
    return note.visibility


def test_visibility_from_addressing(db: Database, ada: AccountRow, alice: Any) -> None:
    followers = f"{ALICE}/followers"
    assert _visibility(db, ada, [PUBLIC], [followers], 0) == "public"
    assert _visibility(db, ada, [followers], [PUBLIC], 1) == "unlisted"
    assert _visibility(db, ada, ["as:Public"], [], 2) == "public"
    assert _visibility(db, ada, [followers], [], 3) == "private"
    assert _visibility(db, ada, [local("ada")], [], 4) == "direct"


def test_pleroma_direct_message(db: Database, ada: AccountRow) -> None:
    store_actor(db, DEE)
    doc = retarget(payload("pleroma_create_direct.json"))
    uri = doc["object"]["id"]

    assert process(db, doc).outcome == "stored"

    note = get_object(db, uri)
    assert note is not None and note.visibility == "direct"
    assert rows(db, "SELECT actor_uri FROM object_recipients") == [(local("ada"),)]
    assert notifications(db, ada) == [("mention", DEE, uri)]
    assert note.conversation == doc["object"]["conversation"]


def test_direct_message_addressed_without_a_mention_tag(db: Database, ada: AccountRow) -> None:
    store_actor(db, DEE)
    doc = retarget(payload("pleroma_create_direct.json"))
    doc["object"]["tag"] = []

    process(db, doc)

    assert [n[0] for n in notifications(db, ada)] == ["mention"]


def test_followers_only_from_an_actor_not_stored_is_direct(db: Database, ada: AccountRow) -> None:
    # Without the actor row its followers collection is unknown: the narrower class.
    doc = retarget(payload("gts_create_note.json"))
    doc["object"]["to"] = "https://gts.example/users/bob/followers"
    doc["object"]["cc"] = []

    assert process(db, doc).outcome == "stored"

    note = get_object(db, doc["object"]["id"])
    assert note is not None and note.visibility == "direct"


def test_blocked_sender_causes_no_notification(db: Database, ada: AccountRow, alice: Any) -> None:
    db.write_sync(lambda c: social.put_block(c, local("ada"), ALICE, None, NOW))
    doc = create_note(db, ada)

    assert process(db, doc).outcome == "stored"
    assert notifications(db, ada) == []


def test_article_is_kept_as_a_note_with_title_and_link(db: Database) -> None:
    store_actor(db, EVE)
    doc = payload("blog_create_article.json")
    uri = doc["object"]["id"]

    assert process(db, doc).outcome == "stored"

    note = get_object(db, uri)
    assert note is not None and note.type == "Note"
    assert note.name == "Saving tomato seeds, properly"
    assert note.url == "https://blog.example/eve/saving-tomato-seeds-properly"
    assert note.content.startswith("<p><strong>Saving tomato seeds, properly</strong>")
    assert 'href="https://blog.example/eve/saving-tomato-seeds-properly"' in note.content
    assert "<h2>" not in note.content and "Ferment it off" in note.content
    assert note.data["original_type"] == "Article"
    assert tags_of(db, uri) == {
        ("hashtag", "seedsaving", "https://blog.example/eve/tag:seedsaving")
    }


def test_page_is_kept_as_well(db: Database) -> None:
    store_actor(db, EVE)
    doc = payload("blog_create_article.json")
    doc["object"]["type"] = "Page"

    assert process(db, doc).outcome == "stored"
    note = get_object(db, doc["object"]["id"])
    assert note is not None and note.data["original_type"] == "Page"


def test_question_is_read_with_its_options(db: Database, alice: Any) -> None:
    doc = payload("mastodon_create_question.json")

    assert process(db, doc).outcome == "stored"

    poll = get_object(db, doc["object"]["id"])
    assert poll is not None and poll.type == "Question"
    assert poll.data["poll"] == {
        "multiple": False,
        "options": [
            {"name": "Tomatoes", "votes": 2},
            {"name": "Beans", "votes": 1},
            {"name": "Whatever survives", "votes": 0},
        ],
        "endTime": "2024-11-24T08:00:00Z",
        "voters": 3,
    }


def test_misskey_quote_and_content_fallback(db: Database) -> None:
    store_actor(db, FERN)
    doc = payload("misskey_create_quote.json")
    doc["object"]["content"] = None
    uri = doc["object"]["id"]

    assert process(db, doc).outcome == "stored"

    note = get_object(db, uri)
    assert note is not None
    assert note.content == "<p>this is the way $[tada 🍅]</p>"
    assert note.data["quote"] == "https://mastodon.example/users/alice/statuses/113520114722630410"


def test_misskey_content_fallback_is_escaped(db: Database) -> None:
    store_actor(db, FERN)
    doc = payload("misskey_create_quote.json")
    del doc["object"]["content"]
    doc["object"]["_misskey_content"] = "<script>alert(1)</script> <b>x</b>"

    process(db, doc)

    note = get_object(db, doc["object"]["id"])
    assert note is not None
    assert "<script>" not in note.content and "<b>" not in note.content
    assert "&lt;b&gt;x" in note.content


def test_duplicate_create_is_a_no_op(db: Database, ada: AccountRow, alice: Any) -> None:
    doc = create_note(db, ada)
    process(db, doc)
    before = tables_snapshot(db)

    assert process(db, doc).outcome == "duplicate"
    # The same note under a new activity id is known already.
    doc["id"] = doc["id"] + "-again"
    assert process(db, doc).outcome == "already known or deleted"
    after = tables_snapshot(db)
    assert after.pop("activities") == before.pop("activities") + 1
    assert after == before


def test_create_of_a_note_attributed_to_someone_else_is_ignored(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    doc = create_note(db, ada)
    doc["object"]["attributedTo"] = "https://mastodon.example/users/carol"

    assert process(db, doc).outcome == "object attributed to someone else"
    assert get_object(db, NOTE) is None
    assert notifications(db, ada) == []


def test_create_with_a_fetched_object_notifies(db: Database, ada: AccountRow, alice: Any) -> None:
    # The object came as a bare URI and was fetched by the worker beforehand.
    doc = create_note(db, ada)
    obj = doc["object"]
    doc["object"] = NOTE

    effects = process(db, doc, fetched={NOTE: obj})

    assert effects.outcome == "stored"
    note = get_object(db, NOTE)
    assert note is not None and note.activity_uri == doc["id"]
    assert notifications(db, ada) == [("mention", ALICE, NOTE)]


def test_create_with_an_unfetched_or_mismatched_object_is_ignored(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    doc = create_note(db, ada)
    obj = doc["object"]
    doc["object"] = NOTE
    assert process(db, doc).outcome == "unsupported object"
    doc["id"] += "-2"
    assert process(db, doc, fetched={NOTE: {**obj, "id": NOTE + "-other"}}).outcome == (
        "fetched object has another id"
    )
    assert get_object(db, NOTE) is None


def test_fetched_parents_are_stored_without_notifications(
    db: Database, ada: AccountRow, alice: Any
) -> None:
    parent_uri = "https://mastodon.example/users/alice/statuses/1"
    parent = {
        "id": parent_uri,
        "type": "Note",
        "attributedTo": ALICE,
        "content": "<p>earlier, @ada</p>",
        "to": [PUBLIC],
        "tag": [{"type": "Mention", "href": local("ada"), "name": "@ada"}],
    }
    forged = {**parent, "id": "https://evil.example/1", "attributedTo": ALICE}
    doc = create_note(db, ada)
    doc["object"].update(inReplyTo=parent_uri, tag=[], cc=[])

    process(db, doc, fetched={parent_uri: parent, "https://evil.example/1": forged})

    stored = get_object(db, parent_uri)
    assert stored is not None and stored.activity_uri is None
    assert get_object(db, "https://evil.example/1") is None
    assert notifications(db, ada) == []
