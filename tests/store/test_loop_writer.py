"""Small urgent writes committed on the event loop (the inbox's spool).

Given several writes asked for in one turn, they commit as one transaction
before any caller resumes; a swapped connection takes the writes after it;
a write lock held by another connection makes the batch wait without
blocking the loop; a failing statement fails alone.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agora_node.store import accounts as accounts_store
from agora_node.store.db import Database, connect
from agora_node.store.loop_writer import MAX_BATCH, LoopWriter


def put(key: str) -> Any:
    return lambda c: accounts_store.put_instance_value(c, key, "1")


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[Database, LoopWriter]]:
    db = Database(str(tmp_path / "l.db"))
    db.open()
    writer = LoopWriter(connect(db.path))
    yield db, writer
    writer.close()
    db.close()


async def value(db: Database, key: str) -> str | None:
    return await db.read(lambda c: accounts_store.get_instance_value(c, key))


async def test_writes_asked_for_in_one_turn_commit_together(
    stores: tuple[Database, LoopWriter],
) -> None:
    db, writer = stores
    values = await asyncio.gather(*(writer.write(put(f"t{i}")) for i in range(5)))
    assert values == [None] * 5
    assert writer.batches == 1
    # committed: another connection sees every one
    assert [await value(db, f"t{i}") for i in range(5)] == ["1"] * 5


async def test_swap_sends_later_writes_to_the_new_connection(
    stores: tuple[Database, LoopWriter], tmp_path: Path
) -> None:
    db, writer = stores
    other = Database(str(tmp_path / "other.db"))
    other.open()
    try:
        await writer.write(put("before"))
        old = writer.swap(connect(other.path))
        await writer.write(put("after"))
        old.conn.close()
        assert await value(db, "before") == "1" and await value(db, "after") is None
        assert await value(other, "after") == "1" and await value(other, "before") is None
    finally:
        other.close()


class HeldLock:
    """Another process's transaction, as SQLite sees it."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


async def test_writes_queued_behind_a_held_lock_commit_in_bounded_batches(
    stores: tuple[Database, LoopWriter],
) -> None:
    db, writer = stores
    lock = HeldLock(db.path)
    count = 2 * MAX_BATCH + 3
    writes = [asyncio.ensure_future(writer.write(put(f"b{i}"))) for i in range(count)]
    await asyncio.sleep(0.05)
    assert not any(w.done() for w in writes)
    lock.release()
    await asyncio.wait_for(asyncio.gather(*writes), 5)
    assert writer.batches == 3
    assert [await value(db, f"b{i}") for i in range(count)] == ["1"] * count


async def test_a_failing_statement_fails_alone(stores: tuple[Database, LoopWriter]) -> None:
    db, writer = stores
    await writer.write(put("taken"))

    def clash(c: Any) -> None:
        c.execute("INSERT INTO instance_state (key, value) VALUES ('taken', 'again')")

    results = await asyncio.gather(
        writer.write(put("a")), writer.write(clash), writer.write(put("b")),
        return_exceptions=True,
    )  # fmt: skip
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert await value(db, "a") == "1" and await value(db, "b") == "1"


async def test_a_held_lock_delays_the_batch_without_blocking_the_loop(
    stores: tuple[Database, LoopWriter],
) -> None:
    db, writer = stores
    other = sqlite3.connect(db.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's transaction
    try:
        pending = asyncio.ensure_future(writer.write(put("late")))
        ticks = 0
        began = time.monotonic()
        while time.monotonic() - began < 0.2:  # the loop keeps turning meanwhile
            await asyncio.sleep(0.01)
            ticks += 1
        assert not pending.done()
        assert ticks >= 10
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(pending, 5)
    assert await value(db, "late") == "1"


async def test_a_cancelled_caller_gets_nothing_written(stores: tuple[Database, LoopWriter]) -> None:
    db, writer = stores
    lock = HeldLock(db.path)
    gone = asyncio.ensure_future(writer.write(put("cancelled")))
    kept = asyncio.ensure_future(writer.write(put("kept")))
    await asyncio.sleep(0.01)  # both waiting for the lock
    gone.cancel()
    lock.release()
    await asyncio.wait_for(kept, 5)
    assert await value(db, "cancelled") is None
    assert await value(db, "kept") == "1"
