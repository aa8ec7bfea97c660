"""Background work: the inbox and delivery workers, in the serving process or
in a worker process of their own.

Why a process of their own (``server.workers = "process"``, the default for
``serve``): processing an activity and signing a delivery are CPU-bound
Python. In the serving process they hold the GIL between the event loop's
turns, so a request that arrives meanwhile waits for them (bench/inbox.py and
bench/fanout.py measure it: the inbox's p99 and the event loop's longest
stall). In a child process the serving loop keeps a core to itself. The
child runs as idle-priority work (Linux SCHED_IDLE, else nice 19): it gets
every core cycle that serving and the rest of the machine leave over, and
never takes one from them (bench/inbox.py compares the inbox p99 under load
with each choice). Processing may fall behind during a burst; the jobs
are durable and it catches up when the burst ends.

The two processes share only the SQLite file (WAL: both read at once; writes
take turns under ``busy_timeout``), the inbox spool (``store/spool.py``: the
serving process appends, the child reads) and a pipe. The serving process
writes one byte to the pipe when it queued work (``b"i"`` inbox activity
spooled, ``b"d"`` delivery),
so the child wakes at once instead of polling; the child also reads the end
of the pipe as its parent's death (kill -9 included) and then stops the way
it stops on SIGTERM: in-flight work finished (bounded) or handed back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from concurrent.futures import Executor, ThreadPoolExecutor

from agora_node.config import Settings
from agora_node.federation.prefetch import Prefetcher
from agora_node.logs import setup_logging
from agora_node.processing.policies import Pipeline
from agora_node.services import Services, running_services
from agora_node.store import jobs as jobs_store
from agora_node.store.db import Database
from agora_node.store.spool import SpoolReader
from agora_node.workers.delivery import DeliveryWorker
from agora_node.workers.inbox import INBOX_JOB, InboxWorker

log = logging.getLogger("agora_node.background")  # also when run as __main__

INBOX_BYTE = b"i"
DELIVERY_BYTE = b"d"
# CPU priority of the worker process where SCHED_IDLE is not available.
WORKER_NICENESS = 19
# Jobs per write transaction in the worker process: a request waiting on the
# serving process's write waits for at most one such transaction (store/db.py).
BACKGROUND_MAX_BULK = 2
SIGNING_THREADS = 2
STOP_SECONDS = 30.0
# The serving process checks its worker this often and restarts it if it died.
SUPERVISE_SECONDS = 1.0
RESTART_BACKOFF_MAX = 30.0


class BackgroundWorkers:
    """The inbox and delivery workers of one process, started and stopped together."""

    def __init__(self, services: Services, sign_pool: Executor | None = None) -> None:
        settings, db = services.settings, services.db
        self._db = db
        self.inbox_wake = asyncio.Event()
        self.delivery_wake = asyncio.Event()
        self._spool = SpoolReader(settings.database.path)
        self.inbox = InboxWorker(
            db,
            Prefetcher(db, services.fetcher, services.urls, settings.federation.thread_fetch_depth),
            services.urls,
            self.inbox_wake,
            self.delivery_wake,
            spool=self._spool,
            policies=Pipeline.from_specs(settings.policies),
        )
        self.delivery = DeliveryWorker(
            db,
            services.session,
            services.policy,
            services.signers,
            services.schemes,
            settings.delivery,
            self.delivery_wake,
            sign_pool=sign_pool,
            rules=services.blocklist,
        )
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        # Inbox jobs claimed by a process that died (kill -9, power loss) are
        # handed back now instead of when their lease would have expired.
        await self._db.write(lambda c: jobs_store.release_running_jobs(c, INBOX_JOB))
        self._tasks = [
            asyncio.create_task(self.inbox.run(), name="inbox-worker"),
            asyncio.create_task(self.delivery.run(), name="delivery-worker"),
        ]

    async def stop(self) -> None:
        if not self._tasks:
            return
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.inbox.drain()
        await self.delivery.drain()
        self._spool.close()


class WorkerProcess:
    """The serving process's handle on its worker process: spawn, wake, supervise, stop."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._proc: subprocess.Popen[bytes] | None = None
        self._wake_fd: int | None = None
        self._stopping = False
        self._restarts = 0
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "agora_node.background", str(read_fd)],
                stdin=subprocess.PIPE,
                pass_fds=(read_fd,),
            )
        finally:
            os.close(read_fd)
        assert proc.stdin is not None
        # Our own frozen settings, to our own child: nothing untrusted is unpickled.
        proc.stdin.write(pickle.dumps(self._settings))
        proc.stdin.close()
        if self._wake_fd is not None:
            os.close(self._wake_fd)
        self._proc, self._wake_fd = proc, write_fd
        # Wake the new worker once: work may have been queued while none ran.
        self.notify(INBOX_BYTE + DELIVERY_BYTE)
        log.info("worker process started pid=%d", proc.pid)

    async def start(self) -> None:
        await asyncio.to_thread(self._spawn)
        self._supervisor = asyncio.create_task(self._supervise(), name="worker-supervisor")

    def notify(self, what: bytes) -> None:
        """Tell the worker process that work was queued (never blocks)."""
        if self._wake_fd is None:
            return
        # A full pipe already holds a pending wake-up; a broken one means the
        # worker is gone and the supervisor restarts it (which wakes it).
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._wake_fd, what)

    async def _supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(SUPERVISE_SECONDS)
            proc = self._proc
            if self._stopping or proc is None or proc.poll() is None:
                continue
            self._restarts += 1
            delay = min(2.0 ** min(self._restarts, 5), RESTART_BACKOFF_MAX)
            log.error(
                "worker process exited pid=%d status=%s restart_in=%.0fs",
                proc.pid, proc.returncode, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)
            if not self._stopping:
                await asyncio.to_thread(self._spawn)

    async def stop(self) -> None:
        """SIGTERM, then wait for the worker to hand its work back (bounded)."""
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log.error("worker process did not stop in time pid=%d; killed", proc.pid)
                proc.kill()
                await asyncio.to_thread(proc.wait)
        if self._wake_fd is not None:
            os.close(self._wake_fd)
            self._wake_fd = None


class PipeWake:
    """An ``Event``-like wake-up that reaches the worker process.

    Many ``set()`` calls in one loop turn (a burst of inbox POSTs) become one
    byte on the pipe.
    """

    def __init__(self, worker: WorkerProcess, what: bytes) -> None:
        self._worker = worker
        self._what = what
        self._pending = False

    def set(self) -> None:
        if self._pending:
            return
        self._pending = True
        asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._pending = False
        self._worker.notify(self._what)


async def _run_worker_process(settings: Settings, wake_fd: int) -> None:
    db = Database(
        settings.database.path,
        read_threads=settings.database.read_threads,
        background=True,
        max_bulk=BACKGROUND_MAX_BULK,
    )
    async with contextlib.AsyncExitStack() as stack:
        db.open()
        stack.callback(db.close)  # last: after the workers and the HTTP client
        services = await stack.enter_async_context(running_services(settings, db))
        # RSA signing releases the GIL: a fan-out signs on the other core while
        # this loop sends (bench/fanout.py).
        sign_pool = ThreadPoolExecutor(SIGNING_THREADS, thread_name_prefix="agora-sign")
        stack.callback(sign_pool.shutdown)
        await _serve_workers(services, BackgroundWorkers(services, sign_pool), wake_fd)
    log.info("worker process stopped")


async def _serve_workers(services: Services, workers: BackgroundWorkers, wake_fd: int) -> None:
    """Run ``workers`` until SIGTERM or the serving process's end of the pipe closes."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_wake() -> None:
        try:
            data = os.read(wake_fd, 4096)
        except BlockingIOError:
            return
        if not data:  # the serving process is gone
            log.warning("serving process gone; worker stopping")
            loop.remove_reader(wake_fd)
            stop.set()
            return
        if INBOX_BYTE in data:
            workers.inbox_wake.set()
        if DELIVERY_BYTE in data:
            workers.delivery_wake.set()

    os.set_blocking(wake_fd, False)
    loop.add_reader(wake_fd, on_wake)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    started = time.monotonic()
    try:
        await services.signers.key_for(None)
        await workers.start()
        gc.collect()
        gc.freeze()  # as the serving process does (cli.py)
        log.info("worker process ready in %.0f ms", (time.monotonic() - started) * 1000)
        await stop.wait()
    finally:
        await workers.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the worker process (spawned by :class:`WorkerProcess`)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m agora_node.background WAKE_FD (started by agora-node serve)",
              file=sys.stderr)  # fmt: skip
        return 2
    settings = pickle.load(sys.stdin.buffer)  # noqa: S301 - our parent's own settings
    if not isinstance(settings, Settings):
        print("worker process: no settings on stdin", file=sys.stderr)
        return 2
    setup_logging(settings)
    # Ctrl-C in a terminal reaches the whole process group: the serving
    # process handles it and stops this one in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.setswitchinterval(0.0001)  # as in the serving process (cli.serve)
    os.nice(WORKER_NICENESS)
    with contextlib.suppress(AttributeError, OSError):  # Linux only
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    asyncio.run(_run_worker_process(settings, int(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
