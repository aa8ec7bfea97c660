"""Shared-inbox ingestion: signed Create(Note) deliveries vs a bare aiohttp handler.

Run: ``.venv/bin/python bench/inbox.py``. Prints::

    inbox_accepted_per_s: ours=<202/s> baseline=<202/s> ratio=<ours/baseline>
    inbox_p50_ms: ours=<ms> baseline=<ms> ratio=<baseline/ours>
    inbox_p99_ms: ours=<ms> baseline=<ms> ratio=<baseline/ours>
    inbox_p99_ms_at_target_load: ours=<ms> baseline=<ms> ratio=<baseline/ours>
    inbox_loop_max_block_ms: ours=<ms> baseline=20 ratio=<20/ours>
    inbox_loop_max_block_ms_at_target_load: ours=<ms> baseline=20 ratio=<20/ours>
    inbox_durable_after_kill9: ours=<present> baseline=<accepted> ratio=<present/accepted>

Set-up (untimed): ``ACTORS`` remote actors with distinct RSA keys, served by a
stub on 127.0.0.1 (in this process); a real node process with
``plain_http_hosts = [stub]`` and ``allowed_networks = ["127.0.0.0/8"]``;
deliveries signed before each timed phase (``(request-target) host date
digest content-type``, Host = the node's ``base_url`` host), each with a
unique activity id and note id on the stub's host, addressed to Public,
round-robin over the actors. One delivery per actor first warms the node's
key cache, so the timed phases measure the steady state.

Phases (ours and the baseline alternate in ``SLICES`` slices, and the node's
inbox queue is drained before every baseline slice and every latency slice,
so its worker never competes with the baseline and each slice starts clean):
1. throughput: ``CONNECTIONS`` keep-alive connections sending back to back
   for ``SECONDS`` in total (capped); ours counts 202s, each one then checked
   present in the node's inbox spool or ``jobs`` table (SQLite opened read-only after a
   graceful stop) — a 202 that is not stored counts as not accepted. The
   baseline is a bare aiohttp app (own process) that reads the body and
   answers 202, fed the very same requests.
2. latency: open loop at 80 % of the node's measured rate for
   ``LATENCY_SECONDS`` in total; latency from each request's scheduled time
   to the end of its response. The baseline gets the same offered rate.
   Then the same at 80 % of the target rate (0.10 of the bare handler's
   measured rate): ``inbox_p99_ms_at_target_load``.
3. loop blocking: the node runs with ``AGORA_LOOP_MONITOR`` and
   ``AGORA_LOOP_MONITOR_CALLBACKS`` (the slowest callbacks are printed; see
   ``agora_node/loopmon.py``); the figure is its worst lag during phases 1-2
   at full and 80 % load, and apart at the target load (the warm-up is
   printed apart). When the node does not write a report
   (monitor not wired), a NodeInfo probe every 25 ms during phases 1-2 stands
   in (its worst latency: an upper bound that also counts queueing behind
   the load, and this process's own lag).
4. kill -9: a fresh batch of deliveries; the node is killed with SIGKILL
   once a third of them got 202, restarted on the same database, stopped;
   then every 202'd id must be spooled, in ``jobs`` (or processed, in ``activities``).
"""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp
import sqlite_utils
from _common import (
    SMOKE,
    BareServer,
    LoadResult,
    NodeProcess,
    Request,
    closed_loop,
    figure,
    free_port,
    info,
    open_loop,
    percentile,
    read_lag_file,
    temp_workdir,
)
from aiohttp import web

from agora_node.protocol.httpsig import SigningKey, sign_request
from agora_node.protocol.keys import generate_rsa_keypair, load_private_key
from agora_node.store.jobs import spool_cursors
from agora_node.store.spool import count_waiting, segment_files, spool_dir

ACTORS = 8 if SMOKE else 100
CONNECTIONS = 32
SECONDS = 1.0 if SMOKE else 5.0
THROUGHPUT_CAP = 150 if SMOKE else 30_000
LATENCY_SECONDS = 1.0 if SMOKE else 5.0
LATENCY_CAP = 200 if SMOKE else 100_000
KILL_BATCH = 150 if SMOKE else 3000
LOAD_FRACTION = 0.8
TARGET_FRACTION = 0.10  # the throughput target, as a fraction of the bare handler's
SLICES = 2
DRAIN_LIMIT = 20.0 if SMOKE else 90.0
LOOP_LIMIT_MS = 20.0
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"


@dataclass
class RemoteActor:
    uri: str
    key: SigningKey
    public_pem: str

    def document(self) -> dict[str, Any]:
        name = self.uri.rsplit("/", 1)[-1]
        return {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": name,
            "name": name.title(),
            "inbox": f"{self.uri}/inbox",
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "following": f"{self.uri}/following",
            "endpoints": {"sharedInbox": self.uri.rsplit("/users/", 1)[0] + "/inbox"},
            "publicKey": {
                "id": f"{self.uri}#main-key",
                "owner": self.uri,
                "publicKeyPem": self.public_pem,
            },
        }


class Stub:
    """The remote server: serves its actors' documents (the node fetches their keys)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.actors: dict[str, RemoteActor] = {}
        self.fetches = 0
        self._runner: web.AppRunner | None = None

    def add_actors(self, count: int) -> list[RemoteActor]:
        made = []
        for i in range(count):
            pair = generate_rsa_keypair()
            uri = f"{self.base}/users/a{i}"
            key = SigningKey(f"{uri}#main-key", load_private_key(pair.private_pem))
            self.actors[uri] = RemoteActor(uri, key, pair.public_pem)
            made.append(self.actors[uri])
        return made

    async def _handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        actor = self.actors.get(self.base + request.path)
        if actor is None:
            return web.Response(status=404)
        return web.Response(
            body=json.dumps(actor.document()).encode(), content_type="application/activity+json"
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class Deliveries:
    """Signed inbox POSTs, made in batches before each timed phase."""

    def __init__(self, actors: list[RemoteActor], inbox_url: str) -> None:
        self.actors = actors
        self.inbox_url = inbox_url
        self.run_tag = uuid.uuid4().hex[:10]
        self.seq = 0
        self.ids: list[str] = []

    def _activity(self, actor: RemoteActor, seq: int) -> dict[str, Any]:
        note_id = f"{actor.uri}/statuses/{self.run_tag}{seq:07d}"
        published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        content = (
            f"<p>Post {seq} from the bench: the seedlings survived the frost "
            f'<a href="{actor.uri.rsplit("/users/", 1)[0]}/tags/gardening" '
            'class="mention hashtag" rel="tag">#<span>gardening</span></a></p>'
        )
        note = {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": published,
            "url": note_id,
            "attributedTo": actor.uri,
            "to": [PUBLIC],
            "cc": [f"{actor.uri}/followers"],
            "sensitive": False,
            "content": content,
            "contentMap": {"en": content},
            "attachment": [],
            "tag": [
                {
                    "type": "Hashtag",
                    "href": actor.uri.rsplit("/users/", 1)[0] + "/tags/gardening",
                    "name": "#gardening",
                }
            ],
        }
        return {
            "@context": AS_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor.uri,
            "published": published,
            "to": [PUBLIC],
            "cc": [f"{actor.uri}/followers"],
            "object": note,
        }

    def batch(self, count: int, *, one_per_actor: bool = False) -> list[tuple[str, Request]]:
        """``count`` fresh signed deliveries: (activity id, request)."""
        out: list[tuple[str, Request]] = []
        for i in range(count):
            actor = self.actors[i % len(self.actors)] if one_per_actor else self._next_actor()
            activity = self._activity(actor, self.seq)
            self.seq += 1
            body = json.dumps(activity).encode()
            headers = sign_request(
                "POST",
                self.inbox_url,
                {"Content-Type": "application/activity+json"},
                body,
                actor.key,
            )
            out.append((activity["id"], ("POST", self.inbox_url, headers, body)))
        return out

    def _next_actor(self) -> RemoteActor:
        return self.actors[self.seq % len(self.actors)]


def retarget(requests: list[tuple[str, Request]], base: str) -> list[Request]:
    """The same requests (same bytes, same signed Host header) sent to another server."""
    out = []
    for _, (method, url, headers, body) in requests:
        path = url.split("/", 3)[3]
        out.append((method, f"{base}/{path}", headers, body))
    return out


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _keys_in(conn: sqlite3.Connection, table: str, column: str, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", chunk
        ).fetchall()
        found.update(r[0] for r in rows)
    return found


def in_queue(db_path: Path, ids: list[str]) -> set[str]:
    """Which activity ids the node holds as accepted: spooled or queued as jobs."""
    keys = [f"inbox:{i}" for i in ids]
    found: set[str] = set()
    # The node's inbox spool holds what was answered 202 and is not queued yet.
    segments = segment_files(spool_dir(str(db_path)))
    sources = [(db_path, "jobs")] + [(p, "spool") for p in segments]
    for path, table in sources:
        try:
            conn = _read_only(path)
        except sqlite3.OperationalError:  # a segment removed meanwhile: its jobs are queued
            continue
        try:
            found |= _keys_in(conn, table, "dedupe_key", keys)
        except sqlite3.OperationalError:
            continue
        finally:
            conn.close()
    return {k.removeprefix("inbox:") for k in found}


def stored_ids(db_path: Path, ids: list[str]) -> set[str]:
    """Which activity ids are spooled, queued, or processed (in ``activities``); read-only."""
    conn = _read_only(db_path)
    try:
        return in_queue(db_path, ids) | _keys_in(conn, "activities", "uri", ids)
    finally:
        conn.close()


def pending_jobs(db_path: Path) -> int:
    """Inbox activities not processed yet: spooled past the worker's cursor, or
    queued and not done (read beside the running node)."""
    conn = _read_only(db_path)
    try:
        queued = conn.execute(
            "SELECT count(*) FROM jobs WHERE kind = 'inbox' AND state IN ('pending', 'running')"
        ).fetchone()[0]
        cursors, finished = spool_cursors(sqlite_utils.Database(conn))
    finally:
        conn.close()
    return int(queued) + count_waiting(str(db_path), cursors, finished)


async def drain(node: NodeProcess) -> None:
    gc.collect()  # this process's own, between timed slices (see main)
    backlog = pending_jobs(node.db_path)
    waited = await wait_drained(node.db_path, DRAIN_LIMIT)
    info(f"  node inbox backlog {backlog} jobs, drained in {waited:.1f}s")


async def wait_drained(db_path: Path, limit_s: float) -> float:
    """Wait (bounded) until the node's inbox worker has caught up; seconds waited."""
    start = time.perf_counter()
    for _ in range(int(limit_s / 0.1)):
        if not pending_jobs(db_path):
            break
        await asyncio.sleep(0.1)
    return time.perf_counter() - start


class Probe:
    """GET /.well-known/nodeinfo every ``interval`` s on its own connection; worst latency."""

    def __init__(self, url: str, interval: float = 0.025) -> None:
        self.url = url
        self.interval = interval
        self.latencies_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                t0 = time.perf_counter()
                try:
                    async with session.get(self.url) as resp:
                        await resp.read()
                    self.latencies_ms.append((time.perf_counter() - t0) * 1000)
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(max(0.0, self.interval - (time.perf_counter() - t0)))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


def phase_max(report: dict[str, Any], window: tuple[float, float]) -> float:
    """The monitor's worst lag in a window (per-second maxima: whole seconds at the edges)."""
    start, end = window
    lags = [ms for second, ms in report.get("seconds", []) if start - 1 < second <= end]
    return max(lags, default=0.0)


def slow_callbacks(report: dict[str, Any], marks: dict[str, list[tuple[float, float]]]) -> str:
    """The node's slowest callbacks during the timed phases, with what they ran."""

    def phase_of(wall: float) -> str | None:
        for phase, windows in marks.items():
            if any(start <= wall <= end for start, end in windows):
                return phase
        return None

    found = [
        f"{ms:.1f}ms ({phase}: {what})"
        for ms, wall, what in report.get("slow_callbacks", [])
        if (phase := phase_of(wall)) is not None
    ]
    return "; ".join(found[:5]) or "none of 5 ms or more"


def phase_lags(report: dict[str, Any], marks: dict[str, list[tuple[float, float]]]) -> str:
    parts = []
    for phase, windows in marks.items():
        worst = max(phase_max(report, w) for w in windows)
        parts.append(f"{phase} max {worst:.1f}ms")
    worst = [f"{ms:.1f}ms" for ms, _ in report.get("worst", [])[:5]]
    gc_pauses = ", ".join(
        f"gen{gen} {v['count']}x max {v['max_ms']:.1f}ms" for gen, v in report.get("gc", {}).items()
    )
    late = report.get("late_cpu", [])[:5]
    split = ", ".join(f"{lag:.1f}ms ({cpu:.1f}ms on CPU)" for lag, cpu in late)
    return (
        ", ".join(parts)
        + f"; worst overall {', '.join(worst)}; gc pauses: {gc_pauses}"
        + f"; worst lags with the loop thread's CPU time in them: {split}"
    )


def _describe(name: str, result: LoadResult) -> None:
    info(
        f"{name}: sent={result.sent} in {result.elapsed:.2f}s statuses={dict(result.statuses)} "
        f"errors={result.errors}"
    )


async def _first_refusal(req: Request) -> str:
    method, url, headers, body = req
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, headers=headers, data=body) as resp:
            return f"{resp.status} {(await resp.text())[:300]}"


def _indexed(requests: list[Request]) -> Callable[[int], Request]:
    return requests.__getitem__


async def run() -> int:
    with temp_workdir("agora-bench-inbox-") as tmp:
        tmpdir = Path(tmp)
        stub = Stub()
        t0 = time.perf_counter()
        actors = stub.add_actors(ACTORS)
        info(f"{ACTORS} actor keys in {time.perf_counter() - t0:.1f}s")
        await stub.start()
        node = await asyncio.to_thread(
            NodeProcess.create,
            tmpdir / "node",
            accounts=["alice"],
            plain_http_hosts=[f"127.0.0.1:{stub.port}"],
            allowed_networks=["127.0.0.0/8"],
        )
        lag_file = tmpdir / "loop-1.json"
        node.env["AGORA_LOOP_MONITOR"] = str(lag_file)
        node.env["AGORA_LOOP_MONITOR_CALLBACKS"] = "1"  # names the slowest callbacks
        bare: BareServer | None = None
        try:
            await node.start()
            bare = await BareServer.start(b"{}", "application/json", tmpdir)
            deliveries = Deliveries(actors, f"{node.base}/inbox")
            code = await phases(node, bare, stub, deliveries, lag_file)
        finally:
            if bare is not None:
                bare.stop()
            node.stop()
            await stub.close()
    return code


async def phases(
    node: NodeProcess, bare: BareServer, stub: Stub, deliveries: Deliveries, lag_file: Path
) -> int:
    accepted_ids: list[str] = []
    marks: dict[str, list[tuple[float, float]]] = {}  # phase -> wall-clock (start, end)s

    # warm-up: one delivery per actor fills the node's key cache (and compiles schemas)
    warm = deliveries.batch(len(deliveries.actors), one_per_actor=True)
    warm_reqs = [r for _, r in warm]
    t_start = time.time()
    result = await closed_loop(
        _indexed(warm_reqs), connections=8, duration=60, cap=len(warm_reqs), ok_status=202
    )
    marks["warm-up"] = [(t_start, time.time())]
    _describe("warm-up (one per actor)", result)
    if result.statuses.get(202, 0) != len(warm_reqs):
        info(f"warm-up refusal: {await _first_refusal(warm_reqs[0])}")
    accepted_ids += [warm[i][0] for i in result.ok_indexes]
    info(f"stub served {stub.fetches} key fetches")
    bare_warm = retarget(warm, bare.base)
    await closed_loop(_indexed(bare_warm), connections=8, duration=10, cap=len(bare_warm))

    # 1. throughput: ours and bare in alternating slices, the node's queue drained
    # before each bare slice so its worker does not compete with the baseline.
    probe = Probe(f"{node.base}/.well-known/nodeinfo")
    t0 = time.perf_counter()
    batch = deliveries.batch(THROUGHPUT_CAP)
    info(f"signed {len(batch)} deliveries in {time.perf_counter() - t0:.1f}s")
    # The load generator's own pauses count as latency (measured from each
    # request's scheduled time): its garbage collector, walking tens of
    # thousands of pre-signed requests, stalled it ~100 ms at a time. It runs
    # between slices instead (in ``drain``), as timeit does.
    gc.collect()
    gc.freeze()
    gc.disable()
    reqs = [r for _, r in batch]
    base_reqs = retarget(batch, bare.base)  # reused round-robin: the bare handler keeps nothing
    ours_runs: list[LoadResult] = []
    base_runs: list[LoadResult] = []
    throughput_ids: list[str] = []
    used = 0
    for _ in range(SLICES):
        offset = used
        probe.start()
        t_start = time.time()
        ours = await closed_loop(
            lambda i, off=offset: reqs[off + i],
            connections=CONNECTIONS,
            duration=SECONDS / SLICES,
            cap=min(len(reqs) - offset, THROUGHPUT_CAP // SLICES),
            ok_status=202,
        )
        marks.setdefault("throughput", []).append((t_start, time.time()))
        await probe.stop()
        used += ours.sent
        ours_runs.append(ours)
        throughput_ids += [batch[offset + i][0] for i in ours.ok_indexes]
        _describe("throughput ours", ours)
        await drain(node)
        base = await closed_loop(
            lambda i: base_reqs[i % len(base_reqs)],
            connections=CONNECTIONS,
            duration=SECONDS / SLICES,
            cap=THROUGHPUT_CAP * 20,
            ok_status=202,
        )
        base_runs.append(base)
        _describe("throughput bare", base)
    accepted_ids += throughput_ids
    ours_elapsed = sum(r.elapsed for r in ours_runs)
    ours_max_rate = sum(r.statuses.get(202, 0) for r in ours_runs) / ours_elapsed

    # 2. latency at 80 % of our measured rate, then at 80 % of the target rate
    # (TARGET_FRACTION of the bare handler's), slices alternating the same way
    async def latency_at(rate: float, phase: str) -> tuple[list[float], list[float]]:
        nonlocal accepted_ids
        count = min(LATENCY_CAP, max(10, int(rate * LATENCY_SECONDS / SLICES)))
        ours_ms: list[float] = []
        base_ms: list[float] = []
        for _ in range(SLICES):
            lat_batch = deliveries.batch(count)
            lat_reqs = [r for _, r in lat_batch]
            probe.start()
            t_start = time.time()
            ours_lat = await open_loop(
                _indexed(lat_reqs),
                rate=rate,
                count=count,
                max_seconds=LATENCY_SECONDS / SLICES + 1,
                ok_status=202,
            )
            marks.setdefault(phase, []).append((t_start, time.time()))
            await probe.stop()
            _describe(f"latency ours at {rate:.0f}/s", ours_lat)
            accepted_ids += [lat_batch[i][0] for i in ours_lat.ok_indexes]
            ours_ms += ours_lat.latencies_ms
            if ours_lat.statuses.get(202, 0) != ours_lat.sent:
                info("latency phase: not every request got 202 (see statuses above)")
            await drain(node)
            base_lat = await open_loop(
                _indexed(retarget(lat_batch, bare.base)),
                rate=rate,
                count=count,
                max_seconds=LATENCY_SECONDS / SLICES + 1,
                ok_status=202,
            )
            base_ms += base_lat.latencies_ms
            _describe(f"latency bare at {rate:.0f}/s", base_lat)
        return ours_ms, base_ms

    ours_lat_ms, base_lat_ms = await latency_at(max(1.0, LOAD_FRACTION * ours_max_rate), "latency")
    base_max_rate = sum(r.statuses.get(202, 0) for r in base_runs) / sum(
        r.elapsed for r in base_runs
    )
    target_rate = max(1.0, LOAD_FRACTION * TARGET_FRACTION * base_max_rate)
    ours_target_ms, base_target_ms = await latency_at(target_rate, "target load")

    # graceful stop, then check every 202 is stored; the loop monitor writes its report
    node.stop()
    present = in_queue(node.db_path, accepted_ids)
    missing = len(set(accepted_ids) - present)
    stored_throughput = len(set(throughput_ids) & present)
    info(f"202s so far {len(accepted_ids)}, spooled or queued {len(present)}, missing {missing}")
    ours_rate = stored_throughput / ours_elapsed
    base_rate = sum(r.statuses.get(202, 0) for r in base_runs) / sum(r.elapsed for r in base_runs)
    figure("inbox_accepted_per_s", ours_rate, base_rate, ours_rate / base_rate)
    p50, p99 = percentile(ours_lat_ms, 50), percentile(ours_lat_ms, 99)
    b50, b99 = percentile(base_lat_ms, 50), percentile(base_lat_ms, 99)
    figure("inbox_p50_ms", p50, b50, b50 / p50)
    figure("inbox_p99_ms", p99, b99, b99 / p99)
    t99, tb99 = percentile(ours_target_ms, 99), percentile(base_target_ms, 99)
    t50 = percentile(ours_target_ms, 50)
    info(f"at 80 % of the target rate ({target_rate:.0f}/s): p50 {t50:.1f} ms")
    figure("inbox_p99_ms_at_target_load", t99, tb99, tb99 / t99)

    report = read_lag_file(lag_file)
    probe_max = max(probe.latencies_ms, default=float("nan"))
    info(
        f"nodeinfo probe during load: n={len(probe.latencies_ms)} "
        f"p50={percentile(probe.latencies_ms, 50):.1f}ms max={probe_max:.1f}ms"
    )
    if report is not None:
        block = max(phase_max(report, w) for p in ("throughput", "latency") for w in marks[p])
        target_block = max(phase_max(report, w) for w in marks["target load"])
        info(f"loop monitor ({report['samples']} x 5 ms sleep): {phase_lags(report, marks)}")
        info(f"slowest loop callbacks: {slow_callbacks(report, marks)}")
    else:
        block = target_block = probe_max
        info("no loop-monitor report (AGORA_LOOP_MONITOR not wired): using the probe's worst")
    figure("inbox_loop_max_block_ms", block, LOOP_LIMIT_MS, LOOP_LIMIT_MS / max(block, 1e-3))
    figure(
        "inbox_loop_max_block_ms_at_target_load",
        target_block,
        LOOP_LIMIT_MS,
        LOOP_LIMIT_MS / max(target_block, 1e-3),
    )

    # 4. durability after kill -9
    node.env.pop("AGORA_LOOP_MONITOR", None)
    await node.start()
    kill_batch = deliveries.batch(KILL_BATCH)
    kill_reqs = [r for _, r in kill_batch]
    killed_at: list[int] = []

    def maybe_kill(accepted: int) -> None:
        if not killed_at and accepted >= KILL_BATCH // 3:
            node.kill9()
            killed_at.append(accepted)

    kill_result = await closed_loop(
        _indexed(kill_reqs),
        connections=CONNECTIONS,
        duration=60,
        cap=len(kill_reqs),
        ok_status=202,
        on_progress=maybe_kill,
        should_stop=lambda: bool(killed_at),
    )
    _describe("kill -9 phase", kill_result)
    if not killed_at:
        node.kill9()
    kill_ids = [kill_batch[i][0] for i in kill_result.ok_indexes]
    await node.start()  # recovery on the same database
    node.stop()
    kill_present = stored_ids(node.db_path, kill_ids)
    info(f"kill -9 after {killed_at[0] if killed_at else 'all'} 202s")
    n_ok = len(kill_ids)
    figure("inbox_durable_after_kill9", len(kill_present), n_ok, len(kill_present) / max(n_ok, 1))
    return 0


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    sys.exit(main())
