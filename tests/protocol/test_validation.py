"""Schema validation of inbound activities, plus the vocabulary readers it relies on."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agora_node.errors import BadRequest
from agora_node.protocol import validation
from agora_node.protocol.validation import validate_activity, validate_object
from agora_node.protocol.vocab import (
    ACTIVITY_JSON,
    AS_CONTEXT,
    LD_JSON_AS,
    PUBLIC,
    as_list,
    audience_of,
    id_of,
    is_activity_json_content_type,
    is_public,
    types_of,
    visibility_of,
)

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
FIXTURES = sorted(p.name for p in PAYLOADS.glob("*.json"))
OBJECT_FIXTURES = {"misskey_person.json"}


def load(name: str) -> dict[str, Any]:
    with (PAYLOADS / name).open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


def bad_request(fn: Callable[[Any], None], doc: Any) -> BadRequest:
    with pytest.raises(BadRequest) as info:
        fn(doc)
    return info.value


# --- every real-world fixture is accepted -------------------------------------


def test_fixture_set_covers_the_implementations() -> None:
    prefixes = {name.split("_")[0] for name in FIXTURES}
    assert {"mastodon", "gts", "pleroma", "misskey"} <= prefixes
    assert len(FIXTURES) >= 20


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_validates(name: str) -> None:
    doc = load(name)
    if name in OBJECT_FIXTURES:
        validate_object(doc)
    else:
        validate_activity(doc)


def test_embedded_objects_validate_as_fetched_objects() -> None:
    for name in FIXTURES:
        obj = load(name).get("object")
        if isinstance(obj, dict) and "id" in obj:
            validate_object(obj)


# --- broken variants name the failing field -----------------------------------


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(key)


def _tags(kind: str, count: int) -> list[dict[str, str]]:
    return [
        {"type": kind, "href": f"https://mastodon.example/t/{i}", "name": f"#t{i}"}
        for i in range(count)
    ]


BROKEN = [
    ("mastodon_create_note.json", _drop("id"), "$", "'id' is a required property"),
    ("gts_follow.json", _drop("id"), "$", "'id' is a required property"),
    ("gts_follow.json", _drop("actor"), "$", "'actor' is a required property"),
    ("gts_follow.json", _drop("object"), "$", "'object' is a required property"),
    ("gts_follow.json", _set(["actor"], "bob"), "$.actor", "not an absolute http(s) URI"),
    (
        "gts_follow.json",
        _set(["actor"], {"id": "urn:x:bob"}),
        "$.actor.id",
        "not an absolute http(s) URI",
    ),
    ("gts_follow.json", _set(["actor"], 42), "$.actor", "must be of type object"),
    (
        "mastodon_create_note.json",
        _set(["id"], "javascript:alert(1)"),
        "$.id",
        "not an absolute http(s) URI",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "id"], "javascript:alert(1)"),
        "$.object.id",
        "not an absolute http(s) URI",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "tag", 0, "href"], "javascript:alert(1)"),
        "$.object.tag[0].href",
        "not an absolute http(s) URI",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "attachment", 0, "url"], "data:image/png;base64,AAAA"),
        "$.object.attachment[0].url",
        "not an absolute http(s) URI",
    ),
    (
        "mastodon_create_note.json",
        _set(["cc", 1], "javascript:alert(1)"),
        "$.cc[1]",
        "not an absolute http(s) URI",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "content"], "x" * 100_001),
        "$.object.content",
        "longer than 100000 characters",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "contentMap", "en"], "x" * 100_001),
        "$.object.contentMap.en",
        "longer than 100000 characters",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "summary"], "x" * 5_001),
        "$.object.summary",
        "longer than 5000 characters",
    ),
    (
        "blog_create_article.json",
        _set(["object", "name"], "x" * 201),
        "$.object.name",
        "longer than 200 characters",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "tag"], _tags("Hashtag", 101)),
        "$.object.tag",
        "more than 100 Hashtag items",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "tag"], _tags("Mention", 101)),
        "$.object.tag",
        "more than 100 Mention items",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "tag"], _tags("Link", 301)),
        "$.object.tag",
        "more than 300 items",
    ),
    (
        "mastodon_create_note.json",
        _set(["object", "attachment"], [{"type": "Image", "url": "https://m.example/a.png"}] * 21),
        "$.object.attachment",
        "more than 20 items",
    ),
    (
        "mastodon_create_question.json",
        _set(["object", "oneOf"], [{"type": "Note", "name": f"o{i}"} for i in range(21)]),
        "$.object.oneOf",
        "more than 20 items",
    ),
    (
        "misskey_create_quote.json",
        _set(["object", "_misskey_quote"], "javascript:alert(1)"),
        "$.object._misskey_quote",
        "not an absolute http(s) URI",
    ),
    (
        "gts_create_note.json",
        _set(["object", "interactionPolicy", "canReply", "always"], ["javascript:x"]),
        "$.object.interactionPolicy.canReply.always[0]",
        "not an absolute http(s) URI",
    ),
    ("mastodon_move.json", _drop("target"), "$", "'target' is a required property"),
    ("mastodon_flag.json", _set(["object"], []), "$.object", "fewer than 1 items"),
    ("mastodon_create_note.json", _set(["@context"], 7), '$["@context"]', "must be of type"),
    (
        "mastodon_create_note.json",
        _set(["object", "type"], None),
        "$.object.type",
        "must be of type string",
    ),
    (
        "mastodon_update_person.json",
        _set(["object", "inbox"], "ftp://mastodon.example/inbox"),
        "$.object.inbox",
        "not an absolute http(s) URI",
    ),
    (
        "misskey_like_reaction.json",
        _set(["_misskey_reaction"], "x" * 201),
        "$._misskey_reaction",
        "longer than 200 characters",
    ),
]


@pytest.mark.parametrize(("name", "mutate", "path", "detail"), BROKEN)
def test_broken_variant_is_refused_with_its_path(
    name: str, mutate: Callable[[dict[str, Any]], None], path: str, detail: str
) -> None:
    # Given a real payload with one thing broken
    doc = load(name)
    mutate(doc)
    # When it is validated
    error = bad_request(validate_activity, doc)
    # Then the error names the field and the rule
    assert error.status == 400
    assert error.public_message == "invalid activity"
    assert error.details["path"] == path
    assert detail in error.details["detail"]


def test_error_detail_never_echoes_the_value() -> None:
    doc = load("mastodon_create_note.json")
    doc["object"]["content"] = "<script>steal()</script>" * 5000
    doc["object"]["url"] = "javascript:steal()"
    body = json.dumps(bad_request(validate_activity, doc).to_json())
    assert "steal" not in body
    assert len(body) < 300


@pytest.mark.parametrize("keyword", ["@graph", "@included", "@reverse"])
def test_graph_keywords_are_refused_at_top_level(keyword: str) -> None:
    doc = load("gts_follow.json")
    doc[keyword] = [{"id": "https://gts.example/x", "type": "Note"}]
    error = bad_request(validate_activity, doc)
    assert error.public_message == "JSON-LD graph keywords are not accepted"
    assert error.details["path"] == f'$["{keyword}"]'


def test_graph_keywords_are_refused_in_the_embedded_object() -> None:
    doc = load("mastodon_create_note.json")
    doc["object"]["@graph"] = []
    error = bad_request(validate_activity, doc)
    assert error.public_message == "JSON-LD graph keywords are not accepted"
    assert error.details["path"] == '$.object["@graph"]'


def test_graph_keywords_are_refused_in_fetched_objects() -> None:
    doc = load("misskey_person.json")
    doc["@included"] = []
    assert bad_request(validate_object, doc).details["path"] == '$["@included"]'


def test_ld_signature_is_tolerated_not_trusted() -> None:
    # Mastodon signs some Deletes with LD signatures: we accept the document
    # whatever the block says, because we never read it.
    doc = load("mastodon_delete_actor_signed.json")
    doc["signature"] = {"type": "SomethingElse2099", "signatureValue": "not base64 at all"}
    validate_activity(doc)


def test_unknown_activity_type_needs_only_id_type_actor() -> None:
    doc = load("pleroma_emoji_react.json")
    validate_activity(doc)
    minimal = {"id": doc["id"], "type": "Bite", "actor": doc["actor"]}
    validate_activity(minimal)
    del minimal["actor"]
    assert bad_request(validate_activity, minimal).details["path"] == "$"


def test_type_may_be_a_list() -> None:
    doc = load("mastodon_create_note.json")
    doc["type"] = ["Create", "schema:CreateAction"]
    doc["object"]["type"] = ["Note", "schema:Thing"]
    validate_activity(doc)
    doc["object"]["content"] = "x" * 100_001
    assert bad_request(validate_activity, doc).details["path"] == "$.object.content"


def test_accept_may_embed_a_follow_without_id() -> None:
    doc = load("gts_accept_follow.json")
    del doc["object"]["id"]
    validate_activity(doc)


def test_nested_embedded_objects_are_validated() -> None:
    # Group relays: Announce { Create { Note } }
    create = load("mastodon_create_note.json")
    del create["@context"]
    announce = {
        "id": "https://mastodon.example/users/alice/statuses/1/activity",
        "type": "Announce",
        "actor": "https://mastodon.example/users/alice",
        "object": create,
    }
    validate_activity(announce)
    create["object"]["attributedTo"] = "javascript:alert(1)"
    error = bad_request(validate_activity, announce)
    assert error.details["path"] == "$.object.object.attributedTo"


def test_question_options_are_checked() -> None:
    doc = load("mastodon_create_question.json")
    doc["object"]["oneOf"][1]["name"] = "x" * 201
    assert bad_request(validate_activity, doc).details["path"] == "$.object.oneOf[1].name"


def test_non_object_documents_are_refused() -> None:
    docs: list[Any] = [[], "Create", None, 3]
    for doc in docs:
        error = bad_request(validate_activity, doc)
        assert error.details == {"path": "$", "detail": "must be of type object"}


# --- fetched objects --------------------------------------------------------


def test_fetched_actor_needs_an_inbox() -> None:
    doc = load("misskey_person.json")
    del doc["inbox"]
    error = bad_request(validate_object, doc)
    assert error.public_message == "invalid object"
    assert error.details["path"] == "$"
    assert "'inbox'" in error.details["detail"]


def test_fetched_actor_bio_may_be_longer_than_a_content_warning() -> None:
    doc = load("misskey_person.json")
    doc["summary"] = "x" * 10_000
    validate_object(doc)
    doc["summary"] = "x" * 20_001
    assert bad_request(validate_object, doc).details["path"] == "$.summary"


def test_fetched_unknown_object_type_gets_the_minimal_schema() -> None:
    video = {
        "id": "https://peertube.example/videos/watch/1",
        "type": "Video",
        "name": "Pruning apple trees",
        "url": [{"type": "Link", "href": "https://peertube.example/w/1", "mediaType": "text/html"}],
    }
    validate_object(video)
    del video["id"]
    assert bad_request(validate_object, video).details["path"] == "$"


def test_fetched_activity_gets_the_activity_rules() -> None:
    doc = load("mastodon_announce.json")
    validate_object(doc)
    del doc["actor"]
    assert bad_request(validate_object, doc).public_message == "invalid activity"


def test_fetched_tombstone() -> None:
    validate_object(load("mastodon_delete_note.json")["object"])


# --- schema loading ------------------------------------------------------------


@pytest.fixture
def fresh_schema_cache() -> Iterator[None]:
    validation._validators.cache_clear()
    validation._fast_validators.cache_clear()
    yield
    validation._validators.cache_clear()
    validation._fast_validators.cache_clear()


def test_every_schema_file_is_used(fresh_schema_cache: None) -> None:
    stems = set(validation._validators())
    used = {*validation.ACTIVITY_SCHEMAS.values(), *validation.OBJECT_SCHEMAS.values()}
    used |= {validation.ANY_ACTIVITY, validation.ANY_OBJECT, validation.EMBEDDED_ACTIVITY}
    assert stems == used | {"defs"}


def test_schemas_dir_env_var_wins(
    fresh_schema_cache: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = tmp_path / "schemas"
    shutil.copytree(validation.schemas_dir(), copied)
    (copied / "follow.json").unlink()
    monkeypatch.setenv(validation.SCHEMAS_DIR_ENV, str(copied))
    assert validation.schemas_dir() == copied
    with pytest.raises(RuntimeError, match="follow"):
        validate_activity(load("gts_follow.json"))


def test_schemas_are_loaded_once(fresh_schema_cache: None) -> None:
    validate_activity(load("gts_follow.json"))
    validate_activity(copy.deepcopy(load("gts_follow.json")))
    assert validation._validators.cache_info().misses == 1


# --- vocabulary readers (no test module of their own yet) --------------------------


def test_as_list_and_id_of() -> None:
    assert as_list(None) == []
    assert as_list("a") == ["a"]
    assert as_list(["a", "b"]) == ["a", "b"]
    assert id_of("https://a.example/x") == "https://a.example/x"
    assert id_of({"id": "https://a.example/x", "type": "Note"}) == "https://a.example/x"
    assert id_of({"type": "Note"}) is None
    assert id_of(3) is None
    assert types_of({"type": ["Note", 3]}) == ["Note"]
    assert types_of("Note") == []


def test_public_aliases() -> None:
    assert is_public(PUBLIC)
    assert is_public("as:Public")
    assert is_public("Public")
    assert is_public({"id": PUBLIC})
    assert not is_public("https://www.w3.org/ns/activitystreams#public")


def test_audience_of_reads_every_address_field() -> None:
    obj = {
        "to": "https://a.example/u/1",
        "cc": [{"id": "https://a.example/u/2"}, None],
        "bto": ["https://a.example/u/3"],
        "bcc": "https://a.example/u/4",
        "audience": "https://a.example/g/5",
    }
    assert audience_of(obj) == {
        f"https://a.example/{p}" for p in ("u/1", "u/2", "u/3", "u/4", "g/5")
    }


FOLLOWERS = "https://mastodon.example/users/alice/followers"


@pytest.mark.parametrize(
    ("to", "cc", "expected"),
    [
        ([PUBLIC], [FOLLOWERS], "public"),
        (["as:Public"], [], "public"),
        ([FOLLOWERS], ["Public"], "unlisted"),
        ([FOLLOWERS], [], "private"),
        (["https://agora.example/users/ada"], [FOLLOWERS], "private"),
        (["https://agora.example/users/ada"], [], "direct"),
        ([], [], "direct"),
    ],
)
def test_visibility_follows_mastodon(to: list[str], cc: list[str], expected: str) -> None:
    assert visibility_of({"to": to, "cc": cc}, FOLLOWERS) == expected


def test_visibility_without_known_followers_collection_is_direct() -> None:
    assert visibility_of({"to": [FOLLOWERS]}, None) == "direct"


def test_visibility_of_fixtures() -> None:
    assert visibility_of(load("mastodon_create_note.json"), FOLLOWERS) == "public"
    pleroma = load("pleroma_create_direct.json")
    assert visibility_of(pleroma, "https://pleroma.example/users/dee/followers") == "direct"


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        (ACTIVITY_JSON, True),
        ("Application/Activity+JSON; charset=utf-8", True),
        (LD_JSON_AS, True),
        ('application/ld+json;profile="https://www.w3.org/ns/activitystreams"', True),
        (
            'APPLICATION/LD+JSON; charset=utf-8; PROFILE="https://www.w3.org/ns/activitystreams"',
            True,
        ),
        ("application/ld+json; profile=https://www.w3.org/ns/activitystreams", True),
        (f'application/ld+json; profile="https://example.org/p {AS_CONTEXT}"', True),
        ("application/ld+json", False),
        ('application/ld+json; profile="https://example.org/other"', False),
        ("application/json", False),
        ("text/html", False),
        ("", False),
    ],
)
def test_activity_json_content_types(content_type: str, accepted: bool) -> None:
    assert is_activity_json_content_type(content_type) is accepted
