"""Discovery throughput: actor document and WebFinger vs a bare aiohttp handler.

Run: ``.venv/bin/python bench/discovery.py``. Prints::

    discovery_actor_rps: ours=<req/s> baseline=<req/s> ratio=<ours/baseline>
    discovery_webfinger_rps: ours=... baseline=... ratio=...

Ours is a real node (``init`` + ``account create`` + ``serve``, its own
process). The baseline is a bare aiohttp app in its own process answering
every GET with the very bytes the node returned (same size, same content
type). One load generator in this process: ``CONNECTIONS`` keep-alive
connections, back-to-back requests, ``SECONDS`` per side split into
alternating slices (node, bare, node, bare…) so drift hits both equally,
and a request cap. Only 200s count. Target ratio >= 0.5.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from _common import (
    SMOKE,
    BareServer,
    NodeProcess,
    Request,
    closed_loop,
    figure,
    info,
    temp_workdir,
)

CONNECTIONS = 16
SECONDS = 1.0 if SMOKE else 6.0
SLICES = 2 if SMOKE else 3
CAP_PER_SLICE = 150 if SMOKE else 200_000
USERNAME = "alice"
ACTIVITY_JSON = "application/activity+json"


async def fetch(url: str, accept: str) -> tuple[bytes, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Accept": accept}) as resp:
            assert resp.status == 200, f"{url}: {resp.status}"
            return await resp.read(), resp.headers["Content-Type"].split(";")[0]


async def measure(name: str, node_url: str, bare_base: str, path: str, accept: str) -> None:
    headers = {"Accept": accept}
    ours: Request = ("GET", node_url, headers, None)
    bare: Request = ("GET", bare_base + path, headers, None)
    totals = {"ours": [0, 0.0], "baseline": [0, 0.0]}
    # a short warm-up of both (connections, caches, schema of the path)
    for req in (ours, bare):
        await closed_loop(lambda i, r=req: r, connections=CONNECTIONS, duration=0.3, cap=200)
    for _ in range(SLICES):
        for label, req in (("ours", ours), ("baseline", bare)):
            result = await closed_loop(
                lambda i, r=req: r,
                connections=CONNECTIONS,
                duration=SECONDS / SLICES,
                cap=CAP_PER_SLICE,
            )
            bad = result.sent - result.statuses.get(200, 0)
            if bad:
                info(f"{name} {label}: {bad} non-200 answers {dict(result.statuses)}")
            totals[label][0] += result.statuses.get(200, 0)
            totals[label][1] += result.elapsed
    ours_rps = totals["ours"][0] / totals["ours"][1]
    base_rps = totals["baseline"][0] / totals["baseline"][1]
    figure(name, ours_rps, base_rps, ours_rps / base_rps)


async def run() -> int:
    with temp_workdir("agora-bench-discovery-") as tmp:
        tmpdir = Path(tmp)
        node = NodeProcess.create(tmpdir / "node", accounts=[USERNAME])
        await node.start()
        bare_actor = bare_wf = None
        try:
            actor_url = f"{node.base}/users/{USERNAME}"
            wf_path = f"/.well-known/webfinger?resource=acct:{USERNAME}@{node.domain}"
            actor_body, actor_type = await fetch(actor_url, ACTIVITY_JSON)
            wf_body, wf_type = await fetch(node.base + wf_path, "application/jrd+json")
            info(f"actor document {len(actor_body)} bytes, webfinger {len(wf_body)} bytes")
            bare_actor = await BareServer.start(actor_body, actor_type, tmpdir)
            bare_wf = await BareServer.start(wf_body, wf_type, tmpdir)
            await measure(
                "discovery_actor_rps",
                actor_url,
                bare_actor.base,
                f"/users/{USERNAME}",
                ACTIVITY_JSON,
            )
            await measure(
                "discovery_webfinger_rps",
                node.base + wf_path,
                bare_wf.base,
                wf_path,
                "application/jrd+json",
            )
        finally:
            for server in (bare_actor, bare_wf):
                if server is not None:
                    server.stop()
            node.stop()
    return 0


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
