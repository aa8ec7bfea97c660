from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from agora_node.store import accounts as accounts_store
from agora_node.store.db import Database, connect
from agora_node.store.migrations import MIGRATIONS, migrate, schema_version


def test_pragmas(tmp_path: Path) -> None:
    conn = connect(str(tmp_path / "x.db"))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_first_schema_version_migrates_without_losing_data(tmp_path: Path) -> None:
    # Given a database made by schema version 1, with data in it
    path = str(tmp_path / "old.db")
    old = connect(path)
    assert migrate(old, target=1) == 1
    old.execute(
        "INSERT INTO actors (uri, username, host) "
        "VALUES ('https://r.example/u/a', 'a', 'r.example')"
    )
    old.execute("INSERT INTO instance_state (key, value) VALUES ('k', 'v')")
    old.conn.close()
    # When the current software opens it
    db = Database(path)
    db.open()
    try:
        # Then it is at the latest version and nothing was lost
        assert db.read_sync(schema_version) == len(MIGRATIONS)
        assert db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, "https://r.example/u/a"))
        assert db.read_sync(lambda c: accounts_store.get_instance_value(c, "k")) == "v"
        cols = {
            r[1]
            for r in db.read_sync(lambda c: c.execute("PRAGMA table_info(api_tokens)").fetchall())
        }
        assert {"app_id", "refresh_hash"} <= cols
    finally:
        db.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "new.db")
    conn = connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(RuntimeError, match="newer than this software"):
        migrate(conn)


async def test_concurrent_writes_never_lock(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "c.db"))
    db.open()
    try:

        async def put(i: int) -> None:
            await db.write(lambda c: accounts_store.put_instance_value(c, f"k{i}", str(i)))

        await asyncio.gather(*(put(i) for i in range(500)))
        count = await db.read(
            lambda c: c.execute("SELECT count(*) FROM instance_state").fetchone()[0]
        )
        assert count == 500
        # Group commit: fewer transactions than jobs.
        assert db.write_batches < db.write_jobs
    finally:
        db.close()


async def test_failed_job_rolls_back_alone(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "r.db"))
    db.open()
    try:

        def bad(c):  # type: ignore[no-untyped-def]
            accounts_store.put_instance_value(c, "half", "done")
            raise ValueError("boom")

        results = await asyncio.gather(
            db.write(bad),
            db.write(lambda c: accounts_store.put_instance_value(c, "good", "1")),
            return_exceptions=True,
        )
        assert isinstance(results[0], ValueError)
        assert results[1] is None
        assert await db.read(lambda c: accounts_store.get_instance_value(c, "half")) is None
        assert await db.read(lambda c: accounts_store.get_instance_value(c, "good")) == "1"
    finally:
        db.close()


def test_write_is_durable_after_commit(tmp_path: Path) -> None:
    path = str(tmp_path / "d.db")
    db = Database(path)
    db.open()
    db.write_sync(lambda c: accounts_store.put_instance_value(c, "x", "y"))
    # A separate connection (another process would see the same) reads it at once.
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value FROM instance_state WHERE key='x'").fetchone() == ("y",)
    raw.close()
    db.close()


async def test_cancelled_writer_does_not_kill_the_writer(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "x.db"))
    db.open()
    try:

        def slow(c):  # type: ignore[no-untyped-def]
            import time as _t

            _t.sleep(0.2)

        first = asyncio.ensure_future(db.write(slow))
        await asyncio.sleep(0.05)  # the writer is now busy with the first job
        second = asyncio.ensure_future(
            db.write(lambda c: accounts_store.put_instance_value(c, "lost", "1"))
        )
        await asyncio.sleep(0)
        second.cancel()
        await first
        # The writer is still alive and the cancelled job did not run.
        await asyncio.wait_for(
            db.write(lambda c: accounts_store.put_instance_value(c, "after", "1")), 5
        )
        assert await db.read(lambda c: accounts_store.get_instance_value(c, "lost")) is None
    finally:
        db.close()
