"""Two writers on one SQLite file (the serving process and its worker process).

Given a writer that must wait for another's write lock, it retries on its own
(SQLite's handler would sleep up to 100 ms a step) and gives up with an error
after its limit, leaving nothing half-written; a background writer stands
aside while a serving writer has announced itself, for a bounded time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agora_node.store import accounts as accounts_store
from agora_node.store import db as db_module
from agora_node.store.db import Database, WriteIntent

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it


def hold_write_lock(path: Path, seconds: float, started: threading.Event) -> None:
    """Another process's transaction, as SQLite sees it: a connection in BEGIN IMMEDIATE."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def put(key: str) -> Any:
    return lambda c: accounts_store.put_instance_value(c, key, "1")


def get(db: Database, key: str) -> str | None:
    return db.read_sync(lambda c: accounts_store.get_instance_value(c, key))


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = Database(str(tmp_path / "n.db"))
    database.open()
    yield database
    database.close()


def test_a_write_waits_for_another_writer_and_then_commits(db: Database, tmp_path: Path) -> None:
    started = threading.Event()
    other = threading.Thread(target=hold_write_lock, args=(tmp_path / "n.db", 0.3, started))
    other.start()
    started.wait(5)
    begun = time.monotonic()
    db.write_sync(put("after-wait"))
    waited = time.monotonic() - begun
    other.join()
    assert get(db, "after-wait") == "1"
    assert 0.25 <= waited < 5


def test_a_write_locked_out_too_long_fails_and_stores_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "_BUSY_TIMEOUT", 0.2)
    started = threading.Event()
    other = threading.Thread(target=hold_write_lock, args=(tmp_path / "n.db", 1.0, started))
    other.start()
    started.wait(5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.write_sync(put("never"))
    other.join()
    assert get(db, "never") is None
    db.write_sync(put("later"))  # the writer is fine afterwards
    assert get(db, "later") == "1"


def test_background_writer_stands_aside_while_a_serving_writer_is_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "_YIELD_MAX", 5.0)
    path = tmp_path / "n.db"
    background = Database(str(path), background=True, max_bulk=1)
    background.open()
    serving = WriteIntent(str(path) + "-writers")  # as a serving process's writer holds it
    try:
        serving.announce()
        future = background.submit_write(put("background"))
        time.sleep(0.3)
        assert not future.done()  # waiting for the serving writer, not writing
        serving.withdraw()
        future.result(timeout=5)
        assert get(background, "background") == "1"
    finally:
        serving.close()
        background.close()


def test_background_writer_waits_a_bounded_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "_YIELD_MAX", 0.1)
    path = tmp_path / "n.db"
    background = Database(str(path), background=True)
    background.open()
    stuck = WriteIntent(str(path) + "-writers")
    try:
        stuck.announce()  # a serving writer that never finishes
        begun = time.monotonic()
        background.write_sync(put("anyway"))
        assert time.monotonic() - begun < 3
        assert get(background, "anyway") == "1"
    finally:
        stuck.close()
        background.close()


def test_serving_writer_announces_only_while_it_writes(db: Database, tmp_path: Path) -> None:
    probe = WriteIntent(str(tmp_path / "n.db") + "-writers")
    seen: list[bool] = []

    def probe_inside(c: Any) -> None:
        seen.append(probe.is_clear())
        accounts_store.put_instance_value(c, "k", "v")

    try:
        db.write_sync(probe_inside)
        assert seen == [False]  # announced during its transaction
        assert probe.is_clear()  # and withdrawn after the commit
    finally:
        probe.close()


def test_background_checkpointer_restarts_the_wal_itself(tmp_path: Path) -> None:
    # Given a background (worker-process) database that has written something
    path = tmp_path / "n.db"
    background = Database(str(path), background=True)
    background.open()
    try:
        background.write_sync(put("something"))
        # When its checkpointer has copied the whole WAL back (every second),
        # then it has written the frame that starts the WAL over itself.
        deadline = time.monotonic() + 10
        while get(background, "wal_restarted_at") is None:
            assert time.monotonic() < deadline, "the WAL was not restarted by the checkpointer"
            time.sleep(0.1)
    finally:
        background.close()


def test_serving_checkpointer_leaves_the_wal_restart_alone(tmp_path: Path) -> None:
    serving = Database(str(tmp_path / "n.db"))
    serving.open()
    try:
        serving.write_sync(put("something"))
        time.sleep(2.5)  # two checkpoint rounds
        assert get(serving, "wal_restarted_at") is None
    finally:
        serving.close()
