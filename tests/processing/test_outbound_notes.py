"""Writing, editing and deleting local posts: one transaction each, no network."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.config import Settings
from agora_node.errors import AgoraError, Forbidden, Gone, UnprocessableEntity
from agora_node.processing.audience import addressing
from agora_node.processing.outbound import OutboundContext, Sent
from agora_node.processing.outbound_notes import Draft, delete, edit, post
from agora_node.processing.outbound_text import MentionTarget, handles_in, render
from agora_node.protocol.validation import validate_activity
from agora_node.store import objects as objects_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database
from tests.conftest import BASE_URL, DOMAIN, add_account
from tests.processing.conftest import (
    ALICE,
    BOB,
    NOW,
    PUBLIC,
    URLS,
    get_object,
    local_note,
    notifications,
    rows,
    store_actor,
    tables_snapshot,
)

ADA = f"{BASE_URL}/users/ada"
ADA_FOLLOWERS = f"{ADA}/followers"


def ctx(fetched: dict[str, dict[str, Any]] | None = None, now: float = NOW) -> OutboundContext:
    return OutboundContext(URLS, DOMAIN, now, fetched or {})


def target(uri: str, acct: str) -> MentionTarget:
    return MentionTarget(acct, uri, uri)


def run(db: Database, action: Any, *args: Any, context: OutboundContext | None = None) -> Sent:
    result: Sent = db.write_sync(lambda c: action(c, context or ctx(), *args))
    return result


def deliveries(db: Database, activity_id: str) -> list[str]:
    return sorted(
        r[0]
        for r in rows(db, "SELECT inbox FROM deliveries WHERE activity_uri = ?", (activity_id,))
    )


def follow(db: Database, follower: str, followee: str = ADA) -> None:
    db.write_sync(
        lambda c: c.execute(
            "INSERT INTO follows (follower_uri, followee_uri, state, created_at) "
            "VALUES (?, ?, 'accepted', 0)",
            [follower, followee],
        )
    )


# -- text ---------------------------------------------------------------------------


def test_render_links_mentions_hashtags_and_escapes() -> None:
    mentions = {"bob@gts.example": target(BOB, "bob@gts.example")}
    text = (
        "hi @bob@gts.example and @nobody@else.example! #Cats #1 it's <b>x</b>\n"
        "(see https://example.org/wiki/A_(b)). mail me: ada@example.org"
    )
    out = render(text, mentions, DOMAIN, f"{BASE_URL}/tags")
    assert out.mentions == (mentions["bob@gts.example"],)
    assert out.hashtags == ("cats",)
    assert '<a href="https://gts.example/users/bob" class="u-url mention"' in out.html
    assert "@nobody@else.example" in out.html  # unresolved: stays text
    assert 'href="https://agora.test/tags/cats"' in out.html and "#1" in out.html
    assert "&lt;b&gt;" in out.html and "<b>" not in out.html
    assert 'href="https://example.org/wiki/A_(b)"' in out.html and "</a>)." in out.html
    assert "it's" in out.html and "x27" not in out.html and 'href="mailto' not in out.html
    assert 'rel="nofollow noopener noreferrer"' in out.html


def test_handles_in_text() -> None:
    text = "@Bob@GTS.example @ada @bob@gts.example https://x.example/@carl mail a@b.example"
    assert handles_in(text, DOMAIN) == ["bob@gts.example", f"ada@{DOMAIN}"]


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", [PUBLIC], [ADA_FOLLOWERS, BOB]),
        ("unlisted", [ADA_FOLLOWERS], [PUBLIC, BOB]),
        ("private", [ADA_FOLLOWERS], [BOB]),
        ("direct", [BOB], []),
    ],
)
def test_addressing(visibility: Any, to: list[str], cc: list[str]) -> None:
    assert addressing(visibility, ADA_FOLLOWERS, [BOB, BOB]) == (to, cc)


# -- posting ------------------------------------------------------------------------


def test_public_post_is_stored_and_queued_once_per_shared_inbox(
    db: Database, ada: AccountRow
) -> None:
    for uri in (ALICE, "https://mastodon.example/users/zed", BOB):
        store_actor(db, uri)
        follow(db, uri)
    mentions = {"bob@gts.example": target(BOB, "bob@gts.example")}
    sent = run(db, post, ada, Draft("hello @bob@gts.example #tea", mentions=mentions))
    assert deliveries(db, sent.activity_id) == [
        "https://gts.example/inbox",
        "https://mastodon.example/inbox",
    ]
    validate_activity(sent.activity)
    note = sent.activity["object"]
    assert note["id"] == sent.object_id and note["to"] == [PUBLIC]
    assert note["cc"] == [ADA_FOLLOWERS, BOB]
    assert note["url"] == f"{BASE_URL}/@ada/{note['id'].rsplit('/', 1)[1]}"
    stored = get_object(db, note["id"])
    assert stored is not None and stored.local and stored.visibility == "public"
    assert stored.data["content"] == note["content"] and stored.activity_uri == sent.activity_id
    tags = rows(db, "SELECT kind, name, href FROM tags ORDER BY kind")
    assert tags == [
        ("hashtag", "tea", f"{BASE_URL}/tags/tea"),
        ("mention", "@bob@gts.example", BOB),
    ]
    assert rows(db, "SELECT visibility, local FROM activities") == [("public", 1)]


def test_followers_only_and_direct_reach_no_one_else(db: Database, ada: AccountRow) -> None:
    store_actor(db, ALICE)
    follow(db, ALICE)
    store_actor(db, BOB)
    private = run(db, post, ada, Draft("friends", visibility="private"))
    assert deliveries(db, private.activity_id) == ["https://mastodon.example/inbox"]
    assert PUBLIC not in str(private.activity)
    direct = run(db, post, ada, Draft("to nobody", visibility="direct"))
    assert deliveries(db, direct.activity_id) == []
    dm = run(db, post, ada, Draft("to bob", visibility="direct", recipients=(BOB,)))
    assert deliveries(db, dm.activity_id) == ["https://gts.example/inbox"]
    assert dm.activity["to"] == [BOB] and "cc" not in dm.activity


def test_local_mentions_and_replies_notify(
    db: Database, ada: AccountRow, settings: Settings
) -> None:
    bea = add_account(db, settings, "bea")
    cy = add_account(db, settings, "cy")
    parent = local_note(db, bea, "parent")
    mentions = {f"cy@{DOMAIN}": target(f"{BASE_URL}/users/cy", f"cy@{DOMAIN}")}
    sent = run(db, post, ada, Draft("@cy look", in_reply_to=parent, mentions=mentions))
    assert notifications(db, bea) == [("reply", ADA, sent.object_id)]
    assert notifications(db, cy) == [("mention", ADA, sent.object_id)]
    assert notifications(db, ada) == []
    assert deliveries(db, sent.activity_id) == []
    recipients = rows(db, "SELECT actor_uri FROM object_recipients ORDER BY actor_uri")
    assert recipients == [(f"{BASE_URL}/users/bea",), (f"{BASE_URL}/users/cy",)]


def test_reply_to_a_fetched_remote_post(db: Database, ada: AccountRow) -> None:
    store_actor(db, BOB)
    parent = {
        "id": "https://gts.example/users/bob/statuses/1",
        "type": "Note",
        "attributedTo": BOB,
        "content": "<p>parent</p>",
        "to": [PUBLIC],
    }
    sent = run(
        db, post, ada, Draft("reply", in_reply_to=parent["id"]), context=ctx({parent["id"]: parent})
    )
    assert sent.activity["object"]["inReplyTo"] == parent["id"]
    assert BOB in sent.activity["object"]["cc"]
    assert deliveries(db, sent.activity_id) == ["https://gts.example/inbox"]
    stored = get_object(db, parent["id"])
    assert stored is not None and not stored.local


def test_refusals_leave_nothing_behind(db: Database, ada: AccountRow) -> None:
    gone = local_note(db, ada, "gone")
    db.write_sync(lambda c: objects_store.tombstone_object(c, gone, ADA, NOW))
    before = tables_snapshot(db)
    cases: list[tuple[Draft, type[AgoraError]]] = [
        (Draft(""), UnprocessableEntity),
        (Draft("x" * 5001), UnprocessableEntity),
        (Draft("x", summary="y" * 501), UnprocessableEntity),
        (Draft("x", in_reply_to="https://nowhere.example/1"), UnprocessableEntity),
        (Draft("x", in_reply_to=gone), Gone),
    ]
    for draft, error in cases:
        with pytest.raises(error):
            run(db, post, ada, draft)
    assert tables_snapshot(db) == before


# -- edit and delete -----------------------------------------------------------------


def test_edit_keeps_history_and_reaches_the_same_audience(db: Database, ada: AccountRow) -> None:
    store_actor(db, ALICE)
    follow(db, ALICE)
    store_actor(db, BOB)
    first = run(db, post, ada, Draft("first", visibility="private"))
    uri = str(first.object_id)
    mentions = {"bob@gts.example": target(BOB, "bob@gts.example")}
    later = ctx(now=NOW + 60)
    update = run(
        db,
        edit,
        ada,
        uri,
        Draft("second @bob@gts.example", summary="cw", mentions=mentions),
        context=later,
    )
    validate_activity(update.activity)
    note = update.activity["object"]
    assert update.activity["type"] == "Update" and note["id"] == uri
    assert note["to"] == [ADA_FOLLOWERS] and note["cc"] == [BOB]
    assert note["summary"] == "cw" and note["sensitive"] is True and note["updated"]
    assert note["published"] == first.activity["object"]["published"]
    assert deliveries(db, update.activity_id) == [
        "https://gts.example/inbox",
        "https://mastodon.example/inbox",
    ]
    history = db.read_sync(lambda c: objects_store.object_history(c, uri))
    assert len(history) == 1 and history[0]["content"] == "<p>first</p>"
    stored = get_object(db, uri)
    assert stored is not None and stored.updated == NOW + 60 and "second" in stored.content
    with pytest.raises(UnprocessableEntity, match="unchanged"):
        run(db, edit, ada, uri, Draft("second @bob@gts.example", summary="cw", mentions=mentions))


def test_only_the_author_edits_or_deletes(
    db: Database, ada: AccountRow, settings: Settings
) -> None:
    bea = add_account(db, settings, "bea")
    theirs = local_note(db, bea, "theirs")
    with pytest.raises(Forbidden):
        run(db, edit, ada, theirs, Draft("mine now"))
    with pytest.raises(Forbidden):
        run(db, delete, ada, theirs)


def test_delete_leaves_a_tombstone_and_tells_the_audience(
    db: Database, ada: AccountRow, settings: Settings
) -> None:
    store_actor(db, ALICE)
    follow(db, ALICE)
    bea = add_account(db, settings, "bea")
    mentions = {f"bea@{DOMAIN}": target(f"{BASE_URL}/users/bea", f"bea@{DOMAIN}")}
    sent = run(db, post, ada, Draft("hi @bea", mentions=mentions))
    uri = str(sent.object_id)
    assert notifications(db, bea) != []
    gone = run(db, delete, ada, uri)
    validate_activity(gone.activity)
    assert gone.activity["object"] == {"id": uri, "type": "Tombstone"}
    assert deliveries(db, gone.activity_id) == ["https://mastodon.example/inbox"]
    stored = get_object(db, uri)
    assert stored is not None and stored.is_tombstone and stored.content == ""
    assert notifications(db, bea) == []
    with pytest.raises(Gone):
        run(db, delete, ada, uri)
