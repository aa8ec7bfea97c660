"""The inbox spool: accepted inbound activities, before they become jobs.

An inbound activity is answered 202 once it is committed here. The spool is
a directory (``<database>-inbox/``) of small SQLite files, *segments*, that
only the serving process writes, on its event loop. So the inbox's commit
never waits for the main database's write lock, which the worker process
holds whenever it applies an activity: waiting for it delayed many requests,
and badly when the worker, at idle priority, was preempted holding the lock
(measured with bench/inbox.py).

A segment is written and read, never updated: rows are appended until it
is full or old (``SEGMENT_ROWS``, ``SEGMENT_SECONDS``), then the loop moves on
to the next one, which the keeper thread made ready beforehand. The keeper
seals the old one (nothing more will come) and deletes it once the worker
has taken all of it. Nothing is ever deleted from a segment, and the loop
never checkpoints one (checkpoints copy pages and sync); deleting rows
would take the write lock beside the loop (measured with bench/inbox.py
when the spool was a single file: the deletes stalled the loop, and its
WAL never restarted under steady load). Creating a file and its WAL (the
header sync), and closing a sealed one (its last connection checkpoints
it), happen on the keeper's or the worker's thread, not the loop's.

The worker process reads each segment in order (``SpoolReader``) and moves
the rows into ``jobs`` together with its cursor in one transaction of the
main database (``store/jobs.move_spooled``); a sealed segment read to its end
is marked finished there. A crash at any point loses nothing: a segment is
deleted only once the main database holds all its jobs, and moving a row
twice queues it once (the dedupe key). Each segment has a random
``generation``, which keys its cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import NamedTuple

import sqlite_utils

from agora_node.store import jobs as jobs_store
from agora_node.store.db import connect, execute_locking
from agora_node.store.loop_writer import LoopWriter

log = logging.getLogger(__name__)

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS spool (
        id INTEGER PRIMARY KEY,
        dedupe_key TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        received_at REAL NOT NULL
    )
    """,
]
SUFFIX = ".sqlite3"
# A segment takes this many rows, or lives this long, before the next one.
SEGMENT_ROWS = 10_000
SEGMENT_SECONDS = 30.0
# Page cache of each segment connection (KiB).
SEGMENT_CACHE_KIB = 2048
# How often the keeper looks for segments to seal, make ready and delete.
KEEP_SECONDS = 0.5


class Spooled(NamedTuple):
    id: int
    dedupe_key: str
    payload: str
    received_at: float


def spool_dir(db_path: str) -> Path:
    return Path(db_path + "-inbox")


def segment_files(directory: Path) -> list[Path]:
    """The segments, oldest first (names are sequence numbers)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX))


def _sequence(path: Path) -> int:
    try:
        return int(path.name.removesuffix(SUFFIX))
    except ValueError:
        return 0


def open_segment(path: Path) -> sqlite_utils.Database:
    """A connection to a segment, giving it its schema and generation when new.

    Automatic checkpoints are off: one inside a commit would run on the
    thread that commits (the serving loop). Rows are written once and read
    once, so a small page cache does (far smaller than the main database's,
    set in ``store/db.connect``).
    """
    conn = connect(str(path))
    raw = conn.conn
    raw.execute("PRAGMA wal_autocheckpoint=0")
    raw.execute(f"PRAGMA cache_size=-{SEGMENT_CACHE_KIB}")
    if segment_generation(conn) is None:
        _write(conn, partial(_create_schema, conn))
    return conn


def _create_schema(conn: sqlite_utils.Database) -> None:
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT OR IGNORE INTO spool_meta (key, value) VALUES ('generation', ?)",
        [uuid.uuid4().hex],
    )


def _open_existing(path: Path) -> sqlite_utils.Database | None:
    """A reading connection to a segment, or None when the file is gone (never
    re-created: the serving process may just have removed it)."""
    try:
        conn = connect(str(path), must_exist=True)
    except sqlite3.OperationalError:
        return None
    conn.conn.execute(f"PRAGMA cache_size=-{SEGMENT_CACHE_KIB}")
    return conn


def segment_generation(conn: sqlite_utils.Database) -> str | None:
    try:
        row = conn.execute("SELECT value FROM spool_meta WHERE key = 'generation'").fetchone()
    except sqlite3.OperationalError:  # no schema yet
        return None
    return None if row is None else str(row[0])


def is_sealed(conn: sqlite_utils.Database) -> bool:
    row = conn.execute("SELECT 1 FROM spool_meta WHERE key = 'sealed'").fetchone()
    return row is not None


def seal(conn: sqlite_utils.Database) -> None:
    conn.execute("INSERT OR IGNORE INTO spool_meta (key, value) VALUES ('sealed', '1')")


def add_spooled(
    conn: sqlite_utils.Database, dedupe_key: str, payload: str, received_at: float
) -> bool:
    """Spool one accepted activity (one statement); False when the key is already
    in this segment (an earlier segment's copy is skipped when moved to jobs)."""
    cur = conn.execute(
        "INSERT INTO spool (dedupe_key, payload, received_at) VALUES (?, ?, ?) "
        "ON CONFLICT(dedupe_key) DO NOTHING",
        [dedupe_key, payload, received_at],
    )
    return cur.rowcount == 1


def spooled_after(conn: sqlite_utils.Database, after_id: int, limit: int) -> list[Spooled]:
    rows = conn.execute(
        "SELECT id, dedupe_key, payload, received_at FROM spool WHERE id > ? ORDER BY id LIMIT ?",
        [after_id, limit],
    ).fetchall()
    return [Spooled(*row) for row in rows]


def count_waiting(db_path: str, cursors: dict[str, int], finished: set[str]) -> int:
    """Rows spooled and not yet queued as jobs (``cursors``/``finished`` from
    ``jobs.spool_cursors``), read beside a running node."""
    waiting = 0
    for path in segment_files(spool_dir(db_path)):
        conn = _open_existing(path)
        if conn is None:  # removed meanwhile: its rows are queued
            continue
        try:
            generation = segment_generation(conn)
            if generation is None or generation in finished:
                continue
            row = conn.execute(
                "SELECT count(*) FROM spool WHERE id > ?", [cursors.get(generation, 0)]
            ).fetchone()
            waiting += int(row[0])
        finally:
            conn.conn.close()
    return waiting


def _remove_segment(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(path) + suffix).unlink()


class InboxSpool:
    """The serving process's spool: appends on the loop, upkeep on a thread.

    ``open()`` seals every segment a previous run left (their writer is gone)
    and starts a new one; ``add`` commits through a :class:`LoopWriter` (never
    waiting for a lock: nobody else writes the live segment).
    """

    def __init__(self, db_path: str) -> None:
        self._db_path = db_path
        self._dir = spool_dir(db_path)
        self._writer: LoopWriter | None = None
        self._live: Path | None = None
        self._rows = 0
        self._opened_at = 0.0
        self._ready: queue.SimpleQueue[tuple[Path, sqlite_utils.Database]] = queue.SimpleQueue()
        self._retired: queue.SimpleQueue[tuple[Path, sqlite_utils.Database]] = queue.SimpleQueue()
        self._generations: dict[Path, str] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None
        self.removed = 0

    # -- lifecycle (called off the loop or before it serves) ---------------
    def open(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        for path in segment_files(self._dir):
            conn = open_segment(path)
            try:
                self._generations[path] = segment_generation(conn) or ""
                _write(conn, partial(seal, conn))
            finally:
                conn.conn.close()
        self._live, conn = self._make_segment()
        self._writer = LoopWriter(conn)
        self._rows, self._opened_at = 0, time.monotonic()
        self._stop.clear()
        self._keeper = threading.Thread(target=self._keep, name="agora-spool", daemon=True)
        self._keeper.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._keeper is not None:
            self._keeper.join(timeout=30)
            self._keeper = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._seal_retired()
        while not self._ready.empty():
            _path, conn = self._ready.get()
            conn.conn.close()

    # -- on the loop -------------------------------------------------------
    async def add(self, dedupe_key: str, payload: str, received_at: float) -> bool:
        """Spool one activity; returns after COMMIT (False: already in this segment)."""
        writer = self._writer
        if writer is None:
            raise RuntimeError("spool is not open")
        spooled = await writer.write(lambda c: add_spooled(c, dedupe_key, payload, received_at))
        self._rows += 1
        if self._rows >= SEGMENT_ROWS or time.monotonic() - self._opened_at > SEGMENT_SECONDS:
            self._rotate()
        return spooled

    def _rotate(self) -> None:
        try:
            path, conn = self._ready.get_nowait()
        except queue.Empty:
            self._wake.set()  # the keeper makes one; this segment takes more meanwhile
            return
        assert self._writer is not None and self._live is not None
        old = self._writer.swap(conn)
        self._retired.put((self._live, old))
        self._live, self._rows, self._opened_at = path, 0, time.monotonic()
        self._wake.set()

    # -- the keeper's thread -------------------------------------------------
    def _make_segment(self) -> tuple[Path, sqlite_utils.Database]:
        """A new segment, its file and WAL created (and synced) here."""
        files = segment_files(self._dir)
        sequence = max((_sequence(p) for p in files), default=0) + 1
        path = self._dir / f"{sequence:012d}{SUFFIX}"
        conn = open_segment(path)
        # The first write creates the WAL and syncs its header: here, not on the loop.
        _write(conn, lambda: conn.execute(
            "INSERT OR REPLACE INTO spool_meta (key, value) VALUES ('created_at', ?)",
            [str(time.time())],
        ))  # fmt: skip
        self._generations[path] = segment_generation(conn) or ""
        return path, conn

    def _keep(self) -> None:
        main = connect(self._db_path)
        try:
            while not self._stop.is_set():
                self._wake.wait(KEEP_SECONDS)
                self._wake.clear()
                try:
                    if self._ready.empty():
                        self._ready.put(self._make_segment())
                    self._seal_retired()
                    self._remove_finished(main)
                except (sqlite3.Error, OSError):
                    log.exception("inbox spool upkeep failed")
        finally:
            main.conn.close()

    def _seal_retired(self) -> None:
        while not self._retired.empty():
            _path, conn = self._retired.get()
            try:
                _write(conn, partial(seal, conn))
            finally:
                conn.conn.close()

    def _remove_finished(self, main: sqlite_utils.Database) -> None:
        """Delete sealed segments whose rows the main database holds as jobs."""
        candidates = {
            path: generation
            for path, generation in self._generations.items()
            if path != self._live and path.exists()
        }
        if not candidates:
            return
        finished = jobs_store.finished_spool_segments(main, list(candidates.values()))
        for path, generation in candidates.items():
            if generation in finished and self._sealed_on_disk(path):
                _remove_segment(path)
                del self._generations[path]
                self.removed += 1

    @staticmethod
    def _sealed_on_disk(path: Path) -> bool:
        conn = _open_existing(path)
        if conn is None:
            return False
        try:
            return is_sealed(conn)
        except sqlite3.OperationalError:
            return False
        finally:
            conn.conn.close()


class SpoolReader:
    """The worker's side: reads the segments in order, on a thread of its own."""

    def __init__(self, db_path: str) -> None:
        self._dir = spool_dir(db_path)
        self._conns: dict[Path, tuple[sqlite_utils.Database, str]] = {}
        self._done: set[Path] = set()  # finished here: never opened again
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="agora-spool-read")

    async def next_rows(
        self, cursors: dict[str, int], finished: set[str], limit: int
    ) -> tuple[str, list[Spooled], bool] | None:
        """The first segment with rows past its cursor: (generation, rows, False);
        a sealed segment read to its end: (generation, [], True); None: nothing new."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._next_rows, cursors, finished, limit)

    def _next_rows(
        self, cursors: dict[str, int], finished: set[str], limit: int
    ) -> tuple[str, list[Spooled], bool] | None:
        for path in segment_files(self._dir):
            if path in self._done:
                continue
            opened = self._open(path)
            if opened is None:
                continue
            conn, generation = opened
            if generation in finished:
                self._close(path, done=True)
                continue
            sealed = is_sealed(conn)  # before reading: rows never follow the seal
            rows = spooled_after(conn, cursors.get(generation, 0), limit)
            if rows:
                return generation, rows, False
            if sealed:
                self._close(path, done=True)
                return generation, [], True
            # Read to its end but not sealed: the live segment, or one the
            # loop has just left and the keeper not yet sealed. Later
            # segments may hold rows already; this one is read again next time.
        return None

    def _open(self, path: Path) -> tuple[sqlite_utils.Database, str] | None:
        known = self._conns.get(path)
        if known is not None:
            return known
        conn = _open_existing(path)
        if conn is None:
            return None
        generation = segment_generation(conn)
        if generation is None:  # being made by the serving process
            conn.conn.close()
            return None
        self._conns[path] = (conn, generation)
        return conn, generation

    def _close(self, path: Path, *, done: bool) -> None:
        if done:
            self._done.add(path)
        known = self._conns.pop(path, None)
        if known is not None:
            known[0].conn.close()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        for conn, _ in self._conns.values():
            conn.conn.close()
        self._conns.clear()


def _write(conn: sqlite_utils.Database, fn: Callable[[], object]) -> None:
    """``fn()`` in a write transaction, retrying while the lock is held elsewhere."""
    raw = conn.conn
    execute_locking(raw, "BEGIN IMMEDIATE")
    try:
        fn()
        execute_locking(raw, "COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
