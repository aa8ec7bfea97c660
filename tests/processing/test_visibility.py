"""The one visibility rule, and the SQL that lists posts agreeing with it."""

from __future__ import annotations

import itertools

import pytest

from agora_node.processing.visibility import (
    Audience,
    Viewer,
    is_open,
    may_see,
    needs_follow_check,
    outbox_visibilities,
)
from agora_node.store import moderation, statuses
from agora_node.store.db import Database
from tests.store.test_timelines import follow, post, remote_actor

AUTHOR = "https://a.example/users/author"
NAMED = "https://b.example/users/named"
FAN = "https://c.example/users/fan"
STRANGER = "https://d.example/users/stranger"


@pytest.mark.parametrize(
    ("visibility", "viewer", "follows", "expected"),
    [
        ("public", None, False, True),
        ("unlisted", None, False, True),
        ("private", None, False, False),
        ("direct", None, False, False),
        ("private", AUTHOR, False, True),
        ("direct", AUTHOR, False, True),
        ("private", NAMED, False, True),
        ("direct", NAMED, False, True),
        ("private", FAN, True, True),
        ("direct", FAN, True, False),
        ("private", STRANGER, False, False),
        ("direct", STRANGER, False, False),
    ],
)
def test_may_see(visibility: str, viewer: str | None, follows: bool, expected: bool) -> None:
    audience = Audience(AUTHOR, visibility, frozenset({NAMED}))
    assert may_see(audience, Viewer(viewer, follows_author=follows)) is expected


@pytest.mark.parametrize("viewer", [None, AUTHOR, NAMED, FAN, STRANGER])
@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_nobody_sees_a_suspended_authors_posts(visibility: str, viewer: str | None) -> None:
    audience = Audience(AUTHOR, visibility, frozenset({NAMED}), author_suspended=True)
    assert not may_see(audience, Viewer(viewer, follows_author=True))
    assert not needs_follow_check(audience, Viewer(viewer))


def test_the_follow_relation_is_read_only_when_it_decides() -> None:
    private = Audience(AUTHOR, "private", frozenset({NAMED}))
    assert needs_follow_check(private, Viewer(FAN))
    assert not needs_follow_check(private, Viewer(None))
    assert not needs_follow_check(private, Viewer(AUTHOR))
    assert not needs_follow_check(private, Viewer(NAMED))
    assert not needs_follow_check(Audience(AUTHOR, "direct"), Viewer(FAN))
    assert not needs_follow_check(Audience(AUTHOR, "public"), Viewer(FAN))


def test_open_and_outbox_visibilities() -> None:
    assert [v for v in ("public", "unlisted", "private", "direct") if is_open(v)] == [
        "public",
        "unlisted",
    ]
    assert outbox_visibilities(owner=True, follower=False) == (
        "public",
        "unlisted",
        "private",
        "direct",
    )
    assert outbox_visibilities(owner=False, follower=True) == ("public", "unlisted", "private")
    assert outbox_visibilities(owner=False, follower=False) == ("public", "unlisted")


def test_the_status_query_agrees_with_the_rule(db: Database) -> None:
    """``store.statuses.get_status_for`` answers like ``may_see`` for every case."""

    def build(c):  # type: ignore[no-untyped-def]
        for uri in (AUTHOR, NAMED, FAN, STRANGER):
            remote_actor(c, uri.rsplit("/", 1)[1], uri.split("/")[2])
        follow(c, FAN, AUTHOR)
        follow(c, STRANGER, AUTHOR, state="pending")
        return {
            v: post(c, AUTHOR, visibility=v, to=(NAMED,))
            for v in ("public", "unlisted", "private", "direct")
        }

    posts = db.write_sync(build)
    viewers = {None: False, AUTHOR: False, NAMED: False, FAN: True, STRANGER: False}
    checked = 0
    for suspended in (False, True):
        when = 1.0 if suspended else None
        db.write_sync(lambda c, when=when: moderation.set_actor_suspended(c, AUTHOR, when))
        for (visibility, object_id), (viewer, follows) in itertools.product(
            posts.items(), viewers.items()
        ):
            listed = db.read_sync(lambda c, o=object_id, v=viewer: statuses.get_status_for(c, o, v))
            audience = Audience(AUTHOR, visibility, frozenset({NAMED}), suspended)
            assert (listed is not None) is may_see(audience, Viewer(viewer, follows)), (
                visibility,
                viewer,
                suspended,
            )
            checked += 1
    assert checked == 40
