"""Origin rules: who may say what about which objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agora_node.errors import AgoraError, BadRequest, Forbidden, SignatureError
from agora_node.protocol.authority import check_activity_authority, object_is_trusted_inline
from agora_node.protocol.vocab import id_of

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
ACTIVITY_FIXTURES = sorted(
    p.name for p in PAYLOADS.glob("*.json") if p.name != "misskey_person.json"
)

ALICE = "https://mastodon.example/users/alice"
BOB = "https://gts.example/users/bob"
ADA = "https://agora.example/users/ada"


def load(name: str) -> dict[str, Any]:
    with (PAYLOADS / name).open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def refused(activity: dict[str, Any], key_owner: str | None = None) -> AgoraError:
    owner = id_of(activity.get("actor")) if key_owner is None else key_owner
    with pytest.raises(AgoraError) as info:
        check_activity_authority(activity, owner or "")
    return info.value


@pytest.mark.parametrize("name", ACTIVITY_FIXTURES)
def test_every_fixture_is_authorised_for_its_own_actor(name: str) -> None:
    activity = load(name)
    check_activity_authority(activity, id_of(activity["actor"]) or "")


# --- key owner ---------------------------------------------------------------------


def test_unsigned_activity_is_unauthorised() -> None:
    error = refused(load("gts_follow.json"), key_owner="")
    assert isinstance(error, SignatureError)
    assert error.status == 401
    assert error.reason == "missing_signature"


def test_key_owner_must_be_the_actor() -> None:
    # Given a Follow signed by a key that belongs to another actor on the same host
    activity = load("gts_follow.json")
    error = refused(activity, key_owner="https://gts.example/users/mallory")
    assert isinstance(error, SignatureError)
    assert error.reason == "key_owner_mismatch"
    assert error.status == 401


def test_embedded_actor_object_is_read_by_id() -> None:
    activity = load("gts_follow.json")
    activity["actor"] = {"id": BOB, "type": "Person"}
    check_activity_authority(activity, BOB)


@pytest.mark.parametrize("actor", [None, 42, ["https://gts.example/users/bob"], {"type": "Person"}])
def test_activity_without_usable_actor_is_bad_request(actor: Any) -> None:
    activity = load("gts_follow.json")
    activity["actor"] = actor
    error = refused(activity, key_owner=BOB)
    assert isinstance(error, BadRequest)


def test_actor_that_is_not_http_is_bad_request() -> None:
    activity = load("gts_follow.json")
    activity["actor"] = "acct:bob@gts.example"
    assert isinstance(refused(activity), BadRequest)


# --- activity id --------------------------------------------------------------------


def test_activity_id_must_be_on_the_actors_host() -> None:
    activity = load("gts_follow.json")
    activity["id"] = "https://evil.example/follows/1"
    error = refused(activity)
    assert isinstance(error, Forbidden)
    assert error.status == 403


def test_activity_id_host_comparison_is_normalised() -> None:
    activity = load("gts_follow.json")
    activity["id"] = "https://GTS.Example.:443/users/bob/follow/2"
    check_activity_authority(activity, BOB)


def test_activity_id_on_another_port_is_another_host() -> None:
    activity = load("gts_follow.json")
    activity["id"] = "https://gts.example:8443/users/bob/follow/2"
    assert isinstance(refused(activity), Forbidden)


@pytest.mark.parametrize("activity_id", [None, 5, "javascript:alert(1)", "urn:uuid:1"])
def test_missing_or_odd_activity_id_is_bad_request(activity_id: Any) -> None:
    activity = load("gts_follow.json")
    activity["id"] = activity_id
    assert isinstance(refused(activity), BadRequest)


# --- embedded and referenced objects --------------------------------------------------


def test_created_object_must_be_on_the_actors_host() -> None:
    # A server may not create posts that claim to live elsewhere.
    activity = load("mastodon_create_note.json")
    activity["object"]["id"] = "https://agora.example/notes/forged"
    assert isinstance(refused(activity), Forbidden)


def test_created_object_by_uri_must_be_on_the_actors_host() -> None:
    activity = load("mastodon_create_note.json")
    activity["object"] = "https://agora.example/notes/forged"
    assert isinstance(refused(activity), Forbidden)


def test_delete_of_someone_elses_object_is_forbidden() -> None:
    activity = load("mastodon_delete_note.json")
    activity["object"]["id"] = "https://agora.example/notes/01JD3M2W8Q4X9B7C5N6P0R1S2T"
    assert isinstance(refused(activity), Forbidden)
    activity["object"] = "https://agora.example/users/ada"
    assert isinstance(refused(activity), Forbidden)


def test_undo_of_an_activity_elsewhere_is_forbidden() -> None:
    activity = load("gts_undo_follow.json")
    activity["object"]["id"] = "https://agora.example/users/ada/follows/1"
    assert isinstance(refused(activity), Forbidden)


def test_undo_of_another_actors_activity_is_forbidden() -> None:
    # Same host, different user: still not yours to undo.
    activity = load("gts_undo_follow.json")
    activity["object"]["actor"] = "https://gts.example/users/carol"
    assert isinstance(refused(activity), Forbidden)


def test_unknown_activity_may_not_embed_a_foreign_object() -> None:
    activity = {
        "id": "https://gts.example/users/bob/view/1",
        "type": "View",
        "actor": BOB,
        "object": {"id": "https://agora.example/notes/1", "type": "Note"},
    }
    assert isinstance(refused(activity), Forbidden)


def test_announce_may_embed_a_foreign_object() -> None:
    activity = load("mastodon_announce.json")
    activity["object"] = {
        "id": "https://agora.example/notes/01JD3M2W8Q4X9B7C5N6P0R1S2T",
        "type": "Note",
        "attributedTo": ADA,
        "content": "<p>forged or not, we will refetch it</p>",
    }
    check_activity_authority(activity, ALICE)
    assert not object_is_trusted_inline(activity)


def test_accept_embeds_our_follow_from_another_host() -> None:
    activity = load("gts_accept_follow.json")
    assert activity["object"]["id"].startswith("https://agora.example/")
    check_activity_authority(activity, BOB)
    assert not object_is_trusted_inline(activity)


def test_accept_of_a_follow_addressed_to_someone_else_is_forbidden() -> None:
    activity = load("gts_accept_follow.json")
    activity["object"]["object"] = "https://gts.example/users/carol"
    assert isinstance(refused(activity), Forbidden)
    reject = load("gts_reject_follow.json")
    reject["object"]["object"] = "https://gts.example/users/carol"
    assert isinstance(refused(reject), Forbidden)


def test_like_and_flag_point_at_foreign_objects() -> None:
    check_activity_authority(
        load("misskey_like_reaction.json"), "https://misskey.example/users/9x1a2b3c4d"
    )
    check_activity_authority(load("mastodon_flag.json"), "https://mastodon.example/actor")


# --- attribution ---------------------------------------------------------------------


def test_create_attributed_to_someone_else_is_forbidden() -> None:
    activity = load("mastodon_create_note.json")
    activity["object"]["attributedTo"] = "https://mastodon.example/users/carol"
    assert isinstance(refused(activity), Forbidden)


@pytest.mark.parametrize(
    "attributed_to",
    [ALICE, [ALICE], {"id": ALICE, "type": "Person"}, [{"id": ALICE, "type": "Person"}]],
)
def test_attributed_to_shapes_are_understood(attributed_to: Any) -> None:
    activity = load("mastodon_create_note.json")
    activity["object"]["attributedTo"] = attributed_to
    check_activity_authority(activity, ALICE)


def test_attributed_to_list_with_a_stranger_is_forbidden() -> None:
    activity = load("mastodon_create_note.json")
    activity["object"]["attributedTo"] = [ALICE, "https://mastodon.example/users/carol"]
    assert isinstance(refused(activity), Forbidden)


def test_create_without_attributed_to_is_allowed() -> None:
    activity = load("mastodon_create_note.json")
    del activity["object"]["attributedTo"]
    check_activity_authority(activity, ALICE)


def test_update_of_another_actor_is_forbidden() -> None:
    # Same host, but an actor may only update its own profile.
    activity = load("mastodon_update_person.json")
    activity["object"]["id"] = "https://mastodon.example/users/carol"
    assert isinstance(refused(activity), Forbidden)


def test_update_of_a_note_attributed_to_someone_else_is_forbidden() -> None:
    activity = {
        "id": "https://mastodon.example/users/alice/statuses/1#updates/2",
        "type": "Update",
        "actor": ALICE,
        "object": {
            "id": "https://mastodon.example/users/alice/statuses/1",
            "type": "Note",
            "attributedTo": "https://mastodon.example/users/carol",
        },
    }
    assert isinstance(refused(activity), Forbidden)


# --- Move, Add/Remove ------------------------------------------------------------------


def test_move_of_another_account_is_forbidden() -> None:
    activity = load("mastodon_move.json")
    activity["object"] = "https://mastodon.example/users/carol"
    assert isinstance(refused(activity), Forbidden)


def test_move_target_may_be_elsewhere() -> None:
    activity = load("mastodon_move.json")
    assert activity["target"].startswith("https://gts.example/")
    check_activity_authority(activity, ALICE)


def test_add_to_a_foreign_collection_is_forbidden() -> None:
    activity = load("mastodon_add_featured.json")
    activity["target"] = "https://agora.example/users/ada/collections/featured"
    assert isinstance(refused(activity), Forbidden)
    remove = load("mastodon_remove_featured.json")
    remove["target"] = {"id": "https://agora.example/users/ada/collections/featured"}
    assert isinstance(refused(remove), Forbidden)


# --- trusted inline ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "trusted"),
    [
        ("mastodon_create_note.json", True),
        ("gts_create_note.json", True),
        ("misskey_create_quote.json", True),
        ("pleroma_create_direct.json", True),
        ("blog_create_article.json", True),
        ("mastodon_update_person.json", True),
        ("mastodon_delete_note.json", True),
        ("gts_undo_follow.json", True),
        ("misskey_undo_like.json", True),
        ("gts_accept_follow.json", False),  # our Follow, on our host
        ("mastodon_announce.json", False),  # object by URI only
        ("mastodon_delete_actor_signed.json", False),  # object by URI only
        ("misskey_like_reaction.json", False),
    ],
)
def test_object_is_trusted_inline_for_fixtures(name: str, trusted: bool) -> None:
    assert object_is_trusted_inline(load(name)) is trusted


def test_announce_of_own_post_is_trusted_inline() -> None:
    activity = load("mastodon_announce.json")
    activity["object"] = {
        "id": "https://mastodon.example/users/alice/statuses/1",
        "type": "Note",
        "attributedTo": ALICE,
    }
    assert object_is_trusted_inline(activity)


def test_announce_without_author_is_not_trusted_inline() -> None:
    activity = load("mastodon_announce.json")
    activity["object"] = {"id": "https://mastodon.example/users/alice/statuses/1", "type": "Note"}
    assert not object_is_trusted_inline(activity)


def test_announce_of_same_host_post_by_someone_else_is_not_trusted_inline() -> None:
    activity = load("mastodon_announce.json")
    activity["object"] = {
        "id": "https://mastodon.example/users/carol/statuses/1",
        "type": "Note",
        "attributedTo": "https://mastodon.example/users/carol",
    }
    assert not object_is_trusted_inline(activity)


def test_trusted_inline_needs_the_same_scheme_and_an_id() -> None:
    activity = load("mastodon_create_note.json")
    activity["object"]["id"] = "http://mastodon.example/users/alice/statuses/1"
    assert not object_is_trusted_inline(activity)
    del activity["object"]["id"]
    assert not object_is_trusted_inline(activity)


def test_trusted_inline_refuses_foreign_attribution() -> None:
    activity = load("mastodon_create_note.json")
    activity["object"]["attributedTo"] = "https://mastodon.example/users/carol"
    assert not object_is_trusted_inline(activity)


def test_trusted_inline_without_actor_is_false() -> None:
    activity = load("mastodon_create_note.json")
    del activity["actor"]
    assert not object_is_trusted_inline(activity)
