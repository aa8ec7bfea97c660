"""The inbound policies: each with input it should pass and input it should not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agora_node.config import settings_from_dict
from agora_node.errors import ConfigError
from agora_node.processing.policies import (
    Accept,
    Pipeline,
    PolicyContext,
    Reject,
    Rewrite,
)
from agora_node.store import objects as objects_store
from agora_node.store.db import Database
from tests.processing.conftest import NOW, process, store_actor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HERE = "https://agora.test/users/ada"
THEM = "https://mastodon.example/users/zed"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
DAY = 86400.0


def ctx(published: float | None = NOW - 400 * DAY, **fetched: Any) -> PolicyContext:
    return PolicyContext(
        NOW, lambda u: u.startswith("https://agora.test/"), lambda uri: published, fetched
    )


def create(content: str = "<p>hello</p>", **obj: Any) -> dict[str, Any]:
    return {
        "id": f"{THEM}/activities/1",
        "type": "Create",
        "actor": THEM,
        "published": "2026-12-08T10:00:00Z",
        "object": {
            "id": f"{THEM}/notes/1", "type": "Note", "attributedTo": THEM,
            "content": content, "to": [PUBLIC], **obj,
        },
    }  # fmt: skip


def verdict(
    specs: list[dict[str, Any]], activity: dict[str, Any], c: PolicyContext | None = None
) -> Any:
    outcome = Pipeline.from_specs(specs).run(activity, c or ctx())
    return outcome.steps[-1].verdict


def test_keywords_reject_and_mark_sensitive() -> None:
    spec = [{"name": "keywords", "reject": ["buy followers"], "sensitive": ["gore"]}]
    assert isinstance(verdict(spec, create("<p>Hello friends</p>")), Accept)
    refused = verdict(spec, create("<p>Cheap! BUY FOLLOWERS now</p>"))
    assert isinstance(refused, Reject) and "BUY FOLLOWERS" in refused.reason
    # In a content warning or alt text too; as a whole word only.
    assert isinstance(verdict(spec, create(summary="buy followers")), Reject)
    assert isinstance(verdict(spec, create("<p>rebuy followersx</p>")), Accept)
    marked = verdict(spec, create("<p>some gore inside</p>"))
    assert isinstance(marked, Rewrite) and marked.activity["object"]["sensitive"] is True
    assert isinstance(verdict(spec, create("<p>gore</p>", sensitive=True)), Accept)


def test_max_mentions() -> None:
    spec = [{"name": "max_mentions", "max": 2}]
    tags = [{"type": "Mention", "href": f"https://x.example/users/{n}"} for n in range(3)]
    assert isinstance(verdict(spec, create(tag=tags[:2])), Accept)
    refused = verdict(spec, create(tag=tags))
    assert isinstance(refused, Reject) and "3 mentions" in refused.reason


def test_account_age_guards_mentions_and_private_posts_only() -> None:
    spec = [{"name": "account_age", "min_days": 2}]
    young = ctx(published=NOW - 3600)
    mention = create(tag=[{"type": "Mention", "href": HERE}])
    assert isinstance(verdict(spec, mention, young), Reject)
    assert isinstance(verdict(spec, create(to=[HERE]), young), Reject)  # a DM
    assert isinstance(verdict(spec, create(), young), Accept)  # talks to nobody here
    assert isinstance(verdict(spec, mention, ctx(published=NOW - 3 * DAY)), Accept)
    assert isinstance(verdict(spec, mention, ctx(published=None)), Accept)  # unknown age


def test_max_age_of_posts_and_boosts() -> None:
    spec = [{"name": "max_age", "days": 7}]
    fresh = create()
    fresh["published"] = "2026-12-07T10:00:00Z"
    old = create()
    old["published"] = "2025-01-01T00:00:00Z"
    c = PolicyContext(1796724000.0, lambda u: False, lambda u: None)  # 2026-12-08
    assert isinstance(verdict(spec, fresh, c), Accept)
    assert isinstance(verdict(spec, old, c), Reject)
    boost = {"type": "Announce", "actor": THEM, "object": "x", "published": old["published"]}
    assert isinstance(verdict(spec, boost, c), Reject)


def test_media_domains_reject_or_strip() -> None:
    spec = [{"name": "media_domains", "reject": ["shock.example"], "strip": ["big.example"]}]

    def att(host: str) -> dict[str, Any]:
        return {"type": "Image", "url": f"https://cdn.{host}/a.png", "mediaType": "image/png"}

    assert isinstance(verdict(spec, create(attachment=[att("fine.example")])), Accept)
    assert isinstance(verdict(spec, create(attachment=[att("shock.example")])), Reject)
    stripped = verdict(spec, create(attachment=[att("big.example"), att("fine.example")]))
    assert isinstance(stripped, Rewrite)
    assert [a["url"] for a in stripped.activity["object"]["attachment"]] == [
        "https://cdn.fine.example/a.png"
    ]


def test_the_pipeline_runs_in_order_and_stops_at_a_rejection() -> None:
    specs = [
        {"name": "keywords", "sensitive": ["spoiler"]},
        {"name": "keywords", "reject": ["spam"]},
        {"name": "max_mentions", "max": 1},
    ]
    out = Pipeline.from_specs(specs).run(create("<p>spoiler spam</p>"), ctx())
    assert [s.policy for s in out.steps] == ["keywords", "keywords"]
    assert out.rejected is not None and out.by == "keywords"
    fine = Pipeline.from_specs(specs).run(create("<p>a spoiler</p>"), ctx())
    assert fine.rejected is None and fine.activity["object"]["sensitive"] is True


def test_a_custom_policy_from_a_file() -> None:
    spec = [{"class": f"{EXAMPLES / 'policies.py'}:NoShouting", "min_letters": 5}]
    assert isinstance(verdict(spec, create("<p>HELLO THERE EVERYONE</p>")), Reject)
    assert isinstance(verdict(spec, create("<p>Hello there</p>")), Accept)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "nope"}, "no policy named 'nope'"),
        ({"name": "keywords"}, "needs reject or sensitive"),
        ({"name": "max_mentions", "max": "many"}, "max must be a positive number"),
        ({"name": "keywords", "reject": "spam"}, "reject must be a list"),
        ({"class": "no.such.module:X"}, "cannot load"),
        ({"class": "agora_node.errors:AgoraError"}, "has no name and decide"),
    ],
)
def test_bad_policies_are_named(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Pipeline.from_specs([spec])


def test_the_config_takes_policy_tables() -> None:
    raw = {"policies": [{"name": "max_mentions", "max": 5}]}
    assert settings_from_dict(raw).policies == ({"name": "max_mentions", "max": 5},)
    with pytest.raises(ConfigError, match=r"a name .* or a class"):
        settings_from_dict({"policies": [{"max": 5}]})
    with pytest.raises(ConfigError, match="expected"):
        settings_from_dict({"policies": {"name": "x"}})


def test_a_rejected_activity_leaves_nothing_stored(db: Database) -> None:
    store_actor(db, THEM)
    pipeline = Pipeline.from_specs([{"name": "keywords", "reject": ["spam"]}])
    bad = create("<p>spam here</p>")
    effects = process(db, bad, policies=pipeline)
    assert effects.outcome == "rejected by policy keywords: the post has the word 'spam'"
    assert db.read_sync(lambda c: objects_store.get_object(c, bad["object"]["id"])) is None
    good = create("<p>all fine</p>")
    good["id"] += "-2"
    good["object"]["id"] += "-2"
    assert process(db, good, policies=pipeline).outcome != "rejected"
    assert db.read_sync(lambda c: objects_store.get_object(c, good["object"]["id"])) is not None
