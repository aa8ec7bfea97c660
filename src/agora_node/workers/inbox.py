"""The inbox worker: claims queued inbound activities and processes them.

The inbox spools what it accepts (``store/spool.py``); the worker queues
those as jobs first, moving its cursor in the same transaction.

Each job: fetch what it needs (I/O, outside the transaction), then one write
transaction that applies the activity, stores its effects and marks the job
done. A failure is recorded and retried with exponential back-off; after
``MAX_ATTEMPTS`` the job is marked failed, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from functools import partial
from typing import Any

from agora_node.aio import woken
from agora_node.federation.prefetch import Prefetcher, RetryLater
from agora_node.processing.effects import InboundContext
from agora_node.processing.inbound import process_inbound
from agora_node.processing.policies import Pipeline
from agora_node.protocol.hosts import host_of
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import id_of
from agora_node.store import deliveries as deliveries_store
from agora_node.store import jobs as jobs_store
from agora_node.store.db import Database
from agora_node.store.jobs import Job
from agora_node.store.spool import SpoolReader

log = logging.getLogger(__name__)

INBOX_JOB = "inbox"
MAX_ATTEMPTS = 8
LEASE_SECONDS = 300.0
BATCH = 32
# Spooled activities queued as jobs per transaction, and per turn of run().
SPOOL_BATCH = 64
SPOOL_TAKE_MAX = 1024
CONCURRENCY = 8
# Back-off while the loop is busy (see InboxWorker._yield_to_requests).
BUSY_LAG_SECONDS = 0.002
DEFER_SECONDS = 0.01
DEFER_STEPS = 5


def sender_host(activity: dict[str, Any]) -> str:
    """The host of the activity's actor (the inbox checked it signed the request)."""
    try:
        return host_of(id_of(activity.get("actor")) or "")
    except ValueError:
        return ""


def inbox_retry_delay(attempts: int) -> float:
    """30 s, 1 min, 2 min ... capped at 6 h, with ±20 % jitter."""
    base: float = min(30.0 * 2.0 ** (attempts - 1), 6 * 3600.0)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


class InboxWorker:
    def __init__(
        self,
        db: Database,
        prefetcher: Prefetcher,
        urls: LocalUrls,
        wake: asyncio.Event,
        on_deliveries: asyncio.Event | None = None,
        *,
        spool: SpoolReader | None = None,
        policies: Pipeline | None = None,
    ) -> None:
        self._db = db
        self._policies = policies
        self._spool = spool
        self._spool_cursors: tuple[dict[str, int], set[str]] | None = None
        self._prefetcher = prefetcher
        self._urls = urls
        self._wake = wake
        self._on_deliveries = on_deliveries
        self._sem = asyncio.Semaphore(CONCURRENCY)
        self._tasks: set[asyncio.Task[None]] = set()
        self.processed = 0

    async def run(self) -> None:
        while True:
            self._wake.clear()
            taken = await self.take_spooled()
            jobs = await self._db.write(
                partial(
                    jobs_store.claim_due_jobs,
                    kind=INBOX_JOB,
                    now=time.time(),
                    limit=BATCH,
                    lease_seconds=LEASE_SECONDS,
                )
            )
            for job in jobs:
                await self._sem.acquire()
                await asyncio.sleep(0)  # let waiting requests run between jobs
                task = asyncio.create_task(self._run_job(job))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(jobs) == BATCH or taken >= SPOOL_TAKE_MAX:
                continue
            due = await self._db.read(lambda db: jobs_store.next_job_due_at(db, INBOX_JOB))
            timeout = 5.0 if due is None else max(0.05, min(5.0, due - time.time()))
            await woken(self._wake, timeout)

    async def take_spooled(self) -> int:
        """Queue what the inbox has spooled (``store/spool.py``) as jobs; how many rows."""
        spool = self._spool
        if spool is None:
            return 0
        if self._spool_cursors is None:
            self._spool_cursors = await self._db.read(jobs_store.spool_cursors)
        cursors, finished = self._spool_cursors
        taken = 0
        while True:
            found = await spool.next_rows(cursors, finished, SPOOL_BATCH)
            if found is None:
                return taken
            generation, rows, done = found
            if done:
                await self._db.write(
                    partial(jobs_store.finish_spool_segment, generation=generation, now=time.time())
                )
                finished.add(generation)
                continue
            await self._db.write(
                partial(jobs_store.move_spooled, kind=INBOX_JOB, generation=generation, rows=rows)
            )
            cursors[generation] = rows[-1].id
            taken += len(rows)
            if taken >= SPOOL_TAKE_MAX:
                return taken  # some processing in between; run() comes back at once

    async def _yield_to_requests(self) -> None:
        """Defer processing a little while the event loop is busy answering requests.

        Accepting (the 202) is what senders wait for; processing can lag a
        few tens of milliseconds. Bounded: a job waits at most
        ``DEFER_STEPS * DEFER_SECONDS``, so processing is slowed, never starved.
        """
        loop = asyncio.get_running_loop()
        for _ in range(DEFER_STEPS):
            start = loop.time()
            await asyncio.sleep(0)
            if loop.time() - start < BUSY_LAG_SECONDS:
                return
            await asyncio.sleep(DEFER_SECONDS)

    async def _run_job(self, job: Job) -> None:
        try:
            await self._yield_to_requests()
            await self.handle(job)
        finally:
            self._sem.release()

    async def handle(self, job: Job) -> None:
        activity: dict[str, Any] = job.payload["activity"]
        try:
            fetched = await self._prefetcher.documents_for(activity)
            ctx = InboundContext(
                urls=self._urls, now=time.time(), fetched=fetched, policies=self._policies
            )

            def apply(db: Any) -> Any:
                effects = process_inbound(db, ctx, activity)
                # A valid inbound activity is a sign of life: deliveries to
                # its server resume (circuit closed, no longer unavailable).
                deliveries_store.revive_host(db, sender_host(activity))
                jobs_store.complete_job(db, job.id)
                return effects

            effects = await self._db.write(apply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # recorded and retried; never dropped
            await self._record_failure(job, exc)
            return
        self.processed += 1
        log.info(
            "inbox processed activity_id=%s type=%s outcome=%s deliveries=%d",
            activity.get("id"), activity.get("type"), effects.outcome, effects.deliveries,
        )  # fmt: skip
        if effects.deliveries and self._on_deliveries is not None:
            self._on_deliveries.set()

    async def _record_failure(self, job: Job, exc: Exception) -> None:
        error = f"{exc.__class__.__name__}: {exc}"
        if job.attempts >= MAX_ATTEMPTS:
            log.error("inbox job failed for good job=%s error=%s", job.id, error)
            await self._db.write(lambda db: jobs_store.fail_job(db, job.id, error))
            return
        delay = inbox_retry_delay(job.attempts)
        level = logging.INFO if isinstance(exc, RetryLater) else logging.WARNING
        log.log(level, "inbox job retry job=%s in=%.0fs error=%s", job.id, delay, error,
                exc_info=not isinstance(exc, RetryLater))  # fmt: skip
        await self._db.write(
            lambda db: jobs_store.retry_job(db, job.id, time.time() + delay, error)
        )

    async def drain(self) -> None:
        """Let in-flight jobs finish (bounded), then hand back the rest."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)
        for task in list(self._tasks):
            task.cancel()
        await self._db.write(lambda db: jobs_store.release_running_jobs(db, INBOX_JOB))
