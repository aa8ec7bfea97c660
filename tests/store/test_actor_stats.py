"""Per-actor counters kept by triggers agree with counting the rows, whatever writes them."""

from __future__ import annotations

import random
from pathlib import Path

from agora_node.store import objects as objects_store
from agora_node.store import social, timelines
from agora_node.store.db import Conn, connect
from agora_node.store.migrations import migrate
from agora_node.store.timelines import ActorCounts

ACTORS = [f"https://h{i % 3}.example/users/a{i}" for i in range(6)]


def _recount(c: Conn) -> dict[str, ActorCounts]:
    def grouped(sql: str) -> dict[str, tuple[int, float | None]]:
        return {str(r[0]): (int(r[1]), r[2]) for r in c.execute(sql)}

    posts = grouped(
        "SELECT actor_uri, count(*), max(published) FROM objects "
        "WHERE deleted_at IS NULL GROUP BY actor_uri"
    )
    followers = grouped(
        "SELECT followee_uri, count(*), NULL FROM follows WHERE state = 'accepted' "
        "GROUP BY followee_uri"
    )
    following = grouped(
        "SELECT follower_uri, count(*), NULL FROM follows WHERE state = 'accepted' "
        "GROUP BY follower_uri"
    )
    return {
        uri: ActorCounts(
            followers.get(uri, (0, None))[0],
            following.get(uri, (0, None))[0],
            posts.get(uri, (0, None))[0],
        )
        for uri in ACTORS
    }


def _without_times(counts: dict[str, ActorCounts]) -> dict[str, ActorCounts]:
    return {u: ActorCounts(c.followers, c.following, c.statuses) for u, c in counts.items()}


def _churn(c: Conn, rng: random.Random, steps: int) -> None:
    """Posts, boosts, tombstones, follows and their acceptance, undo and removal, at random."""
    uris: list[tuple[str, str]] = []
    for step in range(steps):
        actor = rng.choice(ACTORS)
        other = rng.choice([a for a in ACTORS if a != actor])
        move = rng.randrange(8)
        if move <= 1 or not uris:
            uri = f"{actor}/statuses/{step}"
            boost = rng.choice([None, None, f"{other}/statuses/x"])
            objects_store.insert_object(
                c,
                {"uri": uri, "type": "Note", "actor_uri": actor, "published": 1000.0 + step,
                 "boost_of": boost},
            )  # fmt: skip
            uris.append((uri, actor))
        elif move == 2:
            uri, author = rng.choice(uris)
            objects_store.tombstone_object(c, uri, author, 5000.0 + step)
        elif move == 3:
            uri, author = rng.choice(uris)
            objects_store.delete_boost(c, uri, author, 5000.0 + step)
        elif move == 4:
            state = rng.choice(["pending", "accepted"])
            social.put_follow(c, actor, other, f"{actor}/follow/{step}", state, 1000.0 + step)
        elif move == 5:
            follow = social.get_follow(c, actor, other)
            if follow is not None:
                social.set_follow_state(c, follow.id, rng.choice(["accepted", "pending"]))
        elif move == 6:
            social.delete_follow(c, actor, other)
        elif rng.random() < 0.1:
            social.delete_follows_of_actor(c, actor)


def test_counters_follow_every_kind_of_write(tmp_path: Path) -> None:
    c = connect(str(tmp_path / "n.db"))
    migrate(c)
    rng = random.Random(7)
    for _ in range(5):
        _churn(c, rng, 200)
        assert _without_times(timelines.actor_counts(c, ACTORS)) == _recount(c)


def test_the_last_post_time_is_the_newest_live_post(tmp_path: Path) -> None:
    c = connect(str(tmp_path / "n.db"))
    migrate(c)
    author = ACTORS[0]
    for n, when in enumerate([1000.0, 3000.0, 2000.0]):
        objects_store.insert_object(
            c, {"uri": f"{author}/s/{n}", "type": "Note", "actor_uri": author, "published": when}
        )
    assert timelines.actor_counts(c, [author])[author].last_status_at == 3000.0
    assert timelines.actor_counts(c, [ACTORS[1]])[ACTORS[1]] == ActorCounts()


def test_the_migration_counts_what_an_older_database_holds(tmp_path: Path) -> None:
    c = connect(str(tmp_path / "n.db"))
    migrate(c, 6)
    _churn(c, random.Random(11), 400)
    expected = _recount(c)
    migrate(c)
    assert _without_times(timelines.actor_counts(c, ACTORS)) == expected
    _churn(c, random.Random(12), 200)
    assert _without_times(timelines.actor_counts(c, ACTORS)) == _recount(c)
