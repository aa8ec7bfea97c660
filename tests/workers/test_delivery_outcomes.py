"""The delivery worker records the outcomes answered in one loop turn in one
write, and a row that cannot be recorded costs no other its record."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from agora_node.config import DeliverySettings
from agora_node.federation.http import DeliveryResult
from agora_node.store import deliveries as deliveries_store
from agora_node.store.db import Database
from agora_node.store.deliveries import Delivery
from agora_node.workers.delivery import Attempt, DeliveryWorker, Outcome

NOW = 1_732_600_000.0
ACTIVITY = "https://node.test/users/alice/activities/1"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(str(tmp_path / "d.db"))
    database.open()
    yield database
    database.close()


def claimed(db: Database, count: int) -> list[Delivery]:
    def queue_and_claim(c: Any) -> list[Delivery]:
        inboxes = [(f"https://h{i}.example/inbox", f"h{i}.example") for i in range(count)]
        deliveries_store.add_deliveries(c, ACTIVITY, inboxes, None, NOW)
        return deliveries_store.claim_due_deliveries(c, NOW, count, 120.0)

    return db.write_sync(queue_and_claim)


def states(db: Database) -> dict[str, str]:
    rows = db.read_sync(lambda c: c.execute("SELECT inbox, state FROM deliveries").fetchall())
    return {inbox: state for inbox, state in rows}


def worker(db: Database) -> DeliveryWorker:
    # Recording needs only the database; the HTTP side is not used here.
    unused = cast(Any, None)
    return DeliveryWorker(db, unused, unused, unused, unused, DeliverySettings(), asyncio.Event())


def done(delivery: Delivery) -> Attempt:
    return Attempt(delivery, DeliveryResult(status=202), Outcome("done"), NOW)


async def test_outcomes_of_one_turn_are_one_write(db: Database) -> None:
    deliveries = claimed(db, 5)
    w = worker(db)
    jobs_before = db.write_jobs
    await asyncio.gather(*(w._record_soon(done(d)) for d in deliveries))
    assert db.write_jobs - jobs_before == 1
    assert set(states(db).values()) == {"done"}


async def test_a_row_that_fails_loses_no_other_outcome(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    deliveries = claimed(db, 3)
    w = worker(db)
    bad = deliveries[1].id
    record = w._record

    def flaky(conn: Any, attempt: Attempt) -> None:
        if attempt.delivery.id == bad:
            raise RuntimeError("disk trouble")
        record(conn, attempt)

    w._record = flaky  # type: ignore[method-assign]
    await asyncio.gather(*(w._record_soon(done(d)) for d in deliveries))
    got = states(db)
    assert got["https://h0.example/inbox"] == "done"
    assert got["https://h2.example/inbox"] == "done"
    # Still leased: tried again when the lease runs out, never silently dropped.
    assert got["https://h1.example/inbox"] == "running"
    assert "recording a delivery outcome failed" in caplog.text
