"""Posting through the Mastodon API: ``POST /api/v1/statuses`` from many clients.

Run: ``.venv/bin/python bench/api_statuses.py``. Prints:

- api_post_status_per_s: 50 concurrent clients posting distinct statuses (form
  bodies, as Mastodon.py and the apps send them) to a node process, back to
  back for a fixed time; ``baseline`` is a bare aiohttp handler in its own
  process that parses the same form and answers a small JSON. Ratio is
  ours/baseline; the target is at least 0.15.
- api_post_status_p99_ms_at_80pct: the same posts offered at 80 % of the
  throughput just measured (open loop, latency from each post's scheduled
  time), p99; baseline is the bare handler at the same rate; ratio is
  baseline/ours. The target is a p99 under 100 ms.

Every post is stored, rendered and queued for delivery (no followers here,
so no deliveries are made); the node runs its workers in their own process,
as ``serve`` does by default.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    SMOKE,
    BareServer,
    NodeProcess,
    Request,
    closed_loop,
    figure,
    info,
    open_loop,
    percentile,
    temp_workdir,
)

CLIENTS = 50
SECONDS = 1.5 if SMOKE else 10.0
CAP = 300 if SMOKE else 200_000
OPEN_SECONDS = 1.5 if SMOKE else 10.0
FORM = "application/x-www-form-urlencoded"


def poster(base: str, token: str | None, prefix: str) -> Callable[[int], Request]:
    headers = {"Content-Type": FORM}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def request(i: int) -> Request:
        body = urlencode({"status": f"{prefix} post number {i}", "visibility": "public"})
        return ("POST", f"{base}/api/v1/statuses", headers, body.encode())

    return request


async def main() -> int:
    with temp_workdir("agora-bench-post-") as tmp:
        work = Path(tmp)
        node = NodeProcess.create(work / "node")
        token = node.cli("token", "create", "alice", "--scope", "write").splitlines()[0].strip()
        bare = await BareServer.start(b"{}", "application/json", work)
        await node.start()
        try:
            ours_req = poster(node.base, token, "ours")
            bare_req = poster(bare.base, None, "bare")
            # Warm-up: connections, the first writes, caches.
            await closed_loop(ours_req, connections=CLIENTS, duration=0.5, cap=200)
            await closed_loop(bare_req, connections=CLIENTS, duration=0.5, cap=200)
            ours = await closed_loop(ours_req, connections=CLIENTS, duration=SECONDS, cap=CAP)
            base = await closed_loop(bare_req, connections=CLIENTS, duration=SECONDS, cap=CAP)
            info(
                f"closed loop: ours {ours.statuses} errors={ours.errors}, "
                f"bare {base.statuses} errors={base.errors}"
            )
            peak_ours, peak_base = ours.rate(200), base.rate(200)
            figure("api_post_status_per_s", peak_ours, peak_base, peak_ours / peak_base)
            rate = max(1.0, 0.8 * peak_ours)
            count = int(rate * OPEN_SECONDS)
            at_ours = await open_loop(
                ours_req, rate=rate, count=count, max_seconds=OPEN_SECONDS + 5
            )
            at_base = await open_loop(
                bare_req, rate=rate, count=count, max_seconds=OPEN_SECONDS + 5
            )
            info(
                f"open loop at {rate:.0f}/s: ours {at_ours.statuses} errors={at_ours.errors}, "
                f"bare {at_base.statuses}"
            )
            p99_ours = percentile(at_ours.latencies_ms, 99)
            p99_base = percentile(at_base.latencies_ms, 99)
            figure("api_post_status_p99_ms_at_80pct", p99_ours, p99_base, p99_base / p99_ours)
        finally:
            node.stop()
            bare.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
