"""Discovery: what is trending here (hashtags, posts, links), whom to follow,
and the hashtags people feature on their profiles.

Trends come from what this node sees over the last days: public original
posts, who wrote them, and how people here and elsewhere boosted,
favourited and answered them. Each reading looks at a bounded window (the
newest ``MAX_SCANNED`` public posts of the period), so its cost does not grow
with the node. An admin hides a hashtag, a post or a link from the trends
(``trend_hidden``); hidden ones never show again until shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agora_node.store.accounts import ActorRow, get_actors_by_uris
from agora_node.store.moderation import SILENCED_ACTORS, SUSPENDED_ACTORS
from agora_node.store.mutes import muted_by
from agora_node.store.objects import OBJECT_COLUMNS_OF_O as _O_COLUMNS
from agora_node.store.objects import ObjectRow
from agora_node.store.objects import object_from_row as _object_row

# The newest rows of ``objects`` a reading looks through, and of those the
# public posts it keeps at most.
MAX_ROWS = 50_000
MAX_SCANNED = 10_000
TREND_KINDS = ("tag", "status", "link")


def _recent_public(since: float) -> str:
    """SQL: ids of the newest public original live posts published since ``since``,
    among the newest ``MAX_ROWS`` rows stored, by authors moderation leaves in
    trends (neither suspended nor silenced)."""
    return f"""SELECT o.id FROM objects o INDEXED BY objects_public
        WHERE o.visibility = 'public'
          AND o.id > (SELECT coalesce(max(id), 0) FROM objects) - {MAX_ROWS}
          AND o.boost_of IS NULL AND o.deleted_at IS NULL AND o.published >= {float(since)!r}
          AND o.actor_uri NOT IN ({SUSPENDED_ACTORS}) AND o.actor_uri NOT IN ({SILENCED_ACTORS})
        ORDER BY o.id DESC LIMIT {MAX_SCANNED}"""


@dataclass(frozen=True)
class TagTrend:
    name: str
    uses: int
    accounts: int
    score: float


def trending_tags(
    db: sqlite_utils.Database, since: float, limit: int, offset: int
) -> list[TagTrend]:
    """Hashtags by how many accounts used them and how far their posts went."""
    rows = db.execute(
        f"""WITH recent(id) AS MATERIALIZED ({_recent_public(since)}),
            engaged(id, n) AS (
              SELECT p.id, (SELECT count(*) FROM likes l WHERE l.object_uri = p.uri)
                         + (SELECT count(*) FROM objects b WHERE b.boost_of = p.uri
                            AND b.deleted_at IS NULL)
              FROM recent r JOIN objects p ON p.id = r.id)
            SELECT t.name, count(*), count(DISTINCT o.actor_uri),
                   count(DISTINCT o.actor_uri) * 1.0 + sum(e.n) * 0.5 AS score
            FROM recent r JOIN tags t ON t.object_id = r.id AND t.kind = 'hashtag'
            JOIN objects o ON o.id = r.id JOIN engaged e ON e.id = r.id
            WHERE t.name NOT IN (SELECT key FROM trend_hidden WHERE kind = 'tag')
            GROUP BY t.name HAVING count(DISTINCT o.actor_uri) >= 1
            ORDER BY score DESC, t.name LIMIT ? OFFSET ?""",
        [limit, offset],
    ).fetchall()
    return [TagTrend(str(r[0]), int(r[1]), int(r[2]), float(r[3])) for r in rows]


def trending_statuses(
    db: sqlite_utils.Database, since: float, viewer_uri: str | None, limit: int, offset: int
) -> list[ObjectRow]:
    """Public posts by how much they were favourited, boosted and answered."""
    rows = db.execute(
        f"""WITH recent(id) AS MATERIALIZED ({_recent_public(since)})
            SELECT {_O_COLUMNS},
                   (SELECT count(*) FROM likes l WHERE l.object_uri = o.uri)
                 + (SELECT count(*) FROM objects b WHERE b.boost_of = o.uri
                    AND b.deleted_at IS NULL)
                 + (SELECT count(*) FROM objects x WHERE x.in_reply_to = o.uri
                    AND x.deleted_at IS NULL) AS score
            FROM recent r JOIN objects o ON o.id = r.id
            WHERE o.uri NOT IN (SELECT key FROM trend_hidden WHERE kind = 'status')
              AND o.actor_uri NOT IN (SELECT target_uri FROM blocks WHERE actor_uri = :me)
              AND o.actor_uri NOT IN ({muted_by(":me")})
              AND NOT EXISTS (SELECT 1 FROM blocks k WHERE k.actor_uri = o.actor_uri
                              AND k.target_uri = :me)
            ORDER BY score DESC, o.id DESC LIMIT :limit OFFSET :offset""",
        {"me": viewer_uri or "", "limit": limit, "offset": offset},
    ).fetchall()
    return [_object_row(tuple(r[:-1])) for r in rows if int(r[-1]) > 0]


def recent_public_posts(db: sqlite_utils.Database, since: float) -> list[tuple[str, str, float]]:
    """(author, content, published) of the recent public posts (for trending links)."""
    rows = db.execute(
        f"""SELECT o.actor_uri, o.content, o.published FROM objects o
            WHERE o.id IN ({_recent_public(since)})"""
    ).fetchall()
    return [(str(r[0]), str(r[1]), float(r[2])) for r in rows]


def hidden(db: sqlite_utils.Database, kind: str) -> set[str]:
    rows = db.execute("SELECT key FROM trend_hidden WHERE kind = ?", [kind]).fetchall()
    return {str(r[0]) for r in rows}


def hide_trend(db: sqlite_utils.Database, kind: str, key: str, now: float) -> None:
    db.execute(
        "INSERT INTO trend_hidden (kind, key, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (kind, key) DO NOTHING",
        [kind, key, now],
    )


def show_trend(db: sqlite_utils.Database, kind: str, key: str) -> bool:
    cur = db.execute("DELETE FROM trend_hidden WHERE kind = ? AND key = ?", [kind, key])
    return cur.rowcount > 0


# -- whom to follow -----------------------------------------------------------------


def suggestions(db: sqlite_utils.Database, me: str, limit: int) -> list[tuple[ActorRow, str, int]]:
    """Accounts to follow: (actor, source, weight). Those the people one follows
    follow (``friends_of_friends``), most shared first; then, to fill up, the most
    followed local accounts (``global``). Never oneself, someone followed,
    requested, blocked, muted, dismissed, or a deleted account."""
    exclude = f"""SELECT :me UNION SELECT followee_uri FROM follows WHERE follower_uri = :me
        UNION SELECT target_uri FROM blocks WHERE actor_uri = :me
        UNION SELECT actor_uri FROM blocks WHERE target_uri = :me
        UNION {muted_by(":me")}
        UNION {SUSPENDED_ACTORS} UNION {SILENCED_ACTORS}
        UNION SELECT target_uri FROM suggestion_dismissals WHERE actor_uri = :me"""
    friends = db.execute(
        f"""SELECT f2.followee_uri, count(*) AS n FROM follows f1
            JOIN follows f2 ON f2.follower_uri = f1.followee_uri AND f2.state = 'accepted'
            WHERE f1.follower_uri = :me AND f1.state = 'accepted'
              AND f2.followee_uri NOT IN ({exclude})
            GROUP BY f2.followee_uri ORDER BY n DESC, f2.followee_uri LIMIT :limit""",
        {"me": me, "limit": limit},
    ).fetchall()
    picks: list[tuple[str, str, int]] = [
        (str(r[0]), "friends_of_friends", int(r[1])) for r in friends
    ]
    if len(picks) < limit:
        taken = [p[0] for p in picks]
        popular = db.execute(
            f"""SELECT a.uri, coalesce(s.followers, 0) AS n FROM actors a
                LEFT JOIN actor_stats s ON s.actor_uri = a.uri
                WHERE a.local = 1 AND a.deleted_at IS NULL AND a.discoverable = 1
                  AND a.uri NOT IN ({exclude})
                ORDER BY n DESC, a.id LIMIT :limit""",
            {"me": me, "limit": limit},
        ).fetchall()
        picks += [(str(r[0]), "global", int(r[1])) for r in popular if str(r[0]) not in taken]
    actors = get_actors_by_uris(db, [p[0] for p in picks])
    return [
        (actors[uri], source, n)
        for uri, source, n in picks[:limit]
        if uri in actors and actors[uri].deleted_at is None
    ]


def dismiss_suggestion(db: sqlite_utils.Database, me: str, target_uri: str, now: float) -> None:
    db.execute(
        "INSERT INTO suggestion_dismissals (actor_uri, target_uri, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (actor_uri, target_uri) DO NOTHING",
        [me, target_uri, now],
    )


# -- featured hashtags ----------------------------------------------------------------


@dataclass(frozen=True)
class FeaturedTag:
    id: int
    name: str
    statuses: int
    last_status_at: float | None


def featured_tags(db: sqlite_utils.Database, actor_uri: str) -> list[FeaturedTag]:
    """The hashtags ``actor_uri`` features, with how often it used each publicly."""
    rows = db.execute(
        """SELECT f.id, f.name,
                  (SELECT count(*) FROM tags t JOIN objects o ON o.id = t.object_id
                   WHERE t.kind = 'hashtag' AND t.name = f.name AND o.actor_uri = f.actor_uri
                     AND o.deleted_at IS NULL AND o.visibility IN ('public', 'unlisted')),
                  (SELECT max(o.published) FROM tags t JOIN objects o ON o.id = t.object_id
                   WHERE t.kind = 'hashtag' AND t.name = f.name AND o.actor_uri = f.actor_uri
                     AND o.deleted_at IS NULL AND o.visibility IN ('public', 'unlisted'))
           FROM featured_tags f WHERE f.actor_uri = ? ORDER BY f.id""",
        [actor_uri],
    ).fetchall()
    return [FeaturedTag(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]


def feature_tag(db: sqlite_utils.Database, actor_uri: str, name: str, now: float) -> int:
    db.execute(
        "INSERT INTO featured_tags (actor_uri, name, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (actor_uri, name) DO NOTHING",
        [actor_uri, name, now],
    )
    row = db.execute(
        "SELECT id FROM featured_tags WHERE actor_uri = ? AND name = ?", [actor_uri, name]
    ).fetchone()
    return int(row[0])


def unfeature_tag(db: sqlite_utils.Database, actor_uri: str, featured_id: int) -> bool:
    cur = db.execute(
        "DELETE FROM featured_tags WHERE id = ? AND actor_uri = ?", [featured_id, actor_uri]
    )
    return cur.rowcount > 0


def most_used_tags(db: sqlite_utils.Database, actor_uri: str, limit: int) -> list[str]:
    """The hashtags ``actor_uri`` used most (suggestions of what to feature)."""
    rows = db.execute(
        """SELECT t.name FROM objects o JOIN tags t ON t.object_id = o.id AND t.kind = 'hashtag'
           WHERE o.actor_uri = ? AND o.deleted_at IS NULL
           GROUP BY t.name ORDER BY count(*) DESC, t.name LIMIT ?""",
        [actor_uri, limit],
    ).fetchall()
    return [str(r[0]) for r in rows]


def count_featured(db: sqlite_utils.Database, actor_uri: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM featured_tags WHERE actor_uri = ?", [actor_uri]
    ).fetchone()
    return int(row[0])
