"""Home timeline latency on a big node: ``store.timelines.home`` vs the bare query.

Run: ``.venv/bin/python bench/timeline.py``.  Prints one line per metric:

    NAME: ours=<ms> baseline=<ms> ratio=<baseline/ours>

- home_timeline_p50_ms / home_timeline_p99_ms: an account following 1,000 of
  5,000 actors on a database of 1,000,000 posts; first page (limit 20) and
  deeper pages by ``max_id``. ``ours`` is ``store.timelines.home`` on a
  store connection (rows become ``ObjectRow``s); ``baseline`` is the very
  same SQL text run by the ``sqlite3`` module on the same file, rows left as
  tuples. Targets: p50 under 5 ms, ratio at least 0.67 (within 1.5x).
- home_timeline_few_follows_p50_ms: the same for an account following 5.
- home_strategy_*: why the home query has two strategies. Both forced on the
  many-follows and the few-follows account (ours = the chosen plan, baseline
  = the forced one): the rowid walk is fast when the followed authors are a
  good share of the table and crosses the table when they are not; the
  per-author index read is bounded by authors x limit.

The database is built once (about 20 s) and kept in ``$AGORA_BENCH_DIR`` (by
default a directory in the system temp dir); delete it to rebuild.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agora_node.store.db import Conn as Database
from agora_node.store.db import connect
from agora_node.store.migrations import MIGRATIONS, migrate
from agora_node.store.timelines import HOME_SQL, Page, home, home_params, home_sql

NOTES = 1_000_000
ACTORS = 5_000
FOLLOWED = 1_000
BUILD_VERSION = 3
ME = "https://agora.bench/users/me"
FEW = "https://agora.bench/users/few"
NEW = "https://agora.bench/users/new"
ITERATIONS = 150
STRATEGY_ITERATIONS = 15


def _db_path() -> Path:
    base = Path(os.environ.get("AGORA_BENCH_DIR") or Path(tempfile.gettempdir()) / "agora-bench")
    base.mkdir(parents=True, exist_ok=True)
    return base / f"timeline-b{BUILD_VERSION}-s{len(MIGRATIONS)}.db"


# Deterministic "random" numbers from a row number: a multiplicative hash.
def _h(expr: str, salt: int) -> str:
    return f"((({expr}) * 2654435761 + {salt}) % 4294967291)"


def _actor_of(i: str) -> str:
    return f"({_h(i, 17)} % {ACTORS})"


def _actor_uri(n: str) -> str:
    return f"'https://h' || (({n}) % 97) || '.example/users/u' || ({n})"


def _object_uri(i: str) -> str:
    return f"'https://h' || ({_actor_of(i)} % 97) || '.example/objects/' || ({i})"


def _drop_stale(path: Path) -> None:
    """Databases built for an older schema or build (about 430 MB each) go."""
    for old in path.parent.glob("timeline-b*-s*.db*"):
        if not old.name.startswith(path.name):
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


def _build(path: Path) -> None:
    _drop_stale(path)
    started = time.perf_counter()
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    db = connect(str(tmp))
    migrate(db)
    raw = db.conn
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-400000"):
        raw.execute(f"PRAGMA {pragma}")
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'objects' "
        "AND sql IS NOT NULL"
    ).fetchall()
    raw.execute("BEGIN")
    for name, _ in indexes:  # bulk insert first, index after: several times faster
        raw.execute(f"DROP INDEX {name}")
    raw.execute(
        f"""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {ACTORS - 1})
        INSERT INTO actors (uri, username, host, display_name, followers_uri, url)
        SELECT {_actor_uri("i")}, 'u' || i, 'h' || (i % 97) || '.example', 'User ' || i,
               {_actor_uri("i")} || '/followers', {_actor_uri("i")} FROM n"""
    )
    for who in (ME, FEW, NEW):
        raw.execute(
            "INSERT INTO actors (uri, local, username, host) VALUES (?, 1, ?, 'agora.bench')",
            [who, who.rsplit("/", 1)[1]],
        )
    follows = [(ME, FOLLOWED, 5, "accepted"), (FEW, 5, 7, "accepted"), (ME, 20, 3, "pending")]
    for follower, count, step, state in follows:
        raw.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
            INSERT OR IGNORE INTO follows (follower_uri, followee_uri, state, created_at)
            SELECT ?, {_actor_uri(f"(i * {step}) % {ACTORS}")}, ?, 0 FROM n""",
            [follower, state],
        )
    raw.execute(
        f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {NOTES})
        INSERT INTO objects (id, uri, type, actor_uri, visibility, content, published,
                             deleted_at, boost_of)
        SELECT i, {_object_uri("i")},
          CASE WHEN {_h("i", 3)} % 20 = 0 AND i > 1 THEN 'Announce' ELSE 'Note' END,
          {_actor_uri(_actor_of("i"))},
          CASE {_h("i", 5)} % 20 WHEN 0 THEN 'direct' WHEN 1 THEN 'private'
            WHEN 2 THEN 'private' WHEN 3 THEN 'unlisted' ELSE 'public' END,
          CASE WHEN {_h("i", 3)} % 20 = 0 AND i > 1 THEN ''
            ELSE '<p>Note ' || i || ': a line of text of a realistic length, with a '
                 || '<a href="https://example.com/">link</a> and a #hashtag.</p>' END,
          1600000000 + i,
          CASE WHEN {_h("i", 11)} % 100 = 0 THEN 1600000000 + i END,
          CASE WHEN {_h("i", 3)} % 20 = 0 AND i > 1
            THEN {_object_uri(f"(1 + {_h('i', 13)} % (i - 1))")} END
        FROM n"""
    )
    for _, sql in indexes:
        raw.execute(sql)
    # Every seventh direct post addresses the benchmark account.
    raw.execute(
        "INSERT INTO object_recipients (object_id, actor_uri) SELECT id, ? FROM objects "
        "WHERE visibility = 'direct' AND id % 7 = 0",
        [ME],
    )
    raw.executemany(
        "INSERT INTO blocks (actor_uri, target_uri, created_at) VALUES (?, ?, 0)",
        [(ME, f"https://h{n % 97}.example/users/u{n}") for n in range(3, 300, 30)],
    )
    raw.execute("COMMIT")
    raw.close()
    tmp.replace(path)
    print(f"# built {path} in {time.perf_counter() - started:.1f} s", flush=True)


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _pages(store: Database) -> list[Page]:
    """The first page, the two that follow it, and pages deep in the past."""
    pages = [Page()]
    for _ in range(2):
        pages.append(Page(max_id=home(store, ME, pages[-1])[-1].id))
    return pages + [Page(max_id=NOTES * k // 10) for k in (9, 5, 1)]


def _compare(
    store: Database, raw: sqlite3.Connection, actor: str, pages: list[Page], rounds: int
) -> tuple[list[float], list[float]]:
    """Ours and baseline alternate page by page, so drift hits both alike."""
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        for page in pages:
            sql, params = HOME_SQL[page.ascending], home_params(actor, page)
            ours.append(_time_ms(lambda p=page: home(store, actor, p)))
            base.append(_time_ms(lambda s=sql, p=params: raw.execute(s, p).fetchall()))
    return ours, base


def _line(name: str, ours: float, base: float) -> None:
    print(f"{name}: ours={ours:.3f} baseline={base:.3f} ratio={base / ours:.2f}", flush=True)


def _strategy(name: str, actor: str, forced_fanout: int, raw: sqlite3.Connection) -> None:
    forced = home_sql(False, forced_fanout)
    chosen = HOME_SQL[False]
    ours: list[float] = []
    base: list[float] = []
    for _ in range(STRATEGY_ITERATIONS):
        for page in (Page(), Page(max_id=NOTES // 2)):
            params = home_params(actor, page)
            ours.append(_time_ms(lambda p=params: raw.execute(chosen, p).fetchall()))
            base.append(_time_ms(lambda p=params: raw.execute(forced, p).fetchall()))
    _line(name, statistics.median(ours), statistics.median(base))


def main() -> int:
    started = time.perf_counter()
    path = _db_path()
    if not path.exists():
        _build(path)
    raw = sqlite3.connect(str(path), isolation_level=None)
    raw.execute("PRAGMA cache_size=-32000")  # what store.db.connect sets
    store = connect(str(path))
    pages = _pages(store)
    _compare(store, raw, ME, pages, 5)  # warm both connections' caches
    ours, base = _compare(store, raw, ME, pages, ITERATIONS)
    _line("home_timeline_p50_ms", statistics.median(ours), statistics.median(base))
    _line("home_timeline_p99_ms", _percentile(ours, 0.99), _percentile(base, 0.99))
    few_pages = [Page(), Page(max_id=NOTES // 2), Page(max_id=NOTES // 10)]
    _compare(store, raw, FEW, few_pages, 5)
    ours, base = _compare(store, raw, FEW, few_pages, ITERATIONS // 3)
    _line("home_timeline_few_follows_p50_ms", statistics.median(ours), statistics.median(base))
    _strategy("home_strategy_per_author_for_1000_follows_p50_ms", ME, 10**9, raw)
    _strategy("home_strategy_rowid_walk_for_5_follows_p50_ms", FEW, -1, raw)
    _strategy("home_strategy_rowid_walk_for_a_new_account_p50_ms", NEW, -1, raw)
    print(f"# total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
