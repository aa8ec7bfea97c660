"""The Mastodon entity schemas themselves: valid, and strict where Mastodon is,
so the shape checks every client-API test runs (tests/api/entities.py) can fail."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.api.entities import ROUTES, SCHEMAS, entity_of, problems

ACCOUNT: dict[str, Any] = {
    "id": "1", "username": "alice", "acct": "alice", "display_name": "Alice", "locked": False,
    "bot": False, "discoverable": True, "group": False, "created_at": "2026-12-07T10:00:00.000Z",
    "note": "", "url": "https://node.example/@alice", "uri": "https://node.example/users/alice",
    "avatar": "https://node.example/a.png", "avatar_static": "https://node.example/a.png",
    "header": "https://node.example/h.png", "header_static": "https://node.example/h.png",
    "followers_count": 0, "following_count": 0, "statuses_count": 1, "last_status_at": None,
    "emojis": [], "fields": [],
}  # fmt: skip
STATUS: dict[str, Any] = {
    "id": "10", "uri": "https://node.example/users/alice/statuses/1",
    "url": "https://node.example/@alice/1", "created_at": "2026-12-07T10:00:00.000Z",
    "edited_at": None, "account": ACCOUNT, "content": "<p>hi</p>", "spoiler_text": "",
    "sensitive": False, "visibility": "public", "language": None, "in_reply_to_id": None,
    "in_reply_to_account_id": None, "reblog": None, "media_attachments": [], "mentions": [],
    "tags": [], "emojis": [], "reblogs_count": 0, "favourites_count": 0, "replies_count": 0,
    "poll": None, "card": None, "application": None,
}  # fmt: skip


def _with(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    here = out
    for key in path[:-1]:
        here = here[key]
    if value is _DROP:
        del here[path[-1]]
    else:
        here[path[-1]] = value
    return out


_DROP = object()


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.json")), ids=lambda p: p.stem)
def test_each_schema_is_valid(path: Any) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/mastodon/{path.name}")


def test_good_examples_pass() -> None:
    assert problems("account", ACCOUNT) is None
    assert problems("status", STATUS) is None
    boost = {**STATUS, "id": "11", "reblog": STATUS}
    assert problems("status", boost) is None


@pytest.mark.parametrize(
    ("entity", "doc", "path", "value"),
    [
        ("account", ACCOUNT, ["id"], 1),  # ids are strings
        ("account", ACCOUNT, ["avatar"], ""),  # apps break on empty images
        ("account", ACCOUNT, ["emojis"], None),
        ("account", ACCOUNT, ["created_at"], "yesterday"),
        ("account", ACCOUNT, ["acct"], _DROP),
        ("status", STATUS, ["visibility"], _DROP),
        ("status", STATUS, ["visibility"], "everyone"),
        ("status", STATUS, ["account", "id"], 7),
        ("status", STATUS, ["reblog"], {"id": "1"}),
        ("status", STATUS, ["favourites_count"], -1),
        ("status", STATUS, ["uri"], "not a url"),
    ],
)
def test_bad_examples_fail(entity: str, doc: dict[str, Any], path: list[Any], value: Any) -> None:
    assert problems(entity, _with(doc, path, value)) is not None


def test_errors_and_other_entities_are_strict() -> None:
    assert problems("error", {"error": "Record not found"}) is None
    assert problems("error", {"message": "nope"}) is not None
    assert problems("relationship", {"id": "1"}) is not None
    assert problems("list", {"id": "1", "title": "x", "replies_policy": "all", "exclusive": False})
    assert problems("tag", {"name": "x", "url": "https://n.example/tags/x", "history": [
        {"day": "1", "uses": 2, "accounts": "1"}]})  # fmt: skip


def test_routes_name_known_entities() -> None:
    known = {p.stem for p in SCHEMAS.glob("*.json")}
    for _, _, entity in ROUTES:
        assert entity.strip("[]") in known, entity
    assert entity_of("GET", "/api/v1/statuses/5/context") == "context"
    assert entity_of("GET", "/api/v1/accounts/5/statuses") == "[status]"
    assert entity_of("POST", "/api/v1/accounts/5/follow") == "relationship"
    assert entity_of("GET", "/api/v1/nothing") is None
