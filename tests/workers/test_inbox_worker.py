"""The inbox worker records and retries failures; it never drops a job silently."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from agora_node.protocol.urls import LocalUrls
from agora_node.store import jobs as jobs_store
from agora_node.store.db import Database
from agora_node.workers import inbox as inbox_worker
from agora_node.workers.inbox import INBOX_JOB, MAX_ATTEMPTS, InboxWorker

FOLLOW = {
    "id": "https://remote.example/follows/1",
    "type": "Follow",
    "actor": "https://remote.example/users/bob",
    "object": "https://agora.test/users/nobody",
}


class NoFetches:
    async def documents_for(self, activity: dict[str, Any]) -> dict[str, Any]:
        return {}


def job_row(db: Database) -> tuple[Any, ...]:
    return db.read_sync(
        lambda c: c.execute("SELECT state, attempts, run_at, last_error FROM jobs").fetchone()
    )


async def claim(db: Database) -> jobs_store.Job:
    jobs = await db.write(
        lambda c: jobs_store.claim_due_jobs(c, INBOX_JOB, time.time() + 10**7, 1, 60)
    )
    assert len(jobs) == 1
    return jobs[0]


async def test_failure_is_recorded_and_retried_then_given_up(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    await db.write(
        lambda c: jobs_store.enqueue_job(c, INBOX_JOB, {"activity": FOLLOW}, dedupe_key="k")
    )
    worker = InboxWorker(db, NoFetches(), LocalUrls("https://agora.test"), asyncio.Event())  # type: ignore[arg-type]

    def broken(*args: Any) -> Any:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(inbox_worker, "process_inbound", broken)
    await worker.handle(await claim(db))
    state, attempts, run_at, error = job_row(db)
    assert state == "pending" and attempts == 1
    assert run_at > time.time() + 20  # backed off, not retried at once
    assert "RuntimeError: database exploded" in error
    for _ in range(MAX_ATTEMPTS - 1):
        await worker.handle(await claim(db))
    state, attempts, _, error = job_row(db)
    assert state == "failed" and attempts == MAX_ATTEMPTS and "database exploded" in error


async def test_success_after_a_failure_completes_the_job(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    await db.write(
        lambda c: jobs_store.enqueue_job(c, INBOX_JOB, {"activity": FOLLOW}, dedupe_key="k")
    )
    worker = InboxWorker(db, NoFetches(), LocalUrls("https://agora.test"), asyncio.Event())  # type: ignore[arg-type]
    original = inbox_worker.process_inbound
    calls = {"n": 0}

    def flaky(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("once")
        return original(*args)

    monkeypatch.setattr(inbox_worker, "process_inbound", flaky)
    await worker.handle(await claim(db))
    await worker.handle(await claim(db))
    state, attempts, _, error = job_row(db)
    assert state == "done" and attempts == 2 and error is None
    assert db.read_sync(lambda c: c.execute("SELECT count(*) FROM activities").fetchone()[0]) == 1


@pytest.mark.parametrize("attempts", [1, 3, 8])
def test_retry_delay_grows(attempts: int) -> None:
    low = 30 * 2 ** (attempts - 1) * 0.8
    assert (
        low
        <= inbox_worker.inbox_retry_delay(attempts)
        <= min(30 * 2 ** (attempts - 1), 6 * 3600) * 1.2
    )
