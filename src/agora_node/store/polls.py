"""Poll votes: who chose which option of which poll (ours and remote ones).

For our own polls these rows are the count (``counts``); for a remote poll
they are only the local voters' own choices, the count being what the poll's
server last said. ``poll_options`` keeps what a local poll's author set that
ActivityPub does not carry (hiding the totals until the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class Tally:
    votes: tuple[int, ...]
    voters: int


def add_votes(
    db: sqlite_utils.Database,
    poll_uri: str,
    actor_uri: str,
    choices: Sequence[int],
    activity_uris: Sequence[str | None],
    now: float,
) -> None:
    db.conn.executemany(
        "INSERT INTO poll_votes (poll_uri, actor_uri, choice, activity_uri, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_uri, actor_uri, choice) DO NOTHING",
        [(poll_uri, actor_uri, c, a, now) for c, a in zip(choices, activity_uris, strict=True)],
    )


def clear_votes(db: sqlite_utils.Database, poll_uri: str) -> None:
    """Forget every vote of a poll (its options were replaced)."""
    db.execute("DELETE FROM poll_votes WHERE poll_uri = ?", [poll_uri])


def choices_of(db: sqlite_utils.Database, poll_uri: str, actor_uri: str) -> list[int]:
    rows = db.execute(
        "SELECT choice FROM poll_votes WHERE poll_uri = ? AND actor_uri = ? ORDER BY choice",
        [poll_uri, actor_uri],
    ).fetchall()
    return [int(r[0]) for r in rows]


def own_votes_among(
    db: sqlite_utils.Database, actor_uri: str, poll_uris: Sequence[str]
) -> dict[str, list[int]]:
    wanted = list(dict.fromkeys(poll_uris))
    out: dict[str, list[int]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.execute(
            "SELECT poll_uri, choice FROM poll_votes WHERE actor_uri = ? "
            f"AND poll_uri IN ({','.join('?' * len(chunk))}) ORDER BY choice",
            [actor_uri, *chunk],
        )
        for uri, choice in rows:
            out.setdefault(str(uri), []).append(int(choice))
    return out


def counts(db: sqlite_utils.Database, poll_uri: str, options: int) -> Tally:
    """Votes per option and distinct voters of a poll counted here."""
    per = [0] * options
    for choice, n in db.execute(
        "SELECT choice, count(*) FROM poll_votes WHERE poll_uri = ? GROUP BY choice", [poll_uri]
    ):
        if 0 <= int(choice) < options:
            per[int(choice)] = int(n)
    voters = db.execute(
        "SELECT count(DISTINCT actor_uri) FROM poll_votes WHERE poll_uri = ?", [poll_uri]
    ).fetchone()
    return Tally(tuple(per), int(voters[0]))


def voters_of(db: sqlite_utils.Database, poll_uri: str) -> list[str]:
    rows = db.execute(
        "SELECT DISTINCT actor_uri FROM poll_votes WHERE poll_uri = ?", [poll_uri]
    ).fetchall()
    return [str(r[0]) for r in rows]


def set_hide_totals(db: sqlite_utils.Database, poll_uri: str, hide: bool) -> None:
    db.execute(
        "INSERT INTO poll_options (poll_uri, hide_totals) VALUES (?, ?) "
        "ON CONFLICT (poll_uri) DO UPDATE SET hide_totals = excluded.hide_totals",
        [poll_uri, int(hide)],
    )


def hidden_totals_among(db: sqlite_utils.Database, poll_uris: Sequence[str]) -> set[str]:
    wanted = list(dict.fromkeys(poll_uris))
    if not wanted:
        return set()
    rows = db.execute(
        f"SELECT poll_uri FROM poll_options WHERE hide_totals = 1 "
        f"AND poll_uri IN ({','.join('?' * len(wanted))})",
        wanted,
    ).fetchall()
    return {str(r[0]) for r in rows}


def track_end(db: sqlite_utils.Database, poll_uri: str, ends_at: float) -> None:
    """Announce the end of ``poll_uri`` at ``ends_at`` (a changed end is announced anew)."""
    db.execute(
        "INSERT INTO poll_ends (poll_uri, ends_at) VALUES (?, ?) ON CONFLICT (poll_uri) "
        "DO UPDATE SET ends_at = excluded.ends_at, notified_at = CASE "
        "WHEN poll_ends.ends_at = excluded.ends_at THEN poll_ends.notified_at END",
        [poll_uri, ends_at],
    )


def ended_unannounced(db: sqlite_utils.Database, now: float, limit: int) -> list[str]:
    rows = db.execute(
        "SELECT poll_uri FROM poll_ends WHERE notified_at IS NULL AND ends_at <= ? "
        "ORDER BY ends_at LIMIT ?",
        [now, limit],
    ).fetchall()
    return [str(r[0]) for r in rows]


def mark_announced(db: sqlite_utils.Database, poll_uri: str, now: float) -> None:
    db.execute("UPDATE poll_ends SET notified_at = ? WHERE poll_uri = ?", [now, poll_uri])


def local_voters_of(db: sqlite_utils.Database, poll_uri: str) -> list[str]:
    """The local accounts' actors that voted in ``poll_uri``."""
    rows = db.execute(
        "SELECT DISTINCT v.actor_uri FROM poll_votes v JOIN actors a ON a.uri = v.actor_uri "
        "WHERE v.poll_uri = ? AND a.local = 1",
        [poll_uri],
    ).fetchall()
    return [str(r[0]) for r in rows]
