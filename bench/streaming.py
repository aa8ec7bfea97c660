"""Streaming fan-out: thousands of WebSocket clients on ``public:local``.

Run: ``.venv/bin/python bench/streaming.py``. Prints:

- streaming_fanout_p99_ms: 2,000 WebSocket clients connected to
  ``/api/v1/streaming?stream=public:local`` of a node process; statuses are
  posted one by one through the API, and for every client and every post the
  time runs from the POST's answer (the post is committed) to that client
  receiving the post's ``update`` event. ``baseline``: a bare aiohttp
  WebSocket server in its own process, told over HTTP to send one ready-made
  frame to every connected client, timed the same way from the trigger's
  answer. Ratio is baseline/ours; the target is a p99 under 500 ms.
- streaming_idle_kib_per_conn: how much the serving process grows (resident
  memory, ``/proc/<pid>/status``) per idle connection, against the bare
  server's growth; ratio is baseline/ours.

The clients run in this process on one event loop; the descriptor limit is
raised to its hard limit for this process and the servers it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
from _common import (
    SMOKE,
    NodeProcess,
    _child_env,
    _stop,
    figure,
    free_port,
    info,
    percentile,
    temp_workdir,
    wait_ready,
)

THIS_SCRIPT = str(Path(__file__).resolve())
CLIENTS = 50 if SMOKE else 2000
POSTS = 3 if SMOKE else 20
GAP_SECONDS = 0.5
WAIT_SECONDS = 10.0


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * CLIENTS + 1000))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Clients:
    """Many WebSocket connections; each arrival is noted by event id and client."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}
        self.done: dict[str, asyncio.Event] = {}
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self, session: aiohttp.ClientSession, url: str, count: int) -> None:
        for start in range(0, count, 100):
            batch = [
                session.ws_connect(url, heartbeat=None)
                for _ in range(start, min(count, start + 100))
            ]
            self.sockets += await asyncio.gather(*batch)
        self.tasks = [asyncio.create_task(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            at = time.perf_counter()
            data = json.loads(msg.data)
            key = str(data.get("key") or "")
            if data.get("event") == "update":
                key = str(json.loads(data["payload"])["id"])
            got = self.arrivals.setdefault(key, [])
            got.append(at)
            if len(got) >= len(self.sockets):
                self.done.setdefault(key, asyncio.Event()).set()

    async def wait_for(self, key: str) -> None:
        """Until every client has the event, or ``WAIT_SECONDS`` have passed."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.done.setdefault(key, asyncio.Event()).wait(), WAIT_SECONDS)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


Fire = Callable[[aiohttp.ClientSession], Awaitable[tuple[str, float]]]


async def _fanout(
    session: aiohttp.ClientSession, clients: Clients, fire: Fire, count: int
) -> tuple[list[float], int]:
    """Trigger ``count`` events one by one; latencies from each trigger's answer."""
    latencies: list[float] = []
    missing = 0
    for _ in range(count):
        key, answered = await fire(session)
        await clients.wait_for(key)
        got = clients.arrivals.get(key, [])
        missing += CLIENTS - len(got)
        latencies += [(t - answered) * 1000 for t in got]
        await asyncio.sleep(GAP_SECONDS)
    return latencies, missing


async def measure_node(work: Path) -> tuple[list[float], int, float]:
    node = NodeProcess.create(work / "node")
    token = node.cli("token", "create", "alice", "--scope", "read", "--scope", "write")
    token = token.splitlines()[0].strip()
    await node.start()
    clients = Clients()
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            assert node.proc is not None
            before = rss_kib(node.proc.pid)
            url = f"{node.base}/api/v1/streaming?stream=public:local&access_token={token}"
            await clients.connect(session, url, CLIENTS)
            await asyncio.sleep(1.0)
            per_conn = (rss_kib(node.proc.pid) - before) / CLIENTS
            headers = {"Authorization": f"Bearer {token}"}
            serial = iter(range(10**6))

            async def fire(s: aiohttp.ClientSession) -> tuple[str, float]:
                form = {"status": f"streamed post {next(serial)}"}
                async with s.post(f"{node.base}/api/v1/statuses", data=form, headers=headers) as r:
                    body = await r.json()
                    return str(body["id"]), time.perf_counter()

            latencies, missing = await _fanout(session, clients, fire, POSTS)
            await clients.close()
    finally:
        node.stop()
    return latencies, missing, per_conn


def _launch_bare_ws(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, THIS_SCRIPT, "bare-ws", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_child_env(),
    )


async def measure_bare() -> tuple[list[float], int, float]:
    port = free_port()
    proc = _launch_bare_ws(port)
    base = f"http://127.0.0.1:{port}"
    clients = Clients()
    try:
        await wait_ready(f"{base}/ready", proc)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            before = rss_kib(proc.pid)
            await clients.connect(session, f"{base}/ws", CLIENTS)
            await asyncio.sleep(1.0)
            per_conn = (rss_kib(proc.pid) - before) / CLIENTS
            serial = iter(range(10**6))

            async def fire(s: aiohttp.ClientSession) -> tuple[str, float]:
                key = f"b{next(serial)}"
                async with s.post(f"{base}/send?key={key}") as r:
                    await r.read()
                    return key, time.perf_counter()

            latencies, missing = await _fanout(session, clients, fire, POSTS)
            await clients.close()
    finally:
        _stop(proc)
    return latencies, missing, per_conn


def serve_bare_ws(port: int) -> None:
    """The baseline: accept WebSockets; ``POST /send?key=`` sends one frame to each."""
    from aiohttp import web

    sockets: set[web.WebSocketResponse] = set()

    async def ws_view(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            sockets.discard(ws)
        return ws

    async def fan_out(frame: str) -> None:
        for ws in list(sockets):
            await ws.send_str(frame)

    async def send(request: web.Request) -> web.Response:
        """Answer first, then send: latency counts from the answer, as the node's does."""
        frame = json.dumps({"event": "ping", "key": request.query["key"], "payload": "{}"})
        resp = web.Response(text="sent")
        await resp.prepare(request)
        await resp.write_eof()
        await fan_out(frame)
        return resp

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/ws", ws_view)
    app.router.add_post("/send", send)
    app.router.add_get("/ready", ready)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def main() -> int:
    _raise_fd_limit()
    with temp_workdir("agora-bench-stream-") as tmp:
        work = Path(tmp)
        ours, ours_missing, ours_kib = await measure_node(work)
        bare, bare_missing, bare_kib = await measure_bare()
    info(
        f"{CLIENTS} clients x {POSTS} posts: ours {len(ours)} deliveries "
        f"({ours_missing} missing, median {statistics.median(ours):.1f} ms), "
        f"bare {len(bare)} ({bare_missing} missing)"
    )
    p99_ours, p99_bare = percentile(ours, 99), percentile(bare, 99)
    figure("streaming_fanout_p99_ms", p99_ours, p99_bare, p99_bare / p99_ours)
    figure(
        "streaming_idle_kib_per_conn", ours_kib, bare_kib, bare_kib / ours_kib if ours_kib else 0.0
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "bare-ws":
        serve_bare_ws(int(sys.argv[2]))
        sys.exit(0)
    sys.exit(asyncio.run(main()))
