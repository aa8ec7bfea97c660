"""Mastodon API entities checked against ``schemas/mastodon/``.

``assert_entity("status", body)`` fails with the field path and the rule
broken. ``check_response`` knows which entity each client-API route answers
with; the ``node`` fixture runs it on every JSON answer the tests receive, so
every test of the client API also checks the shapes it gets.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "mastodon"
BASE = "https://agora-node.invalid/schemas/mastodon/"


@cache
def _validators() -> dict[str, Draft202012Validator]:
    contents = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in contents.values()
    )
    return {name: Draft202012Validator(doc, registry=registry) for name, doc in contents.items()}


def problems(name: str, value: object) -> str | None:
    """What is wrong with ``value`` as entity ``name`` (None when nothing is)."""
    error = best_match(_validators()[name].iter_errors(value))
    if error is None:
        return None
    return f"{name} at {error.json_path}: {error.message[:300]}"


def assert_entity(name: str, value: object) -> None:
    found = problems(name, value)
    assert found is None, found


def assert_entities(name: str, values: object) -> None:
    assert isinstance(values, list), f"{name}: expected a list, got {type(values).__name__}"
    for value in values:
        assert_entity(name, value)


_ID = r"[0-9]+"
# (method, path pattern) -> entity; "[x]" is a list of x.
ROUTES: list[tuple[str, str, str]] = [
    ("POST", r"/api/v1/apps", "application"),
    ("GET", r"/api/v1/apps/verify_credentials", "application"),
    ("POST", r"/oauth/token", "token"),
    ("GET", r"/api/v1/instance", "instance_v1"),
    ("GET", r"/api/v2/instance", "instance_v2"),
    ("GET", r"/api/v1/accounts/verify_credentials", "credential_account"),
    ("PATCH", r"/api/v1/accounts/update_credentials", "credential_account"),
    ("GET", r"/api/v1/accounts/lookup", "account"),
    ("GET", r"/api/v1/accounts/search", "[account]"),
    ("GET", r"/api/v1/accounts/relationships", "[relationship]"),
    ("GET", rf"/api/v1/accounts/{_ID}", "account"),
    ("GET", rf"/api/v1/accounts/{_ID}/statuses", "[status]"),
    ("GET", rf"/api/v1/accounts/{_ID}/(followers|following)", "[account]"),
    ("GET", rf"/api/v1/accounts/{_ID}/lists", "[list]"),
    ("GET", rf"/api/v1/accounts/{_ID}/featured_tags", "[featured_tag]"),
    (
        "POST",
        rf"/api/v1/accounts/{_ID}/(follow|unfollow|block|unblock|mute|unmute|note|remove_from_followers)",
        "relationship",
    ),
    ("POST", rf"/api/v1/follow_requests/{_ID}/(authorize|reject)", "relationship"),
    ("GET", r"/api/v1/(blocks|mutes|follow_requests)", "[account]"),
    ("POST", r"/api/v1/statuses", "status"),
    ("GET", rf"/api/v1/statuses/{_ID}", "status"),
    ("PUT", rf"/api/v1/statuses/{_ID}", "status"),
    ("DELETE", rf"/api/v1/statuses/{_ID}", "status"),
    ("GET", rf"/api/v1/statuses/{_ID}/context", "context"),
    ("GET", rf"/api/v1/statuses/{_ID}/history", "[status_edit]"),
    ("GET", rf"/api/v1/statuses/{_ID}/source", "status_source"),
    ("GET", rf"/api/v1/statuses/{_ID}/(favourited_by|reblogged_by)", "[account]"),
    (
        "POST",
        rf"/api/v1/statuses/{_ID}/(un)?(favourite|reblog|bookmark|pin|mute)",
        "status",
    ),
    ("GET", r"/api/v1/(bookmarks|favourites)", "[status]"),
    ("GET", r"/api/v1/timelines/(home|public|local)", "[status]"),
    ("GET", r"/api/v1/timelines/tag/[^/]+", "[status]"),
    ("GET", rf"/api/v1/timelines/list/{_ID}", "[status]"),
    ("GET", r"/api/v1/notifications", "[notification]"),
    ("GET", rf"/api/v1/notifications/{_ID}", "notification"),
    ("GET", r"/api/v1/markers", "marker"),
    ("POST", r"/api/v1/markers", "marker"),
    ("GET", r"/api/v1/lists", "[list]"),
    ("POST", r"/api/v1/lists", "list"),
    ("GET", rf"/api/v1/lists/{_ID}", "list"),
    ("PUT", rf"/api/v1/lists/{_ID}", "list"),
    ("GET", rf"/api/v1/lists/{_ID}/accounts", "[account]"),
    ("GET", r"/api/v1/conversations", "[conversation]"),
    ("POST", rf"/api/v1/conversations/{_ID}/read", "conversation"),
    ("GET", rf"/api/v1/polls/{_ID}", "poll"),
    ("POST", rf"/api/v1/polls/{_ID}/votes", "poll"),
    ("GET", r"/api/v2/search", "search"),
    ("GET", r"/api/v1/tags/[^/]+", "tag"),
    ("POST", r"/api/v1/tags/[^/]+/(follow|unfollow)", "tag"),
    ("GET", r"/api/v1/followed_tags", "[tag]"),
    ("GET", r"/api/v1/trends(/tags)?", "[tag]"),
    ("GET", r"/api/v1/trends/statuses", "[status]"),
    ("GET", r"/api/v1/trends/links", "[preview_card]"),
    ("GET", r"/api/v2/suggestions", "[suggestion]"),
    ("GET", r"/api/v1/suggestions", "[account]"),
    ("GET", r"/api/v1/featured_tags", "[featured_tag]"),
    ("POST", r"/api/v1/featured_tags", "featured_tag"),
    ("GET", r"/api/v1/featured_tags/suggestions", "[tag]"),
    ("GET", r"/api/v1/admin/domain_blocks", "[admin_domain_block]"),
    ("POST", r"/api/v1/admin/domain_blocks", "admin_domain_block"),
    ("GET", rf"/api/v1/admin/domain_blocks/{_ID}", "admin_domain_block"),
    ("PUT", rf"/api/v1/admin/domain_blocks/{_ID}", "admin_domain_block"),
    ("GET", r"/api/v1/admin/domain_allows", "[admin_domain_allow]"),
    ("POST", r"/api/v1/admin/domain_allows", "admin_domain_allow"),
    ("GET", rf"/api/v1/admin/domain_allows/{_ID}", "admin_domain_allow"),
    ("GET", r"/api/v1/instance/domain_blocks", "[domain_block]"),
]
_COMPILED = [(m, re.compile(p), e) for m, p, e in ROUTES]


def entity_of(method: str, path: str) -> str | None:
    for m, pattern, entity in _COMPILED:
        if m == method and pattern.fullmatch(path):
            return entity
    return None


def check_response(method: str, path: str, status: int, body: object) -> None:
    """Check one JSON answer of the client API: an error against ``error``, a
    success against the entity its route answers with."""
    if not path.startswith(("/api/", "/oauth/token")):
        return
    if status >= 400:
        assert_entity("error", body)
        return
    if status != 200:
        return
    entity = entity_of(method, path)
    if entity is None:
        return
    if entity.startswith("["):
        assert_entities(entity[1:-1], body)
    else:
        assert_entity(entity, body)


def check_shapes(client: TestClient) -> None:  # type: ignore[type-arg]
    """Every JSON answer of the client API the tests get is checked against its
    entity's schema (tests/api/entities.py) before the test sees it."""
    request = client._request

    async def checked(method: str, path: Any, *args: Any, **kwargs: Any) -> Any:
        resp = await request(method, path, *args, **kwargs)
        if resp.content_type == "application/json":
            body = json.loads(await resp.read() or b"null")
            check_response(method.upper(), resp.url.path, resp.status, body)
        return resp

    client._request = checked  # type: ignore[method-assign]
