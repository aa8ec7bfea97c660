"""The home timeline through the Mastodon API on a big node, against the bare query.

Run: ``.venv/bin/python bench/api_home.py``. Prints:

- api_home_p50_ms / api_home_p99_ms: ``GET /api/v1/timelines/home?limit=40``
  from a node process serving the 1,000,000-post database of
  ``bench/timeline.py`` (an account following 1,000 of 5,000 actors), fully
  serialised (accounts with their counts, tags, counters, the viewer's marks),
  one request at a time on a keep-alive connection: the first page, the two
  after it, and pages deep in the past by ``max_id``. ``baseline`` is the home
  query alone for the same page (its SQL run by the ``sqlite3`` module on the
  same file, rows left as tuples). Ratio is baseline/ours; the targets are a
  p50 under 10 ms and a ratio of at least 0.33 (within 3x of the query).

The database is built once by ``bench/timeline.py`` (kept in
``$AGORA_BENCH_DIR``); this script adds the account and a token to it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp
import timeline
from _common import PASSWORD, SMOKE, NodeProcess, figure, free_port, info, temp_workdir

from agora_node.processing.accounts import new_local_account, store_new_account
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store.db import connect
from agora_node.store.timelines import HOME_SQL, Page, home_params

LIMIT = 40
ROUNDS = 4 if SMOKE else 40


def _pages(raw: sqlite3.Connection) -> list[Page]:
    """The first page, the two after it, and pages deep in the past."""
    pages = [Page(limit=LIMIT)]
    for _ in range(2):
        rows = raw.execute(HOME_SQL[False], home_params(timeline.ME, pages[-1])).fetchall()
        pages.append(Page(max_id=min(r[0] for r in rows), limit=LIMIT))
    return pages + [Page(max_id=timeline.NOTES * k // 10, limit=LIMIT) for k in (9, 5, 1)]


def _query(page: Page) -> str:
    return "" if page.max_id is None else f"&max_id={page.max_id}"


def _prepare(work: Path, db_path: Path) -> NodeProcess:
    """A node whose database is the big one, with the benchmark account signed up."""
    node = NodeProcess(work, free_port())
    node.cli(
        "init", "--domain", "agora.bench", "--base-url", "https://agora.bench",
        "--port", str(node.port),
    )  # fmt: skip
    config = node.config.read_text(encoding="utf-8")
    lines = [
        f'path = "{db_path}"' if line.strip().startswith("path =") else line
        for line in config.splitlines()
    ]
    node.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = connect(str(db_path))
    try:
        if accounts_store.get_account_by_username(db, "me") is None:
            # The actor exists (the builder made it); give it an account and keys.
            urls = LocalUrls("https://agora.bench")
            new = new_local_account(urls, "agora.bench", "me", PASSWORD, now=time.time())
            with db.conn:
                store_new_account(db, new)
    finally:
        db.conn.close()
    return node


async def main() -> int:
    db_path = timeline._db_path()
    if not db_path.exists():
        timeline._build(db_path)
    with temp_workdir("agora-bench-home-") as tmp:
        node = _prepare(Path(tmp), db_path)
        token = node.cli("token", "create", "me", "--scope", "read").splitlines()[0].strip()
        await node.start()
        raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            pages = _pages(raw)
            ours: list[float] = []
            base: list[float] = []
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                url = f"{node.base}/api/v1/timelines/home?limit={LIMIT}"
                for page in pages:  # warm both: caches, the reader threads
                    async with session.get(url + _query(page)) as resp:
                        assert resp.status == 200, await resp.text()
                        assert len(await resp.json()) == LIMIT
                    raw.execute(HOME_SQL[False], home_params(timeline.ME, page)).fetchall()
                for _ in range(ROUNDS):
                    for page in pages:  # ours and baseline alternate page by page
                        started = time.perf_counter()
                        async with session.get(url + _query(page)) as resp:
                            await resp.read()
                        ours.append((time.perf_counter() - started) * 1000)
                        started = time.perf_counter()
                        sql, params = HOME_SQL[False], home_params(timeline.ME, page)
                        raw.execute(sql, params).fetchall()
                        base.append((time.perf_counter() - started) * 1000)
        finally:
            raw.close()
            node.stop()
    info(f"{len(ours)} requests over {len(pages)} pages of {LIMIT}")
    p50_ours, p50_base = statistics.median(ours), statistics.median(base)
    p99_ours, p99_base = timeline._percentile(ours, 0.99), timeline._percentile(base, 0.99)
    figure("api_home_p50_ms", p50_ours, p50_base, p50_base / p50_ours)
    figure("api_home_p99_ms", p99_ours, p99_base, p99_base / p99_ours)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
