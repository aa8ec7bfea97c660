"""The inbox with moderation on vs the same inbox with none.

Run: ``.venv/bin/python bench/moderation.py``. Prints::

    moderated_inbox_accepted_per_s: ours=<202/s> baseline=<202/s> ratio=<ours/baseline>
    moderated_inbox_processed_per_s: ours=<jobs/s> baseline=<jobs/s> ratio=<ours/baseline>

Two real node processes on 127.0.0.1, made alike, with the same remote
actors (a stub in this process serves their keys):

* ours: 10,000 domain blocks (imported from a Mastodon CSV through the CLI),
  five inbound policies (keywords, max_mentions, account_age, max_age,
  media_domains) and rate limiting on (above what the run sends, so every
  request is counted and none refused);
* the baseline: no blocks, no policies, rate limiting off.

Deliveries are signed Create(Note)s from unblocked senders, made before each
timed phase (untimed). Phase 1 (accepted): ``CONNECTIONS`` keep-alive
connections sending back to back for ``SECONDS`` per slice, the two nodes
alternating in ``SLICES`` slices; the figure is 202s per second (blocklist
lookups and rate limits are on this path). Phase 2 (processed): once each
node has taken in everything it accepted, ``BATCH`` more deliveries are sent
and timed from the first request until its worker has finished the last
(the policies run there), read from its database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH_LIMITS,
    SMOKE,
    NodeProcess,
    closed_loop,
    figure,
    info,
    temp_workdir,
)
from inbox import Deliveries, Stub

ACTORS = 8 if SMOKE else 50
BLOCKS = 200 if SMOKE else 10_000
CONNECTIONS = 16
SECONDS = 0.5 if SMOKE else 2.5
CAP = 100 if SMOKE else 40_000
SLICES = 4
BATCH = 60 if SMOKE else 1500
DRAIN_LIMIT = 30.0 if SMOKE else 150.0

POLICIES = """
[[policies]]
name = "keywords"
reject = ["buy followers", "crypto giveaway"]
sensitive = ["nsfw", "gore"]

[[policies]]
name = "max_mentions"
max = 20

[[policies]]
name = "account_age"
min_days = 1

[[policies]]
name = "max_age"
days = 30

[[policies]]
name = "media_domains"
reject = ["shock.example"]
strip = ["heavy.example"]
"""


def _blocklist(count: int) -> str:
    lines = ["#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"]
    severities = ("suspend", "silence", "noop")
    for i in range(count):
        lines.append(
            f"spam{i}.example,{severities[i % 3]},{'true' if i % 2 else 'false'},false,,false"
        )
    return "\n".join(lines) + "\n"


def _done(db: Path) -> int:
    """Inbound activities the node's worker has finished (their jobs are done)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT count(*) FROM jobs WHERE kind = 'inbox' AND state = 'done'"
        ).fetchone()
    finally:
        conn.close()
    return int(row[0])


async def _drained(node: NodeProcess, expected: int) -> int:
    """Wait (bounded) until ``expected`` inbound jobs are done; how many are."""
    start = time.monotonic()
    done = await asyncio.to_thread(_done, node.db_path)
    while done < expected and time.monotonic() - start < DRAIN_LIMIT:
        await asyncio.sleep(0.1)
        done = await asyncio.to_thread(_done, node.db_path)
    return done


async def _processed_rate(node: NodeProcess, deliveries: Deliveries, before: int) -> float:
    """Jobs taken in per second: ``BATCH`` deliveries sent, from the first
    request until the worker has finished the last of them."""
    batch = deliveries.batch(BATCH)
    start = time.monotonic()
    result = await closed_loop(
        lambda i: batch[i][1], connections=CONNECTIONS, duration=DRAIN_LIMIT, cap=len(batch),
        ok_status=202,
    )  # fmt: skip
    done = await _drained(node, before + result.statuses.get(202, 0))
    elapsed = time.monotonic() - start
    return (done - before) / elapsed if elapsed > 0 else 0.0


async def run() -> None:
    stub = Stub()
    actors = stub.add_actors(ACTORS)
    await stub.start()
    with temp_workdir("agora-bench-moderation-") as tmp:
        root = Path(tmp)
        plain = NodeProcess.create(
            root / "plain", plain_http_hosts=[stub.base.removeprefix("http://")],
            allowed_networks=["127.0.0.0/8"], config_extra="\n[rate_limits]\nenabled = false\n",
        )  # fmt: skip
        limits = "".join(f"{key} = 1000000000\n" for key in BENCH_LIMITS)
        guarded = NodeProcess.create(
            root / "guarded", plain_http_hosts=[stub.base.removeprefix("http://")],
            allowed_networks=["127.0.0.0/8"],
            config_extra=f"\n[rate_limits]\nenabled = true\n{limits}{POLICIES}",
        )  # fmt: skip
        listed = root / "blocks.csv"
        listed.write_text(_blocklist(BLOCKS), encoding="utf-8")
        imported = guarded.cli("domain", "import", str(listed))
        info(f"guarded node: {imported.splitlines()[-1]}, 5 policies, rate limits on")
        nodes = {"ours": guarded, "baseline": plain}
        feeds = {k: Deliveries(actors, f"{n.base}/inbox") for k, n in nodes.items()}
        try:
            for node in nodes.values():
                await node.start()
            for key in nodes:  # warm the key caches: one per actor
                warm = feeds[key].batch(len(actors), one_per_actor=True)
                await closed_loop(lambda i, w=warm: w[i][1], connections=4, duration=30,
                                  cap=len(warm), ok_status=202)  # fmt: skip
            accepted = {k: 0 for k in nodes}
            elapsed = {k: 0.0 for k in nodes}
            total = {k: len(actors) for k in nodes}
            for _ in range(SLICES):
                for key in nodes:
                    batch = feeds[key].batch(CAP)
                    result = await closed_loop(
                        lambda i, b=batch: b[i][1], connections=CONNECTIONS, duration=SECONDS,
                        cap=len(batch), ok_status=202,
                    )  # fmt: skip
                    accepted[key] += result.statuses.get(202, 0)
                    total[key] += result.statuses.get(202, 0)
                    elapsed[key] += result.elapsed
                    if result.errors or set(result.statuses) - {202}:
                        info(f"{key}: statuses {dict(result.statuses)} errors {result.errors}")
            rate = {k: accepted[k] / elapsed[k] if elapsed[k] else 0.0 for k in nodes}
            figure("moderated_inbox_accepted_per_s", rate["ours"], rate["baseline"],
                   rate["ours"] / rate["baseline"] if rate["baseline"] else 0.0)  # fmt: skip
            for key, node in nodes.items():  # the earlier load, taken in first
                await _drained(node, total[key])
            rates: dict[str, list[float]] = {k: [] for k in nodes}
            for n in range(SLICES):  # alternating: the one measured first is slower
                order = list(nodes) if n % 2 == 0 else list(reversed(nodes))
                for key in order:
                    node = nodes[key]
                    before = await asyncio.to_thread(_done, node.db_path)
                    rates[key].append(await _processed_rate(node, feeds[key], before))
            info(f"processed per slice: {rates}")
            processed = {k: sum(v) / len(v) for k, v in rates.items()}
            ours, base = processed["ours"], processed["baseline"]
            figure("moderated_inbox_processed_per_s", ours, base, ours / base if base else 0.0)
        finally:
            for node in nodes.values():
                node.stop()
            await stub.close()


if __name__ == "__main__":
    asyncio.run(run())
