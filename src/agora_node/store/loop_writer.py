"""Small urgent writes committed on the event loop's own thread.

The inbox answers 202 only once its activity is committed to a spool segment
(``store/spool.py``), which only the serving loop writes. Through a writer
thread that costs two thread hand-offs per batch, and the writer wakes,
takes the GIL from the loop and gives it back around every SQLite call:
under load the serving loop was preempted over and over that way (measured
with bench/inbox.py). A one-row INSERT and its COMMIT cost less than the
hand-off (WAL, ``synchronous=NORMAL``: no fsync at commit).

So these writes run on the loop: the ones asked for during one turn are
committed together early in the next. The loop never waits for the write
lock: should another connection hold it, the batch is tried again
``RETRY_SECONDS`` later.

Only for functions that run one SQL statement on small rows: SQLite undoes
a failed statement by itself, so no SAVEPOINT is needed around each.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlite_utils

from agora_node.store.db import is_busy

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_SECONDS = 0.00025
MAX_BATCH = 16
LOCK_TIMEOUT = 30.0


Write = Callable[[sqlite_utils.Database], Any]


class _Locked:
    """Another connection holds the write lock: try again shortly."""


_LOCKED = _Locked()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class LoopWriter:
    def __init__(self, conn: sqlite_utils.Database) -> None:
        self._conn = conn
        self._raw = conn.conn
        self._raw.execute("PRAGMA busy_timeout=0")  # never wait on the loop
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._waiting_since: float | None = None
        self.batches = 0

    async def write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run ``fn`` (one statement) and commit; returns after COMMIT.

        It joins the batch committed early in the next turn. Committing each
        write at once in its caller's step was tried: every answer then left
        on its own, each waking the peer separately, and the inbox accepted
        markedly less (measured with bench/inbox.py).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, future))
        if not self._scheduled:
            self._scheduled = True
            if self._waiting_since is None:
                loop.call_soon(self._flush)
            else:  # the lock was just found taken: try again shortly
                loop.call_later(RETRY_SECONDS, self._flush)
        return await future

    def _transaction(self, fns: list[Write]) -> list[Any] | _Failed | _Locked:
        """Each function's value (or ``_Failed``) once committed; ``_Failed`` for
        all when the transaction itself failed; ``_LOCKED`` when the lock is taken."""
        try:
            self._raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc) and not self._timed_out():
                return _LOCKED
            self._waiting_since = None
            return _Failed(exc)
        self._waiting_since = None
        try:
            values: list[Any] = []
            for fn in fns:
                try:
                    values.append(fn(self._conn))
                except Exception as exc:  # one statement: it undid itself
                    values.append(_Failed(exc))
            self._raw.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("loop write failed to commit")
            if self._raw.in_transaction:
                self._raw.execute("ROLLBACK")
            return _Failed(exc)
        self.batches += 1
        return values

    def _flush(self) -> None:
        # Runs start to end without yielding: nothing is queued meanwhile.
        self._scheduled = False
        live = [(fn, fut) for fn, fut in self._pending if not fut.cancelled()]
        # Everyone in a batch resumes in the same turn: a bounded batch keeps
        # that turn short; the rest commit in the next one.
        batch, self._pending = live[:MAX_BATCH], live[MAX_BATCH:]
        if batch:
            outcome = self._transaction([fn for fn, _ in batch])
            if isinstance(outcome, _Locked):
                self._pending = batch + self._pending
                self._scheduled = True
                asyncio.get_running_loop().call_later(RETRY_SECONDS, self._flush)
                return
            for i, (_, future) in enumerate(batch):
                value = outcome if isinstance(outcome, _Failed) else outcome[i]
                if future.done():
                    continue
                if isinstance(value, _Failed):
                    future.set_exception(value.error)
                else:
                    future.set_result(value)
        if self._pending and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def swap(self, conn: sqlite_utils.Database) -> sqlite_utils.Database:
        """Write to ``conn`` from the next transaction on; returns the previous one.

        Between transactions (on the loop, like every transaction here), so
        nothing is half written to either; what is queued goes to ``conn``."""
        old = self._conn
        conn.conn.execute("PRAGMA busy_timeout=0")
        self._conn, self._raw = conn, conn.conn
        return old

    def _timed_out(self) -> bool:
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        return now - self._waiting_since > LOCK_TIMEOUT

    def close(self) -> None:
        for _, future in self._pending:
            if not future.done():
                future.set_exception(RuntimeError("database closed"))
        self._pending = []
        self._raw.close()
