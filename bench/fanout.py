"""Fan-out: one public post to 5,000 followers on 500 hosts (500 shared inboxes).

Run: ``.venv/bin/python bench/fanout.py``. Prints::

    fanout_deliveries_per_s: ours=<deliveries/s> baseline=<deliveries/s> ratio=<ours/baseline>
    fanout_time_s: ours=<s> baseline=<s> ratio=<baseline/ours>
    fanout_peak_rss_mb: ours=<MB> baseline=200 ratio=<200/ours>
    fanout_actor_p99_ms_during: ours=<ms> baseline=50 ratio=<50/ours>
    fanout_inbox_p99_ms_during: ours=<ms> baseline=50 ratio=<50/ours>

Set-up (untimed): one sink process (this file, ``sink`` sub-command) listens on
``HOSTS`` ports of 127.0.0.1, so each port is a distinct host to the node; each
answers any POST with 202 at once and records, per activity id, which ports
received it and when (``time.monotonic``, system-wide on Linux). A real node
process has one account and ``HOSTS * FOLLOWERS_PER_HOST`` remote followers
written into its SQLite before it starts, ten per host sharing the host's
``/inbox``, so a post must become ``HOSTS`` deliveries (shared inboxes
deduplicated).

Phases:
1. warm-up: one fan-out and one baseline round (host rows, scheme cache,
   connections), not counted.
2. throughput: ``ROUNDS`` rounds, baseline and ours alternating. Ours is
   the time from the C2S outbox POST to the sink's last receipt; the baseline
   (the ceiling) signs and POSTs the same body to the same inboxes straight
   from this process with aiohttp + cryptography (RSA-2048 PKCS#1 v1.5
   SHA-256 over a cavage signing string, fresh Date and Digest per request,
   ``delivery.concurrency`` at once, the node's connector limits). Medians.
3. latency: ``PROBE_ROUNDS`` more fan-outs while an open-loop prober sends
   ``GET /users/alice``, ``GET /.well-known/webfinger`` and (one in three) a
   signed ``Like`` from an actor served by the sink to the node's shared
   inbox; latency from each request's scheduled time. The figure is the p99 of
   the two GETs (``fanout_actor_p99_ms_during``) and the p99 of the signed
   POSTs (``fanout_inbox_p99_ms_during``).
4. the node's peak RSS (``VmHWM`` of the serving process plus its worker
   process, summed), and a check that every delivery row is
   'done' and no inbox got a post twice.

``AGORA_BENCH_SMOKE=1`` shrinks it to 50 hosts and one round.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import sqlite_utils
from _common import (
    PASSWORD,
    SMOKE,
    NodeProcess,
    _stop,
    figure,
    info,
    percentile,
    temp_workdir,
)
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from agora_node.config import DeliverySettings
from agora_node.devnet import LocalNode, NodeClient
from agora_node.protocol.httpsig import SigningKey, sign_request
from agora_node.store import accounts as accounts_store
from agora_node.store import social
from agora_node.store.db import Database

HOSTS = 50 if SMOKE else 500
FOLLOWERS_PER_HOST = 2 if SMOKE else 10
ROUNDS = 1 if SMOKE else 5
PROBE_ROUNDS = 1 if SMOKE else 5
PROBE_RATE = 200.0  # requests/s, open loop
CONCURRENCY = DeliverySettings().concurrency
ROUND_LIMIT = 60.0
RSS_LIMIT_MB = 200.0
P99_LIMIT_MS = 50.0
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
THIS_FILE = str(Path(__file__).resolve())


# -- the sink (a child process) ------------------------------------------------------


def serve_sink(hosts: int, out: Path, public_pem: str) -> None:
    """``hosts`` listeners; POST records (activity id, port, time); GET /stats reads it."""
    receipts: dict[str, list[tuple[int, float]]] = {}
    ports: list[int] = []

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        port = int(request.transport.get_extra_info("sockname")[1])  # type: ignore[union-attr]
        try:
            activity_id = str(json.loads(body).get("id"))
        except ValueError:
            activity_id = "?"
        receipts.setdefault(activity_id, []).append((port, time.monotonic()))
        return web.Response(status=202)

    async def stats(request: web.Request) -> web.Response:
        got = receipts.get(request.query.get("id", ""), [])
        return web.json_response(
            {
                "inboxes": len({port for port, _ in got}),
                "receipts": len(got),
                "first": min((t for _, t in got), default=0.0),
                "last": max((t for _, t in got), default=0.0),
            }
        )

    async def actor(request: web.Request) -> web.Response:
        uri = f"http://127.0.0.1:{ports[0]}/users/prober"
        doc = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": "prober",
            "inbox": f"{uri}/inbox",
            "endpoints": {"sharedInbox": f"http://127.0.0.1:{ports[0]}/inbox"},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
        }
        return web.Response(body=json.dumps(doc).encode(), content_type="application/activity+json")

    async def main() -> None:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/{tail:.*}", inbox)
        app.router.add_get("/stats", stats)
        app.router.add_get("/users/prober", actor)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for _ in range(hosts):
            await web.TCPSite(runner, "127.0.0.1", 0, backlog=512).start()
        ports.extend(int(port) for _, port in runner.addresses)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(ports), encoding="utf-8")
        tmp.replace(out)
        await asyncio.Event().wait()  # until SIGTERM

    asyncio.run(main())


async def start_sink(tmp: Path, public_pem: str) -> tuple[subprocess.Popen[bytes], list[int]]:
    out = tmp / "sink-ports.json"
    pem_file = tmp / "prober.pub.pem"
    pem_file.write_text(public_pem, encoding="utf-8")
    args = ["sink", "--hosts", str(HOSTS), "--out", str(out), "--public-key", str(pem_file)]
    proc = subprocess.Popen([sys.executable, THIS_FILE, *args])  # noqa: ASYNC220 - returns at once
    deadline = time.monotonic() + 60
    while not out.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError("sink did not start")
        await asyncio.sleep(0.05)
    return proc, [int(p) for p in json.loads(out.read_text(encoding="utf-8"))]


# -- set-up ----------------------------------------------------------------------------


def add_followers(db_path: Path, followee: str, ports: Sequence[int]) -> None:
    """FOLLOWERS_PER_HOST accepted followers per sink port, sharing the port's /inbox."""
    db = Database(str(db_path))
    db.open()

    def write(conn: sqlite_utils.Database) -> None:
        now = time.time()
        for port in ports:
            for k in range(FOLLOWERS_PER_HOST):
                uri = f"http://127.0.0.1:{port}/users/f{k}"
                accounts_store.upsert_actor(
                    conn,
                    {
                        "uri": uri,
                        "username": f"f{k}",
                        "host": f"127.0.0.1:{port}",
                        "inbox": f"{uri}/inbox",
                        "shared_inbox": f"http://127.0.0.1:{port}/inbox",
                    },
                )
                social.put_follow(conn, uri, followee, f"{uri}#follow", "accepted", now)

    try:
        db.write_sync(write)
    finally:
        db.close()


def query(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="utf-8")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def peak_rss_mb(pid: int) -> tuple[float, dict[int, float]]:
    """The node's peak memory: each of its processes' peak RSS, summed (an upper bound)."""
    each = {p: _hwm_mb(p) for p in [pid, *_children(pid)]}
    return sum(each.values()), each


# -- rounds ----------------------------------------------------------------------------


class Rounds:
    def __init__(self, session: aiohttp.ClientSession, node: NodeProcess, ports: list[int]) -> None:
        self.session = session
        self.node = node
        self.stats_url = f"http://127.0.0.1:{ports[0]}/stats"
        self.inboxes = [f"http://127.0.0.1:{port}/inbox" for port in ports]
        self.client: NodeClient | None = None
        self.duplicates = 0
        self.first_receipt: list[float] = []  # after t0, for ours
        self.template: dict[str, Any] = {}
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = f"{node.base}/users/baseline#main-key"
        self.baseline_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100, limit_per_host=8),
            timeout=aiohttp.ClientTimeout(total=30),
        )

    async def close(self) -> None:
        await self.baseline_session.close()

    async def wait_received(self, activity_id: str) -> tuple[float, float]:
        """The sink's monotonic times of the first and last receipts, once every inbox has it."""
        deadline = time.monotonic() + ROUND_LIMIT
        while time.monotonic() < deadline:
            async with self.session.get(self.stats_url, params={"id": activity_id}) as resp:
                got = await resp.json()
            if got["inboxes"] >= len(self.inboxes):
                self.duplicates += got["receipts"] - got["inboxes"]
                return float(got["first"]), float(got["last"])
            await asyncio.sleep(0.02)
        raise RuntimeError(f"fan-out of {activity_id} incomplete after {ROUND_LIMIT}s")

    async def wait_recorded(self) -> None:
        """The node has recorded every delivery (so rounds do not overlap)."""
        deadline = time.monotonic() + ROUND_LIMIT
        sql = "SELECT count(*) FROM deliveries WHERE state != 'done'"
        while (await asyncio.to_thread(query, self.node.db_path, sql))[0][0]:
            if time.monotonic() > deadline:
                raise RuntimeError("deliveries not recorded as done in time")
            await asyncio.sleep(0.05)

    async def ours(self, text: str) -> tuple[float, str]:
        assert self.client is not None
        t0 = time.monotonic()
        followers = f"{self.client.actor}/followers"
        activity_id = await self.client.outbox(
            {"type": "Note", "content": text, "to": [PUBLIC], "cc": [followers]}
        )
        first, last = await self.wait_received(activity_id)
        self.first_receipt.append(first - t0)
        await self.wait_recorded()
        return last - t0, activity_id

    def _signed(self, url: str, body: bytes) -> dict[str, str]:
        parts = urlsplit(url)
        date = formatdate(usegmt=True)
        digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        signing_string = (
            f"(request-target): post {parts.path}\nhost: {parts.netloc}\ndate: {date}\n"
            f"digest: {digest}\ncontent-type: application/activity+json"
        )
        signature = self.key.sign(signing_string.encode(), padding.PKCS1v15(), hashes.SHA256())
        return {
            "Host": parts.netloc,
            "Date": date,
            "Digest": digest,
            "Content-Type": "application/activity+json",
            "Signature": (
                f'keyId="{self.key_id}",algorithm="rsa-sha256",'
                f'headers="(request-target) host date digest content-type",'
                f'signature="{base64.b64encode(signature).decode()}"'
            ),
        }

    async def baseline(self, tag: str) -> float:
        activity_id = f"{self.node.base}/users/alice/activities/baseline-{tag}"
        body = json.dumps({**self.template, "id": activity_id}, separators=(",", ":")).encode()
        slots = asyncio.Semaphore(CONCURRENCY)
        bad = 0

        async def one(url: str) -> None:
            nonlocal bad
            async with slots:
                headers = self._signed(url, body)
                async with self.baseline_session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    bad += resp.status != 202

        t0 = time.monotonic()
        await asyncio.gather(*(one(url) for url in self.inboxes))
        if bad:
            raise RuntimeError(f"baseline: {bad} inboxes did not answer 202")
        return (await self.wait_received(activity_id))[1] - t0


# -- the latency prober ----------------------------------------------------------------


class Prober:
    """Open loop at PROBE_RATE: actor and WebFinger GETs, and signed Likes to the inbox."""

    def __init__(self, node: NodeProcess, key: SigningKey, actor: str, note: str) -> None:
        self.node = node
        self.key = key
        self.actor = actor
        self.note = note
        self.gets: list[float] = []
        self.posts: list[float] = []
        self.errors = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _request(self, i: int) -> tuple[str, str, dict[str, str], bytes | None]:
        base = self.node.base
        if i % 3 == 0:
            return "GET", f"{base}/users/alice", {"Accept": "application/activity+json"}, None
        if i % 3 == 1:
            url = f"{base}/.well-known/webfinger?resource=acct:alice@{self.node.domain}"
            return "GET", url, {"Accept": "application/jrd+json"}, None
        origin = self.actor.rsplit("/users/", 1)[0]
        like = {
            "@context": AS_CONTEXT,
            "id": f"{origin}/likes/{uuid.uuid4().hex}",
            "type": "Like",
            "actor": self.actor,
            "object": self.note,
        }
        body = json.dumps(like).encode()
        headers = {"Content-Type": "application/activity+json"}
        url = f"{base}/inbox"
        return "POST", url, sign_request("POST", url, headers, body, self.key), body

    async def send(self, session: aiohttp.ClientSession, i: int, scheduled: float) -> None:
        method, url, headers, body = self._request(i)
        try:
            async with session.request(method, url, headers=headers, data=body) as resp:
                await resp.read()
                ok = resp.status == (202 if method == "POST" else 200)
        except (TimeoutError, aiohttp.ClientError, OSError):
            ok = False
        if not ok:
            self.errors += 1
            return
        (self.posts if method == "POST" else self.gets).append(
            (time.perf_counter() - scheduled) * 1000
        )

    async def _run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(limit=64)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            start = time.perf_counter()
            cap = int(PROBE_RATE * ROUND_LIMIT)
            for i in range(cap):
                scheduled = start + i / PROBE_RATE
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._stop.wait(), delay)
                    except TimeoutError:
                        pass
                if self._stop.is_set():
                    break
                task = asyncio.create_task(self.send(session, i, scheduled))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(list(tasks), timeout=15)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


# -- main ------------------------------------------------------------------------------


async def run() -> int:
    started = time.monotonic()
    with temp_workdir("agora-bench-fanout-") as tmp_name:
        tmp = Path(tmp_name)
        prober_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = (
            prober_private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        sink, ports = await start_sink(tmp, public_pem)
        node: NodeProcess | None = None
        try:
            node = await asyncio.to_thread(
                NodeProcess.create,
                tmp / "node",
                accounts=["alice"],
                plain_http_hosts=[f"127.0.0.1:{port}" for port in ports],
                allowed_networks=["127.0.0.0/8"],
            )
            followee = f"{node.base}/users/alice"
            await asyncio.to_thread(add_followers, node.db_path, followee, ports)
            info(f"set-up: {HOSTS} sink hosts, {HOSTS * FOLLOWERS_PER_HOST} followers")
            await node.start()
            assert node.proc is not None
            prober_uri = f"http://127.0.0.1:{ports[0]}/users/prober"
            prober_key = SigningKey(f"{prober_uri}#main-key", prober_private)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                await phases(session, node, ports, prober_key, prober_uri)
            info(f"node pid={node.proc.pid}; bench took {time.monotonic() - started:.0f}s")
        finally:
            if node is not None:
                node.stop()
            _stop(sink)
    return 0


async def phases(
    session: aiohttp.ClientSession,
    node: NodeProcess,
    ports: list[int],
    prober_key: SigningKey,
    prober_uri: str,
) -> None:
    assert node.proc is not None
    rounds = Rounds(session, node, ports)
    try:
        shim = LocalNode("bench", node.workdir, "127.0.0.1", node.port)
        shim.passwords["alice"] = PASSWORD
        rounds.client = await NodeClient(session, shim, "alice").login()

        cold, first_id = await rounds.ours("warm-up")
        data = query(
            node.db_path, "SELECT data, object_uri FROM activities WHERE uri = ?", first_id
        )
        rounds.template, note = json.loads(data[0][0]), str(data[0][1])
        planned = query(node.db_path, "SELECT count(*) FROM deliveries")[0][0]
        if planned != HOSTS:
            raise RuntimeError(f"{planned} deliveries for {HOSTS} shared inboxes")
        cold_base = await rounds.baseline("warm-up")
        info(f"warm-up (cold): ours={cold:.3f}s baseline={cold_base:.3f}s; {planned} deliveries")

        ours_t: list[float] = []
        base_t: list[float] = []
        for r in range(ROUNDS):
            base_t.append(await rounds.baseline(str(r)))
            ours_t.append((await rounds.ours(f"round {r}"))[0])
        info("rounds ours=" + " ".join(f"{t:.3f}" for t in ours_t))
        info(
            "ours: outbox POST to first receipt="
            + " ".join(f"{t:.3f}" for t in rounds.first_receipt)
        )
        info("rounds baseline=" + " ".join(f"{t:.3f}" for t in base_t))

        prober = Prober(node, prober_key, prober_uri, note)
        await prober.send(session, 4, time.perf_counter())  # the node fetches the prober's key
        if prober.errors:
            raise RuntimeError("the node refused the prober's signed Like")
        prober.posts.clear()
        probe_t: list[float] = []
        for r in range(PROBE_ROUNDS):
            prober.start()
            try:
                probe_t.append((await rounds.ours(f"probed {r}"))[0])
            finally:
                await prober.stop()
        info("probed rounds ours=" + " ".join(f"{t:.3f}" for t in probe_t))

        rss, rss_each = peak_rss_mb(node.proc.pid)
        info(
            "peak RSS per node process: "
            + ", ".join(f"pid {p} {mb:.1f} MB" for p, mb in rss_each.items())
        )
        dup = query(
            node.db_path,
            "SELECT count(*) FROM deliveries WHERE state != 'done' OR attempts != 1",
        )[0][0]
        info(
            f"deliveries not done or retried: {dup}; inboxes that got a post twice: "
            f"{rounds.duplicates}; prober errors: {prober.errors}"
        )
    finally:
        await rounds.close()

    ours = statistics.median(ours_t)
    base = statistics.median(base_t)
    figure("fanout_deliveries_per_s", HOSTS / ours, HOSTS / base, base / ours)
    figure("fanout_time_s", ours, base, base / ours)
    figure("fanout_peak_rss_mb", rss, RSS_LIMIT_MB, RSS_LIMIT_MB / rss)
    p99 = percentile(prober.gets, 99)
    info(
        f"during fan-out: {len(prober.gets)} GETs p50={percentile(prober.gets, 50):.1f}ms "
        f"max={max(prober.gets, default=float('nan')):.1f}ms; {len(prober.posts)} signed inbox "
        f"POSTs p50={percentile(prober.posts, 50):.1f}ms p99={percentile(prober.posts, 99):.1f}ms"
    )
    figure("fanout_actor_p99_ms_during", p99, P99_LIMIT_MS, P99_LIMIT_MS / p99)
    inbox_p99 = percentile(prober.posts, 99)
    figure("fanout_inbox_p99_ms_during", inbox_p99, P99_LIMIT_MS, P99_LIMIT_MS / inbox_p99)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd")
    sink = sub.add_parser("sink")
    sink.add_argument("--hosts", type=int, required=True)
    sink.add_argument("--out", type=Path, required=True)
    sink.add_argument("--public-key", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.cmd == "sink":
        serve_sink(args.hosts, args.out, args.public_key.read_text(encoding="utf-8"))
        return 0
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
