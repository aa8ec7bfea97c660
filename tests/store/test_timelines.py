"""Timelines and notifications on a real SQLite file: who sees what, and paging."""

from __future__ import annotations

import itertools
import random
import time
from typing import Any

import pytest
import sqlite_utils

from agora_node.config import Settings
from agora_node.store import accounts as accounts_store
from agora_node.store import hashtags, mutes, notifications, social, statuses, timelines
from agora_node.store import objects as objects_store
from agora_node.store.db import Database
from agora_node.store.timelines import Page
from tests.conftest import BASE_URL, add_account

_serial = itertools.count(1)


# -- building a small world (shared with tests/api/test_timelines.py) -------------------


def remote_actor(c: sqlite_utils.Database, name: str, host: str = "remote.example") -> str:
    uri = f"https://{host}/users/{name}"
    accounts_store.upsert_actor(
        c,
        {
            "uri": uri, "username": name, "host": host, "display_name": name.title(),
            "url": f"https://{host}/@{name}", "followers_uri": f"{uri}/followers",
            "inbox": f"{uri}/inbox", "published": 1_600_000_000.0,
        },
    )  # fmt: skip
    return uri


def local_actor(name: str) -> str:
    return f"{BASE_URL}/users/{name}"


def post(
    c: sqlite_utils.Database,
    actor_uri: str,
    *,
    visibility: str = "public",
    to: tuple[str, ...] = (),
    in_reply_to: str | None = None,
    content: str = "<p>hello</p>",
    data: dict[str, Any] | None = None,
    tags: list[tuple[str, str, str | None]] | None = None,
) -> int:
    """A note by ``actor_uri`` (local when the actor is ours), addressed to ``to``."""
    n = next(_serial)
    object_id = objects_store.insert_object(
        c,
        {
            "uri": f"{actor_uri}/statuses/{n}", "type": "Note", "actor_uri": actor_uri,
            "local": int(actor_uri.startswith(BASE_URL)), "visibility": visibility,
            "content": content, "in_reply_to": in_reply_to, "published": 1_700_000_000.0 + n,
            "data": data or {},
        },
    )  # fmt: skip
    assert object_id is not None
    objects_store.set_recipients(c, object_id, list(to))
    if tags:
        objects_store.set_tags(c, object_id, tags)
    return object_id


def boost(c: sqlite_utils.Database, actor_uri: str, object_id: int) -> int:
    original = objects_store.get_object_by_id(c, object_id)
    assert original is not None
    n = next(_serial)
    boost_id = objects_store.insert_object(
        c,
        {
            "uri": f"{actor_uri}/activities/{n}", "type": "Announce", "actor_uri": actor_uri,
            "local": int(actor_uri.startswith(BASE_URL)), "visibility": "public",
            "boost_of": original.uri, "activity_uri": f"{actor_uri}/activities/{n}",
            "published": 1_700_000_000.0 + n,
        },
    )  # fmt: skip
    assert boost_id is not None
    return boost_id


def follow(c: sqlite_utils.Database, follower: str, followee: str, state: str = "accepted") -> None:
    social.put_follow(c, follower, followee, None, state, 0.0)


def delete(c: sqlite_utils.Database, object_id: int) -> None:
    obj = objects_store.get_object_by_id(c, object_id)
    assert obj is not None
    objects_store.tombstone_object(c, obj.uri, obj.actor_uri, 1.0)


def uri_of(c: sqlite_utils.Database, object_id: int) -> str:
    obj = objects_store.get_object_by_id(c, object_id)
    assert obj is not None
    return obj.uri


def ids(rows: list[Any]) -> list[int]:
    return [r.id for r in rows]


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def world(db: Database, settings: Settings) -> dict[str, str]:
    """Alice and Carol are local; Bob and Dan are remote; Alice follows Bob."""
    add_account(db, settings, "alice")
    add_account(db, settings, "carol")
    names = db.write_sync(
        lambda c: {"bob": remote_actor(c, "bob"), "dan": remote_actor(c, "dan", "far.example")}
    )
    alice, carol = local_actor("alice"), local_actor("carol")
    db.write_sync(lambda c: follow(c, alice, names["bob"]))
    return {"alice": alice, "carol": carol, **names}


def home_of(db: Database, actor: str, page: Page | None = None) -> list[int]:
    return ids(db.read_sync(lambda c: timelines.home(c, actor, page or Page())))


# -- home -------------------------------------------------------------------------------


def test_home_has_own_followed_and_addressed_posts(db: Database, world: dict[str, str]) -> None:
    w = world

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        return {
            "own": post(c, w["alice"], visibility="private"),
            "followed": post(c, w["bob"]),
            "followed_unlisted": post(c, w["bob"], visibility="unlisted"),
            "stranger": post(c, w["dan"]),
            "mention": post(c, w["dan"], visibility="private", to=(w["alice"],)),
            "dm": post(c, w["dan"], visibility="direct", to=(w["alice"],)),
        }

    p = db.write_sync(given)
    home = home_of(db, w["alice"])
    assert set(home) == set(p.values()) - {p["stranger"]}
    assert home == sorted(home, reverse=True)


def test_followers_only_posts_reach_accepted_followers_only(
    db: Database, world: dict[str, str]
) -> None:
    w = world
    db.write_sync(lambda c: follow(c, w["carol"], w["bob"], state="pending"))
    private = db.write_sync(lambda c: post(c, w["bob"], visibility="private"))
    assert private in home_of(db, w["alice"])
    assert private not in home_of(db, w["carol"])  # the follow request is still pending
    db.write_sync(lambda c: social.set_follow_state(c, social_follow_id(c, w), "accepted"))
    assert private in home_of(db, w["carol"])


def social_follow_id(c: sqlite_utils.Database, w: dict[str, str]) -> int:
    found = social.get_follow(c, w["carol"], w["bob"])
    assert found is not None
    return found.id


def test_direct_posts_only_to_recipients_and_author(db: Database, world: dict[str, str]) -> None:
    w = world
    db.write_sync(lambda c: follow(c, w["carol"], w["bob"]))
    to_carol = db.write_sync(lambda c: post(c, w["bob"], visibility="direct", to=(w["carol"],)))
    assert to_carol in home_of(db, w["carol"])
    assert to_carol not in home_of(db, w["alice"])  # follows Bob, but not addressed
    mine = db.write_sync(lambda c: post(c, w["alice"], visibility="direct", to=(w["carol"],)))
    assert mine in home_of(db, w["alice"]) and mine in home_of(db, w["carol"])


def test_deleted_posts_are_never_shown(db: Database, world: dict[str, str]) -> None:
    w = world
    gone = db.write_sync(lambda c: post(c, w["bob"]))
    kept = db.write_sync(lambda c: post(c, w["bob"]))
    local_gone = db.write_sync(lambda c: post(c, w["alice"]))
    db.write_sync(lambda c: delete(c, gone))
    db.write_sync(lambda c: delete(c, local_gone))
    assert home_of(db, w["alice"]) == [kept]
    everywhere = db.read_sync(lambda c: timelines.public(c, Page()))
    assert ids(everywhere) == [kept]
    assert db.read_sync(lambda c: statuses.get_status_for(c, gone, None)) is None


def test_blocked_authors_are_left_out_of_home(db: Database, world: dict[str, str]) -> None:
    w = world
    db.write_sync(lambda c: follow(c, w["alice"], w["dan"]))
    by_bob = db.write_sync(lambda c: post(c, w["bob"]))
    by_dan = db.write_sync(lambda c: post(c, w["dan"]))
    dm_from_bob = db.write_sync(lambda c: post(c, w["bob"], visibility="direct", to=(w["alice"],)))
    dan_boosts_bob = db.write_sync(lambda c: boost(c, w["dan"], by_bob))
    assert set(home_of(db, w["alice"])) == {by_bob, by_dan, dm_from_bob, dan_boosts_bob}
    db.write_sync(lambda c: social.put_block(c, w["alice"], w["bob"], None, 0.0))
    # Bob's posts, his direct message and boosts of his posts by others all go
    assert home_of(db, w["alice"]) == [by_dan]
    public = db.read_sync(lambda c: timelines.public(c, Page(), viewer_uri=w["alice"]))
    assert ids(public) == [by_dan]


def test_boosts_in_home_and_gone_with_their_post(db: Database, world: dict[str, str]) -> None:
    w = world
    by_dan = db.write_sync(lambda c: post(c, w["dan"]))
    boosted = db.write_sync(lambda c: boost(c, w["bob"], by_dan))
    rows = db.read_sync(lambda c: timelines.home(c, w["alice"], Page()))
    assert ids(rows) == [boosted]
    assert rows[0].boost_of is not None and rows[0].type == "Announce"
    # Boosts never show on the public timelines
    assert ids(db.read_sync(lambda c: timelines.public(c, Page()))) == [by_dan]
    db.write_sync(lambda c: delete(c, by_dan))
    assert home_of(db, w["alice"]) == []


# -- local and federated ----------------------------------------------------------------


def test_local_and_federated_timelines(db: Database, world: dict[str, str]) -> None:
    w = world

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        return {
            "local": post(c, w["alice"]),
            "local_reply": post(c, w["carol"], in_reply_to=f"{w['bob']}/statuses/x"),
            "local_unlisted": post(c, w["alice"], visibility="unlisted"),
            "local_private": post(c, w["carol"], visibility="private"),
            "remote": post(c, w["bob"]),
            "remote_direct": post(c, w["dan"], visibility="direct", to=(w["alice"],)),
        }

    p = db.write_sync(given)
    db.write_sync(lambda c: boost(c, w["alice"], p["remote"]))

    def timeline(local: bool | None) -> list[int]:
        return ids(db.read_sync(lambda c: timelines.public(c, Page(), local=local)))

    assert timeline(True) == [p["local_reply"], p["local"]]
    assert timeline(False) == [p["remote"]]
    assert timeline(None) == [p["remote"], p["local_reply"], p["local"]]


# -- paging -----------------------------------------------------------------------------


def test_paging_by_max_since_and_min_id(db: Database, world: dict[str, str]) -> None:
    w = world
    posted = db.write_sync(lambda c: [post(c, w["bob"]) for _ in range(30)])
    newest_first = posted[::-1]
    assert home_of(db, w["alice"]) == newest_first[:20]  # default limit
    assert home_of(db, w["alice"], Page(limit=500)) == newest_first  # clamped to 40
    assert home_of(db, w["alice"], Page(limit=0)) == newest_first[:1]
    # Older than max_id, newest first
    assert home_of(db, w["alice"], Page(max_id=posted[10], limit=5)) == newest_first[20:25]
    # Newer than since_id: the newest ones, not the ones just after since_id
    assert home_of(db, w["alice"], Page(since_id=posted[10], limit=5)) == newest_first[:5]
    # Immediately newer than min_id, still returned newest first
    assert home_of(db, w["alice"], Page(min_id=posted[10], limit=5)) == posted[11:16][::-1]
    # Both bounds
    between = home_of(db, w["alice"], Page(max_id=posted[20], since_id=posted[15]))
    assert between == posted[16:20][::-1]
    assert home_of(db, w["alice"], Page(max_id=posted[0])) == []
    local = db.read_sync(lambda c: timelines.public(c, Page(min_id=posted[27], limit=5)))
    assert ids(local) == [posted[29], posted[28]]


def _reference_home(c: sqlite_utils.Database, me: str, page: Page) -> list[int]:
    """The home rules written plainly in Python, to check the one-query version."""
    follows = c.execute(
        "SELECT followee_uri FROM follows WHERE follower_uri = ? AND state = 'accepted'", [me]
    ).fetchall()
    blocked = {r[0] for r in c.execute("SELECT target_uri FROM blocks WHERE actor_uri = ?", [me])}
    now = time.time()
    muted = {
        r[0]
        for r in c.execute("SELECT target_uri, expires_at FROM mutes WHERE actor_uri = ?", [me])
        if r[1] is None or r[1] > now
    }
    hidden = blocked | muted
    quiet = {
        r[0]
        for r in c.execute(
            "SELECT followee_uri FROM follows WHERE follower_uri = ? AND show_reblogs = 0", [me]
        )
    }
    authors = ({r[0] for r in follows} | {me}) - hidden
    addressed = {
        r[0] for r in c.execute("SELECT object_id FROM object_recipients WHERE actor_uri = ?", [me])
    }
    tagged = {
        r[0]
        for r in c.execute(
            "SELECT t.object_id FROM tags t JOIN followed_tags f ON f.name = t.name "
            "WHERE t.kind = 'hashtag' AND f.actor_uri = ?",
            [me],
        )
    }
    objects = {o.uri: o for o in objects_store.get_objects_by_ids(c, list(range(1, 10_000)))}
    bounds = page.bounds()
    shown = []
    for o in objects.values():
        if not bounds["lower"] < o.id < bounds["upper"] or o.deleted_at is not None:
            continue
        by_tag = (
            o.id in tagged and o.visibility == "public" and o.boost_of is None
            and o.actor_uri not in hidden
        )  # fmt: skip
        if by_tag:
            shown.append(o.id)
            continue
        if not (o.actor_uri in authors or (o.id in addressed and o.actor_uri not in hidden)):
            continue
        if o.visibility == "direct" and o.actor_uri != me and o.id not in addressed:
            continue
        if o.boost_of is not None:
            if o.actor_uri in quiet:
                continue
            original = objects.get(o.boost_of)
            if original is None or original.deleted_at is not None:
                continue
            if original.actor_uri in hidden:
                continue
        shown.append(o.id)
    shown.sort(reverse=not page.ascending)
    kept = shown[: bounds["limit"]]
    return sorted(kept, reverse=True)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_home_strategies_match_the_rules(db: Database, settings: Settings, seed: int) -> None:
    """Random graph and posts; the rowid walk and the per-author read agree with the rules."""
    rng = random.Random(seed)
    add_account(db, settings, "alice")
    me = local_actor("alice")

    def given(c: sqlite_utils.Database) -> None:
        actors = [remote_actor(c, f"u{i}", f"h{i % 3}.example") for i in range(12)] + [me]
        for actor in actors[:8]:
            follow(c, me, actor, rng.choice(["accepted", "accepted", "pending"]))
            if rng.random() < 0.3:
                social.set_follow_options(c, me, actor, show_reblogs=False, notify=None)
        for actor in rng.sample(actors[:12], 3):
            social.put_block(c, me, actor, None, 0.0)
        endings = [None, time.time() + 600, 1.0]
        for actor, ends in zip(rng.sample(actors[:12], 3), endings, strict=True):
            mutes.put_mute(c, me, actor, notifications=True, expires_at=ends, now=0.0)
        for name in ("garden", "beans"):
            hashtags.follow_tag(c, me, name, 0.0)
        made: list[int] = []
        for _ in range(250):
            author = rng.choice(actors)
            if made and rng.random() < 0.15:
                made.append(boost(c, author, rng.choice(made)))
                continue
            visibility = rng.choice(["public", "public", "unlisted", "private", "direct"])
            to = (me,) if rng.random() < 0.2 else ()
            names = rng.sample(["garden", "beans", "other"], rng.choice([0, 0, 1, 2]))
            tags = [("hashtag", n, None) for n in names]
            made.append(post(c, author, visibility=visibility, to=to, tags=tags))
            if rng.random() < 0.1:
                delete(c, rng.choice(made))

    db.write_sync(given)
    pages = [Page(), Page(limit=40), Page(max_id=120, limit=7), Page(since_id=200, limit=3)]
    pages += [Page(min_id=50, limit=9), Page(min_id=10, max_id=30), Page(max_id=5)]
    for page in pages:

        def both(c: sqlite_utils.Database, p: Page = page) -> tuple[list[int], ...]:
            out = []
            params = timelines.home_params(me, p)
            for fanout in (-1, 10**9):
                sql = timelines.home_sql(p.ascending, fanout)
                out.append(sorted((r[0] for r in c.execute(sql, params)), reverse=True))
            return out[0], out[1], _reference_home(c, me, p)

        walk, per_author, expected = db.read_sync(both)
        assert walk == expected, page
        assert per_author == expected, page
        assert home_of(db, me, page) == expected


def test_query_plans_use_the_indexes(db: Database, world: dict[str, str]) -> None:
    """The planner's choices the latency depends on (see bench/timeline.py)."""

    def plan(c: sqlite_utils.Database, sql: str, params: dict[str, Any]) -> str:
        return "\n".join(str(r[3]) for r in c.execute("EXPLAIN QUERY PLAN " + sql, params))

    home = db.read_sync(
        lambda c: plan(c, timelines.HOME_SQL[False], timelines.home_params(world["alice"], Page()))
    )
    assert "SEARCH o USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in home
    assert "SEARCH o USING INDEX objects_live_by_actor (actor_uri=? AND id>? AND id<?)" in home
    assert "SEARCH o2 USING INDEX objects_live_by_actor" in home
    assert "object_recipients_actor (actor_uri=? AND object_id>? AND object_id<?)" in home
    assert "tags_hashtag_object (kind=? AND name=? AND object_id>? AND object_id<?)" in home
    assert "SCAN o\n" not in home + "\n"
    bounds = {"me": "", "local": 1, **Page().bounds()}
    for local, index in ((None, "objects_public (visibility=?"), (True, "objects_local_public")):
        sql = timelines.public_sql(Page(), local)
        public = db.read_sync(lambda c, s=sql: plan(c, s, bounds))
        assert f"SEARCH o USING INDEX {index}" in public and "TEMP B-TREE" not in public
    notice_plan = db.read_sync(
        lambda c: plan(
            c, notifications.notifications_sql(Page(), ""), {"account": 1, "me": ""} | bounds
        )
    )
    assert "notifications_account (account_id=? AND id>? AND id<?)" in notice_plan
    assert "TEMP B-TREE" not in notice_plan


# -- notifications ----------------------------------------------------------------------


def test_notifications_filters_and_hidden_ones(
    db: Database, settings: Settings, world: dict[str, str]
) -> None:
    w = world
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice is not None
    mine = db.write_sync(lambda c: post(c, w["alice"]))
    gone = db.write_sync(lambda c: post(c, w["alice"]))
    uri = f"{w['alice']}/statuses/"

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        mine_uri, gone_uri = uri_of(c, mine), uri_of(c, gone)
        n = {
            "follow": social.add_notification(c, alice.id, "follow", w["bob"], None, None, 1.0),
            "like": social.add_notification(c, alice.id, "favourite", w["bob"], mine_uri, None, 2),
            "reply": social.add_notification(c, alice.id, "reply", w["dan"], mine_uri, None, 3),
            "on_gone": social.add_notification(c, alice.id, "reblog", w["bob"], gone_uri, None, 4),
            "unknown_sender": social.add_notification(
                c, alice.id, "follow", "https://nowhere.example/users/x", None, None, 5
            ),
            "from_dan": social.add_notification(
                c, alice.id, "mention", w["dan"], mine_uri, None, 6
            ),
        }
        assert uri in mine_uri
        return n

    n = db.write_sync(given)
    db.write_sync(lambda c: delete(c, gone))

    def listed(**kw: Any) -> list[int]:
        page = kw.pop("page", Page())
        return ids(
            db.read_sync(lambda c: notifications.notifications(c, alice.id, w["alice"], page, **kw))
        )

    assert listed() == [n["from_dan"], n["reply"], n["like"], n["follow"]]
    assert listed(types=["mention", "reply"]) == [n["from_dan"], n["reply"]]
    assert listed(types=[]) == []
    assert listed(exclude_types=["follow", "favourite"]) == [n["from_dan"], n["reply"]]
    assert listed(page=Page(max_id=n["reply"])) == [n["like"], n["follow"]]
    assert listed(page=Page(min_id=n["follow"], limit=2)) == [n["reply"], n["like"]]
    db.write_sync(lambda c: social.put_block(c, w["alice"], w["dan"], None, 0.0))
    assert listed() == [n["like"], n["follow"]]
    one = db.read_sync(lambda c: notifications.get_notification(c, alice.id, w["alice"], n["like"]))
    assert one is not None and one.type == "favourite" and one.from_actor_uri == w["bob"]
    carol = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "carol"))
    assert carol is not None
    theirs = db.read_sync(
        lambda c: notifications.get_notification(c, carol.id, w["carol"], n["like"])
    )
    assert theirs is None


# -- single statuses --------------------------------------------------------------------


def test_get_status_for_viewers(db: Database, world: dict[str, str]) -> None:
    w = world

    def given(c: sqlite_utils.Database) -> dict[str, int]:
        return {
            "public": post(c, w["bob"]),
            "unlisted": post(c, w["bob"], visibility="unlisted"),
            "private": post(c, w["bob"], visibility="private"),
            "direct": post(c, w["bob"], visibility="direct", to=(w["carol"],)),
        }

    p = db.write_sync(given)

    def seen_by(viewer: str | None) -> set[str]:
        def check(c: sqlite_utils.Database) -> set[str]:
            return {k for k, v in p.items() if statuses.get_status_for(c, v, viewer)}

        return db.read_sync(check)

    assert seen_by(None) == {"public", "unlisted"}
    assert seen_by(w["alice"]) == {"public", "unlisted", "private"}  # a follower
    assert seen_by(w["carol"]) == {"public", "unlisted", "direct"}  # the recipient
    assert seen_by(w["bob"]) == set(p)  # the author
    db.write_sync(lambda c: social.put_block(c, w["bob"], w["alice"], None, 0.0))
    assert seen_by(w["alice"]) == set()  # Bob blocks Alice
