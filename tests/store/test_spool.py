"""The inbox spool: segments written on the loop, taken into ``jobs`` by the worker.

Given activities spooled across several segments, the worker queues each
once, in order; a sealed segment it has read to the end is finished and then
removed; the live one never is; rows in a newer segment are taken while an
older one waits to be sealed; a segment left by a process that died is
sealed at the next start and taken like any other; nothing is lost when the
worker stops between moving rows and finishing a segment.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agora_node.protocol.urls import LocalUrls
from agora_node.store import jobs as jobs_store
from agora_node.store import spool as spool_store
from agora_node.store.db import Database
from agora_node.store.spool import InboxSpool, SpoolReader, segment_files, spool_dir
from agora_node.workers.inbox import INBOX_JOB, InboxWorker


class NoFetches:
    async def documents_for(self, activity: dict[str, Any]) -> dict[str, Any]:
        return {}


@pytest.fixture
async def main_db(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(str(tmp_path / "node.db"))
    db.open()
    yield db
    db.close()


def worker_for(db: Database, reader: SpoolReader) -> InboxWorker:
    return InboxWorker(
        db,
        NoFetches(),  # type: ignore[arg-type]
        LocalUrls("https://agora.test"),
        asyncio.Event(),
        spool=reader,
    )


async def spool_many(spool: InboxSpool, start: int, count: int) -> None:
    for i in range(start, start + count):
        payload = json.dumps({"activity": {"id": f"https://remote.example/a/{i}"}})
        assert await spool.add(f"inbox:{i}", payload, time.time())


async def queued_keys(db: Database) -> list[str]:
    return await db.read(
        lambda c: [r[0] for r in c.execute("SELECT dedupe_key FROM jobs ORDER BY id")]
    )


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def small_segments(db: Database, monkeypatch: pytest.MonkeyPatch, rows: int) -> InboxSpool:
    """An open spool whose segments take ``rows`` rows, kept up every 20 ms."""
    monkeypatch.setattr(spool_store, "SEGMENT_ROWS", rows)
    monkeypatch.setattr(spool_store, "KEEP_SECONDS", 0.02)
    spool = InboxSpool(db.path)
    await asyncio.to_thread(spool.open)
    return spool


async def test_rows_across_segments_are_queued_once_in_order_and_segments_removed(
    main_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = await small_segments(main_db, monkeypatch, 10)
    reader = SpoolReader(main_db.path)
    worker = worker_for(main_db, reader)
    try:
        directory = spool_dir(main_db.path)
        for start in range(0, 35, 5):
            await spool_many(spool, start, 5)
            await asyncio.sleep(0.05)  # the keeper makes the next segment ready
        assert len(segment_files(directory)) >= 3
        # A replay of an activity spooled in an earlier segment: queued once.
        assert await spool.add("inbox:3", "{}", time.time())
        while await worker.take_spooled():
            pass
        assert await queued_keys(main_db) == [f"inbox:{i}" for i in range(35)]
        _cursors, finished = await main_db.read(jobs_store.spool_cursors)
        assert finished  # the sealed segments read to their end
        await wait_until(lambda: spool.removed == len(finished))
        # The live segment stays: rows spooled later in it are still taken.
        await spool_many(spool, 100, 2)
        await worker.take_spooled()
        assert (await queued_keys(main_db))[-2:] == ["inbox:100", "inbox:101"]
    finally:
        reader.close()
        await asyncio.to_thread(spool.close)


DEAD_PROCESS = """
import asyncio, sys, time
from agora_node.store.db import Database
from agora_node.store.spool import InboxSpool

async def main():
    spool = InboxSpool(sys.argv[1])
    spool.open()
    for i in range(4):
        await spool.add(f"inbox:{i}", "{}", time.time())
    print("spooled", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.e2e
async def test_segments_of_a_killed_process_are_sealed_and_taken_at_the_next_start(
    main_db: Database,
) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DEAD_PROCESS, main_db.path, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"spooled\n"
    proc.kill()  # SIGKILL: its live segment is never sealed by it
    await proc.wait()
    left = segment_files(spool_dir(main_db.path))
    assert left
    spool = InboxSpool(main_db.path)
    await asyncio.to_thread(spool.open)
    reader = SpoolReader(main_db.path)
    worker = worker_for(main_db, reader)
    try:
        for path in left:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                assert conn.execute("SELECT 1 FROM spool_meta WHERE key = 'sealed'").fetchone()
            finally:
                conn.close()
        await spool_many(spool, 10, 2)
        while await worker.take_spooled():
            pass
        assert await queued_keys(main_db) == [f"inbox:{i}" for i in (0, 1, 2, 3, 10, 11)]
    finally:
        reader.close()
        await asyncio.to_thread(spool.close)


async def test_a_worker_stopped_before_finishing_a_segment_loses_nothing(
    main_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = await small_segments(main_db, monkeypatch, 4)
    try:
        await spool_many(spool, 0, 3)
        # The worker moves the first rows, then stops (its cursor is in the main database).
        reader = SpoolReader(main_db.path)
        cursors, finished = await main_db.read(jobs_store.spool_cursors)
        found = await reader.next_rows(cursors, finished, 2)
        assert found is not None
        generation, rows, done = found
        assert not done and [r.dedupe_key for r in rows] == ["inbox:0", "inbox:1"]
        await main_db.write(lambda c: jobs_store.move_spooled(c, INBOX_JOB, generation, rows))
        reader.close()
        await asyncio.sleep(0.05)
        await spool_many(spool, 3, 6)  # fills the segment; the next ones follow
        # A new worker carries on from the cursor: everything, once.
        reader = SpoolReader(main_db.path)
        worker = worker_for(main_db, reader)
        try:
            while await worker.take_spooled():
                pass
        finally:
            reader.close()
        assert await queued_keys(main_db) == [f"inbox:{i}" for i in range(9)]
    finally:
        await asyncio.to_thread(spool.close)


async def test_rows_in_a_newer_segment_are_taken_before_the_older_one_is_sealed(
    main_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(InboxSpool, "_seal_retired", lambda self: None)  # the keeper is late
    spool = await small_segments(main_db, monkeypatch, 2)
    reader = SpoolReader(main_db.path)
    worker = worker_for(main_db, reader)
    try:
        await spool_many(spool, 0, 2)  # fills the first segment
        await asyncio.sleep(0.05)
        assert await worker.take_spooled() == 2
        await spool_many(spool, 2, 1)  # into the next one; the first is not sealed
        assert await worker.take_spooled() == 1
        assert await queued_keys(main_db) == ["inbox:0", "inbox:1", "inbox:2"]
    finally:
        reader.close()
        await asyncio.to_thread(spool.close)


async def test_the_reader_never_creates_a_removed_segment(main_db: Database) -> None:
    directory = spool_dir(main_db.path)
    directory.mkdir()
    reader = SpoolReader(main_db.path)
    try:
        gone = directory / f"{1:012d}{spool_store.SUFFIX}"
        assert reader._open(gone) is None
        assert not gone.exists()
    finally:
        reader.close()
