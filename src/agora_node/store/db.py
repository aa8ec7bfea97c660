"""SQLite access: one writer thread, a small pool of reader threads.

Why one writer: SQLite allows one writer at a time; funnelling every write
through a single thread means no request ever sees "database is locked".
The writer drains whatever is queued and commits it as one transaction
(group commit), each job inside its own SAVEPOINT so one failing job rolls
back alone. A caller's future resolves only after COMMIT, so a 202 answered
after ``await db.write(...)`` survives a crash of the process.

Two priorities: ``urgent`` writes (a request waiting to answer) all go
into the next transaction; ordinary (bulk) writes, such as the inbox
worker's processing, take at most ``_MAX_BULK`` places in each, so an
urgent write never waits behind a long run of slow bulk jobs.

Several processes (the serving one and its worker process) may write the
same file. SQLite's own busy handler sleeps in ever longer steps while
another process holds the write lock, which a request waiting on its commit
would feel (measured with bench/inbox.py). So the writer retries
``BEGIN IMMEDIATE`` itself, pausing at most ``_BUSY_POLL_MAX`` between
tries. And writers announce themselves: a serving process's writer holds a
shared ``flock`` on ``<database>-writers`` from before it asks for the write
lock until it commits; a process whose writes are background work
(``background=True``: the worker process) checks that no one holds it before
each transaction, waits (bounded) while someone does, and keeps its
transactions short (``max_bulk``), so a request waiting on its commit waits
for at most one short background transaction.

Reads run on reader threads with their own connections (WAL lets them run
beside the writer), so the event loop is never blocked by a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from agora_node.store.migrations import migrate

log = logging.getLogger(__name__)

T = TypeVar("T")
Conn = sqlite_utils.Database
WriteFn = Callable[[Conn], T]

_MAX_BATCH = 256
# Bulk (non-urgent) jobs per transaction: bounds how long an urgent write that
# arrives meanwhile waits for the transaction in progress to commit.
_MAX_BULK = 4
# WAL checkpoints run on their own thread (see ``_checkpoint_loop``), not inside
# a writer's COMMIT: one every this many commits, or every second when any.
_CHECKPOINT_EVERY = 64
# How long the writer keeps retrying a write lock held by another process,
# and the longest pause between two tries.
_BUSY_TIMEOUT = 30.0
_BUSY_POLL_MAX = 0.00025
# The longest a background writer stands aside for serving writers, per transaction.
_YIELD_MAX = 0.05


@dataclass
class _WriteJob:
    fn: Callable[[Conn], Any]
    future: Future[Any]
    # Set for ``await db.write``: the awaiting loop and its future, resolved
    # with one loop wake-up per committed batch instead of one per job.
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Any] | None = None
    urgent: bool = False


def _resolve_waiters(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """On the loop: hand each awaiting caller its job's value or exception."""
    for waiter, value, error in outcomes:
        if waiter.done():  # cancelled after its job had started
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(value)


class WriteIntent:
    """``<database>-writers``: who is about to write (see the module docstring).

    An ``flock`` is released by the kernel when its process dies, so a
    crashed serving process never leaves the worker waiting.
    """

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._held = False

    def announce(self) -> None:
        """Never waits: the only exclusive holder is a background writer's
        instant probe (``is_clear``), and a background thread preempted in that
        instant must not hold up a serving writer; it is tried again next time."""
        if not self._held:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            self._held = True

    def withdraw(self) -> None:
        if self._held:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._held = False

    def is_clear(self) -> bool:
        """No serving writer is waiting or writing."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return True

    def wait_until_clear(self) -> None:
        """Until no serving writer is waiting or writing (at most ``_YIELD_MAX`` s)."""
        deadline = time.monotonic() + _YIELD_MAX
        while not self.is_clear() and time.monotonic() < deadline:
            time.sleep(_BUSY_POLL_MAX)

    def close(self) -> None:
        os.close(self._fd)


def _restart_wal(conn: sqlite3.Connection) -> None:
    """After a complete checkpoint, write one frame here so the WAL restarts now.

    The first write after a complete checkpoint starts the WAL over and syncs
    its header (an fdatasync). A background process's checkpointer takes that
    write, so it does not fall on the serving loop's next commit (measured
    with bench/inbox.py: it was among the loop's longest stalls at light load).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO instance_state (key, value) VALUES ('wal_restarted_at', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [str(time.time())],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock (SQLITE_BUSY and its extended codes)."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY


def execute_locking(raw: sqlite3.Connection, sql: str) -> None:
    """Run a statement that needs the write lock, retrying while another process holds it."""
    deadline = time.monotonic() + _BUSY_TIMEOUT
    pause = 0.00005
    while True:
        try:
            raw.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, _BUSY_POLL_MAX)


def connect(path: str, *, must_exist: bool = False) -> Conn:
    """Open a connection with the pragmas every connection needs.

    ``must_exist``: fail (``sqlite3.OperationalError``) rather than create a
    missing file."""
    if must_exist:
        uri = "file:" + urllib.parse.quote(path) + "?mode=rw"
        conn = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30
        )
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-32000")
    return sqlite_utils.Database(conn)


class Database:
    """The node's database: ``await db.write(fn)`` and ``await db.read(fn)``.

    ``fn`` receives a ``sqlite_utils.Database``; query functions in
    ``store/`` are written as such plain synchronous functions.
    """

    def __init__(
        self,
        path: str,
        *,
        read_threads: int = 2,
        background: bool = False,
        max_bulk: int = _MAX_BULK,
        checkpoints: bool = True,
    ) -> None:
        self.path = path
        self._background = background
        self._max_bulk = max_bulk
        self._checkpoints = checkpoints
        self._intent: WriteIntent | None = None
        self._read_threads = read_threads
        self._queue: queue.SimpleQueue[_WriteJob | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._reader_conns: list[Conn] = []
        self._lock = threading.Lock()
        self.write_batches = 0
        self.write_jobs = 0
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_wake = threading.Event()
        self._closing = False

    # -- lifecycle ---------------------------------------------------------
    def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path)
        migrate(conn)
        self._closing = False
        if self.path != ":memory:":
            self._intent = WriteIntent(self.path + "-writers")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            if self._checkpoints:
                self._checkpointer = threading.Thread(
                    target=self._checkpoint_loop, name="agora-db-checkpoint", daemon=True
                )
                self._checkpointer.start()
        self._writer = threading.Thread(
            target=self._writer_loop, args=(conn,), name="agora-db-writer", daemon=True
        )
        self._writer.start()
        self._readers = ThreadPoolExecutor(self._read_threads, thread_name_prefix="agora-db-read")

    def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join(timeout=30)
            self._writer = None
        if self._checkpointer is not None:
            self._closing = True
            self._checkpoint_wake.set()
            self._checkpointer.join(timeout=30)
            self._checkpointer = None
        if self._intent is not None:
            self._intent.close()
            self._intent = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        with self._lock:
            for conn in self._reader_conns:
                conn.conn.close()
            self._reader_conns.clear()

    # -- writes ------------------------------------------------------------
    def submit_write(self, fn: Callable[[Conn], T], *, urgent: bool = False) -> Future[T]:
        """Queue a write; the returned future resolves after COMMIT."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        fut: Future[T] = Future()
        self._queue.put(_WriteJob(fn, fut, urgent=urgent))
        return fut

    async def write(self, fn: Callable[[Conn], T], *, urgent: bool = False) -> T:
        """Run ``fn`` in a write transaction; returns after COMMIT.

        ``urgent``: for short writes a request is waiting on; they go ahead of
        ordinary ones (see the module docstring).
        """
        if self._writer is None:
            raise RuntimeError("database is not open")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        fut: Future[T] = Future()
        # A caller cancelled before its job starts gets nothing done (as with wrap_future).
        waiter.add_done_callback(lambda w: fut.cancel() if w.cancelled() else None)
        self._queue.put(_WriteJob(fn, fut, loop, waiter, urgent))
        return await waiter

    def write_sync(self, fn: Callable[[Conn], T]) -> T:
        """For the CLI and tests outside an event loop."""
        return self.submit_write(fn).result()

    def _writer_loop(self, conn: Conn) -> None:
        raw = conn.conn
        raw.execute("PRAGMA busy_timeout=0")  # see execute_locking
        urgent: deque[_WriteJob] = deque()
        bulk: deque[_WriteJob] = deque()
        stop = False
        while True:
            if not urgent and not bulk:
                if stop:
                    break
                first = self._queue.get()
                if first is None:
                    break
                (urgent if first.urgent else bulk).append(first)
            # Everything queued so far, sorted by priority (FIFO within each).
            while not stop:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True  # finish what was queued before the stop, then exit
                    break
                (urgent if nxt.urgent else bulk).append(nxt)
            batch = [urgent.popleft() for _ in range(min(len(urgent), _MAX_BATCH))]
            for _ in range(min(len(bulk), self._max_bulk, _MAX_BATCH - len(batch))):
                batch.append(bulk.popleft())
            self._run_batch(raw, conn, batch)
        raw.close()

    def _run_batch(self, raw: sqlite3.Connection, conn: Conn, batch: list[_WriteJob]) -> None:
        # A caller that was cancelled before its job started gets nothing done;
        # the others can no longer be cancelled once marked running.
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        results: list[tuple[_WriteJob, Any, BaseException | None]] = []
        try:
            if self._intent is not None:
                if self._background:
                    self._intent.wait_until_clear()
                else:
                    self._intent.announce()
            execute_locking(raw, "BEGIN IMMEDIATE")
            for job in batch:
                raw.execute("SAVEPOINT job")
                try:
                    value = job.fn(conn)
                except Exception as exc:  # one job's failure must not sink the batch
                    raw.execute("ROLLBACK TO job")
                    raw.execute("RELEASE job")
                    results.append((job, None, exc))
                else:
                    raw.execute("RELEASE job")
                    results.append((job, value, None))
            execute_locking(raw, "COMMIT")
        except Exception as exc:  # the commit itself failed: nothing was written
            log.exception("database write batch failed")
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            self._deliver([(job, None, exc) for job in batch])
            return
        finally:
            if self._intent is not None and not self._background:
                self._intent.withdraw()
        self.write_batches += 1
        self.write_jobs += len(batch)
        if self.write_batches % _CHECKPOINT_EVERY == 0:
            self._checkpoint_wake.set()
        self._deliver(results)

    def _checkpoint_loop(self) -> None:
        """Copy the WAL back into the database beside the writer (never blocking it)."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=30000")
            done = self.write_batches
            while not self._closing:
                self._checkpoint_wake.wait(1.0)
                self._checkpoint_wake.clear()
                if self.write_batches == done and not self._background:
                    continue  # (a background process checkpoints for the others too)
                done = self.write_batches
                try:
                    _busy, frames, copied = conn.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                    if self._background and frames > 0 and copied == frames:
                        _restart_wal(conn)
                except sqlite3.Error:
                    log.exception("WAL checkpoint failed")
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()

    @staticmethod
    def _deliver(results: list[tuple[_WriteJob, Any, BaseException | None]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for job, value, error in results:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(value)
            if job.loop is not None and job.waiter is not None:
                by_loop.setdefault(job.loop, []).append((job.waiter, value, error))
        for loop, outcomes in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve_waiters, outcomes)

    # -- reads -------------------------------------------------------------
    def _reader_conn(self) -> Conn:
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._reader_conns.append(conn)
        return conn

    def _run_read(self, fn: Callable[[Conn], T]) -> T:
        return fn(self._reader_conn())

    async def read(self, fn: Callable[[Conn], T]) -> T:
        if self._readers is None:
            raise RuntimeError("database is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    def read_sync(self, fn: Callable[[Conn], T]) -> T:
        return fn(self._reader_conn())


def now() -> float:
    return time.time()


def like_escaped(text: str) -> str:
    """``text`` for a ``LIKE ... ESCAPE '\\'`` pattern: its ``%``, ``_`` and ``\\`` literal."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
