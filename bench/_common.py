"""Shared helpers for the HTTP benches: node processes, a bare baseline server, load.

- :class:`NodeProcess` makes a real node (``init`` + ``account create``) in a
  temporary directory and runs ``python -m agora_node.cli serve`` as a child
  process, waiting for readiness by polling NodeInfo.
- :class:`BareServer` runs *this file* as a child process
  (``python bench/_common.py bare ...``): a bare aiohttp app that answers
  every GET with fixed JSON bytes and every POST by reading the body and
  answering 202 (a form is parsed and answered with a small JSON, 200).
  Both sides are separate processes started the same way, so the load
  generator measures them the same way.
- :func:`closed_loop` (N keep-alive connections, fixed duration, request cap)
  and :func:`open_loop` (fixed offered rate, latency measured from each
  request's *scheduled* time so a stalled server cannot hide its queueing).

``AGORA_BENCH_SMOKE=1`` shrinks every phase to a few hundred requests; the
smoke test uses it to check the output format quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

THIS_FILE = str(Path(__file__).resolve())
ROOT = Path(THIS_FILE).parents[1]
# Environment knobs of the benchmark scripts themselves (not node settings, so
# no config twin): AGORA_BENCH_SMOKE=1 shrinks every phase to a few hundred
# requests (tests/test_bench_smoke.py runs the scripts that way);
# AGORA_BENCH_DIR is where bench/timeline.py keeps its generated database.
SMOKE = os.environ.get("AGORA_BENCH_SMOKE") == "1"
PASSWORD = "bench password 1234"

# (method, url, headers, body); body None for GET
Request = tuple[str, str, dict[str, str] | None, bytes | None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def figure(name: str, ours: float, baseline: float, ratio: float) -> None:
    """One figure line in the project's bench format."""
    print(f"{name}: ours={ours:.2f} baseline={baseline:.2f} ratio={ratio:.3f}", flush=True)


def info(text: str) -> None:
    print(f"# {text}", flush=True)


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # AGORA_BENCH_SRC: serve from another source tree (A/B-measuring a patch).
    src = env.get("AGORA_BENCH_SRC") or str(ROOT / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("AGORA_BENCH_SMOKE", None)
    if extra:
        env.update(extra)
    return env


async def wait_ready(url: str, proc: subprocess.Popen[bytes], limit_s: float = 30.0) -> None:
    """Poll ``url`` until it answers 200; fail fast if the process died."""
    deadline = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early with status {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} not ready after {limit_s:.0f}s")
            await asyncio.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes] | None, timeout: float = 20.0) -> int | None:
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


BENCH_LIMITS = (
    "api_per_token", "api_per_ip", "sign_in_per_ip", "sign_up_per_ip", "discovery_per_ip",
    "inbox_per_host",
)  # fmt: skip


@dataclass
class NodeProcess:
    """A real node: config, database and log in ``workdir``; served by a child process."""

    workdir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def config(self) -> Path:
        return self.workdir / "agora.toml"

    @property
    def db_path(self) -> Path:
        return self.workdir / "agora.db"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "agora_node.cli", "--config", str(self.config), *args],
            capture_output=True,
            timeout=120,
            env=_child_env(),
            cwd=self.workdir,
        )
        if out.returncode != 0:
            raise RuntimeError(f"agora-node {' '.join(args)} failed: {out.stderr.decode()}")
        return out.stdout.decode()

    @classmethod
    def create(
        cls,
        workdir: Path,
        *,
        accounts: Sequence[str] = ("alice",),
        plain_http_hosts: Sequence[str] = (),
        allowed_networks: Sequence[str] = (),
        env: dict[str, str] | None = None,
        config_extra: str | None = None,
    ) -> NodeProcess:
        """``config_extra``: TOML appended to the config instead of the default
        rate limits (which stay on, above what a run sends)."""
        workdir.mkdir(parents=True, exist_ok=True)
        node = cls(workdir, free_port(), dict(env or {}))
        args = ["init", "--domain", node.domain, "--base-url", node.base, "--port", str(node.port)]
        for host in plain_http_hosts:
            args += ["--plain-http-host", host]
        for net in allowed_networks:
            args += ["--allow-network", net]
        node.cli(*args)
        extra = config_extra
        if extra is None:
            # The load comes from one address, one token, one sending server: the
            # limits stay on (every request is counted) but above what a run sends.
            extra = "\n[rate_limits]\n" + "".join(f"{key} = 1000000000\n" for key in BENCH_LIMITS)
        with node.config.open("a", encoding="utf-8") as f:
            f.write(extra)
        pw = workdir / "password.txt"
        pw.write_text(PASSWORD + "\n", encoding="utf-8")
        for name in accounts:
            node.cli("account", "create", name, "--password-file", str(pw))
        return node

    def launch(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        with (self.workdir / f"node-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agora_node.cli", "--config", str(self.config), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(self.env),
                cwd=self.workdir,
                start_new_session=True,  # its own process group: see kill9
            )
        return self.proc

    async def start(self) -> None:
        await wait_ready(f"{self.base}/.well-known/nodeinfo", self.launch())

    def stop(self) -> int | None:
        """SIGTERM and wait (graceful: the node drains its workers)."""
        code = _stop(self.proc)
        self.proc = None
        return code

    def kill9(self) -> None:
        """The whole node dies at once: the serving process and its worker process."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


@dataclass
class BareServer:
    """The baseline: a bare aiohttp handler in its own process."""

    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, get_body: bytes, content_type: str, tmp: Path) -> BareServer:
        server = cls.launch(get_body, content_type, tmp)
        assert server.proc is not None
        await wait_ready(f"{server.base}/ready", server.proc)
        return server

    @classmethod
    def launch(cls, get_body: bytes, content_type: str, tmp: Path) -> BareServer:
        server = cls(free_port())
        body_file = tmp / f"bare-{server.port}.body"
        body_file.write_bytes(get_body)
        server.proc = subprocess.Popen(
            [
                sys.executable,
                THIS_FILE,
                "bare",
                "--port",
                str(server.port),
                "--body-file",
                str(body_file),
                "--content-type",
                content_type,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_child_env(),
        )
        return server

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None


# -- load generation -----------------------------------------------------------


@dataclass
class LoadResult:
    sent: int
    elapsed: float
    statuses: Counter[int]
    errors: int
    ok_indexes: list[int]
    latencies_ms: list[float]

    def rate(self, status: int | None = None) -> float:
        n = self.sent if status is None else self.statuses.get(status, 0)
        return n / self.elapsed if self.elapsed > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


def new_session(connections: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, force_close=False, ttl_dns_cache=None)
    return aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30), auto_decompress=False
    )


async def _one(session: aiohttp.ClientSession, req: Request, ok: int) -> tuple[int | None, float]:
    method, url, headers, body = req
    started = time.perf_counter()
    try:
        async with session.request(method, url, headers=headers, data=body) as resp:
            await resp.read()
            return resp.status, started
    except (TimeoutError, aiohttp.ClientError, OSError):
        return None, started


async def closed_loop(
    requests: Callable[[int], Request],
    *,
    connections: int,
    duration: float,
    cap: int,
    ok_status: int = 200,
    on_progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> LoadResult:
    """``connections`` workers on keep-alive connections, each sending back to back.

    Stops at ``duration`` seconds or after ``cap`` requests, whichever comes first.
    ``requests(i)`` gives the i-th request (each index is used once).
    """
    statuses: Counter[int] = Counter()
    ok_indexes: list[int] = []
    latencies: list[float] = []
    counter = 0
    errors = 0
    async with new_session(connections) as session:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            nonlocal counter, errors
            while counter < cap and time.perf_counter() < deadline:
                if should_stop is not None and should_stop():
                    return
                i = counter
                counter += 1
                status, t0 = await _one(session, requests(i), ok_status)
                if status is None:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)
                statuses[status] += 1
                if status == ok_status:
                    ok_indexes.append(i)
                    if on_progress is not None:
                        on_progress(len(ok_indexes))

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    return LoadResult(counter, elapsed, statuses, errors, ok_indexes, latencies)


async def open_loop(
    requests: Callable[[int], Request],
    *,
    rate: float,
    count: int,
    max_seconds: float,
    connections: int = 256,
    ok_status: int = 200,
) -> LoadResult:
    """Send request i at ``start + i/rate`` whatever happened before (open loop).

    Latency runs from the scheduled send time to the end of the response body,
    so queueing in the client or the server is counted. Bounded by ``count``
    and ``max_seconds`` (requests not started by then are not sent).
    """
    statuses: Counter[int] = Counter()
    ok_indexes: list[int] = []
    latencies: list[float] = []
    errors = 0
    tasks: set[asyncio.Task[None]] = set()
    interval = 1.0 / rate
    async with new_session(connections) as session:
        start = time.perf_counter()
        hard_stop = start + max_seconds

        async def fire(i: int, scheduled: float) -> None:
            nonlocal errors
            status, _ = await _one(session, requests(i), ok_status)
            if status is None:
                errors += 1
                return
            latencies.append((time.perf_counter() - scheduled) * 1000)
            statuses[status] += 1
            if status == ok_status:
                ok_indexes.append(i)

        sent = 0
        for i in range(count):
            scheduled = start + i * interval
            now = time.perf_counter()
            if scheduled >= hard_stop:
                break
            if scheduled > now:
                await asyncio.sleep(scheduled - now)
            task = asyncio.create_task(fire(i, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        if tasks:
            await asyncio.wait(list(tasks), timeout=max(1.0, hard_stop + 10 - time.perf_counter()))
        for task in list(tasks):
            task.cancel()
        elapsed = time.perf_counter() - start
    return LoadResult(sent, elapsed, statuses, errors, ok_indexes, latencies)


def temp_workdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)


def read_lag_file(path: Path) -> dict[str, Any] | None:
    import json

    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


# -- the bare baseline server (run as a child process) ------------------------------


def _serve_bare(port: int, body_file: str, content_type: str) -> None:
    from aiohttp import web

    body = Path(body_file).read_bytes()

    async def get(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def post(request: web.Request) -> web.Response:
        if request.content_type == "application/x-www-form-urlencoded":
            # What a client API handler does first: read the form; then answer JSON.
            form = await request.post()
            return web.json_response({"id": "1", "content": str(form.get("status", ""))})
        await request.read()
        return web.Response(status=202)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/ready", ready)
    app.router.add_get("/{tail:.*}", get)
    app.router.add_post("/{tail:.*}", post)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    bare = sub.add_parser("bare")
    bare.add_argument("--port", type=int, required=True)
    bare.add_argument("--body-file", required=True)
    bare.add_argument("--content-type", default="application/json")
    args = parser.parse_args(argv)
    _serve_bare(args.port, args.body_file, args.content_type)
    return 0


if __name__ == "__main__":
    sys.exit(main())
