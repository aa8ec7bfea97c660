"""The delivery worker: sends queued activities to remote inboxes.

Signs at send time (fresh Date), limits concurrency globally and per host,
and classifies each answer:

- 2xx: done;
- 429 / 503: retry after ``Retry-After`` (capped), else back off;
- 401 / 408: retry with back-off (401 first tries the other signature scheme);
- 410 and other 4xx: give up;
- 5xx and network errors: exponential back-off with jitter, about 16
  attempts over about 3 days; they count against the host's health
  (circuit breaker, and "unavailable" after failures on 7 distinct days).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiohttp

from agora_node.aio import woken
from agora_node.config import DeliverySettings
from agora_node.federation.blocklist import HostBlocklist
from agora_node.federation.fetcher import SchemeMemory, other_scheme
from agora_node.federation.http import DOMAIN_BLOCKED, DeliveryResult, FetchPolicy, post_activity
from agora_node.federation.signing import Signers
from agora_node.store import deliveries as deliveries_store
from agora_node.store.db import Database
from agora_node.store.deliveries import Delivery

log = logging.getLogger(__name__)

LEASE_SECONDS = 120.0
DRAIN_SECONDS = 10.0


@dataclass(frozen=True)
class Outcome:
    """What to do with a delivery after one attempt."""

    action: str  # "done", "retry" or "give_up"
    retry_at: float | None = None
    counts_against_host: bool = False


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt's answer and what it means, waiting to be recorded."""

    delivery: Delivery
    result: DeliveryResult
    outcome: Outcome
    now: float


def backoff_delay(attempts: int, scale: float = 1.0) -> float:
    """Polynomial back-off: (n+1)^4 + 15 s + jitter; 16 attempts span about 3 days.

    ``scale`` (``delivery.backoff_scale``) shrinks the whole schedule, for
    local test networks that cannot wait minutes for a retry.
    """
    jitter = random.uniform(0, 30) * (attempts + 1)  # noqa: S311 - jitter, not security
    return (float((attempts + 1) ** 4 + 15) + jitter) * scale


def classify(
    result: DeliveryResult, attempts: int, now: float, settings: DeliverySettings
) -> Outcome:
    """Decide the fate of a delivery from one answer (pure; tested with a frozen clock)."""
    status = result.status
    if status is not None and 200 <= status < 300:
        return Outcome("done")
    if result.refused:
        return Outcome("give_up")
    out_of_tries = attempts >= settings.max_attempts
    if status in (429, 503):
        if out_of_tries:
            return Outcome("give_up", counts_against_host=status == 503)
        wait = result.retry_after
        if wait is None or wait < 0:
            wait = backoff_delay(attempts, settings.backoff_scale)
        return Outcome("retry", now + min(wait, settings.max_retry_after), status == 503)
    if status in (401, 408):
        return (
            Outcome("give_up")
            if out_of_tries
            else Outcome("retry", now + backoff_delay(attempts, settings.backoff_scale))
        )
    if status is not None and 300 <= status < 500:
        return Outcome("give_up")
    # 5xx or a network error (status None)
    if out_of_tries:
        return Outcome("give_up", counts_against_host=True)
    return Outcome(
        "retry", now + backoff_delay(attempts, settings.backoff_scale), counts_against_host=True
    )


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        session: aiohttp.ClientSession,
        policy: FetchPolicy,
        signers: Signers,
        schemes: SchemeMemory,
        settings: DeliverySettings,
        wake: asyncio.Event,
        sign_pool: Executor | None = None,
        rules: HostBlocklist | None = None,
    ) -> None:
        self._db = db
        self._rules = rules
        self._session = session
        self._policy = policy
        self._signers = signers
        self._schemes = schemes
        self._settings = settings
        self._wake = wake
        self._sign_pool = sign_pool
        self._global = asyncio.Semaphore(settings.concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._pending_outcomes: list[Attempt] | None = None
        self._outcomes_flush: asyncio.Future[None] | None = None
        self.sent = 0

    def _host_sem(self, host: str) -> asyncio.Semaphore:
        sem = self._per_host.get(host)
        if sem is None:
            sem = asyncio.Semaphore(self._settings.per_host_concurrency)
            self._per_host[host] = sem
        return sem

    async def run(self) -> None:
        # This worker is the only one on the database: leases still held are
        # from a process that died (kill -9, power loss), so take them back now.
        released = await self._db.write(deliveries_store.release_orphaned_deliveries)
        if released:
            log.info("released deliveries leased by a previous process count=%d", released)
        batch = self._settings.concurrency * 2
        while not self._stopping:
            self._wake.clear()
            jobs = await self._db.write(
                partial(
                    deliveries_store.claim_due_deliveries,
                    now=time.time(),
                    limit=batch,
                    lease_seconds=LEASE_SECONDS,
                )
            )
            await self._warm_caches(jobs)
            for delivery in jobs:
                await self._global.acquire()
                task = asyncio.create_task(self._run_one(delivery))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if len(jobs) == batch:
                continue
            due = await self._db.read(deliveries_store.next_delivery_due_at)
            timeout = 5.0 if due is None else max(0.05, min(5.0, due - time.time()))
            await woken(self._wake, timeout)

    async def _warm_caches(self, jobs: list[Delivery]) -> None:
        """Load each signing key and activity body once, before the batch's tasks start.

        Otherwise every task of a fresh fan-out misses the caches at the same
        moment and each parses the same PEM (CPU-bound, and slow) and body.
        """
        try:
            for account_id in dict.fromkeys(d.signer_account_id for d in jobs):
                await self._signers.key_for(account_id)
            for activity_uri in dict.fromkeys(d.activity_uri for d in jobs):
                await self._body(activity_uri)
        except Exception as exc:  # each delivery meets it again, and records it as its outcome
            log.warning("delivery cache warm-up failed error=%r", exc)

    async def _body(self, activity_uri: str) -> bytes | None:
        body = self._bodies.get(activity_uri)
        if body is None:
            doc = await self._db.read(lambda db: deliveries_store.activity_json(db, activity_uri))
            if doc is None:
                return None
            body = json.dumps(doc, separators=(",", ":")).encode()
            self._bodies[activity_uri] = body
            if len(self._bodies) > 256:
                self._bodies.popitem(last=False)
        return body

    async def _run_one(self, delivery: Delivery) -> None:
        attempt: Attempt | None = None
        try:
            async with self._host_sem(delivery.host):
                attempt = await self.attempt(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery crashed id=%s inbox=%s", delivery.id, delivery.inbox)
            await self._db.write(
                lambda db: deliveries_store.retry_delivery(
                    db,
                    delivery.id,
                    time.time() + backoff_delay(delivery.attempts, self._settings.backoff_scale),
                    None,
                    "crash",
                )
            )
        finally:
            # The slot is free once the request is answered: the next delivery
            # starts while this outcome waits for its commit.
            self._global.release()
        if attempt is not None:
            await self._record_soon(attempt)

    async def _record_soon(self, attempt: Attempt) -> None:
        """Record this outcome together with the others answered in the same turn.

        One write (one savepoint, one commit wake-up) for a turn's worth of
        outcomes instead of one each: during a fan-out the writer thread's
        per-write overhead, not SQLite, was what the answers waited on.
        """
        if self._pending_outcomes is None:
            self._pending_outcomes = []
            self._outcomes_flush = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._flush_outcomes)
        self._pending_outcomes.append(attempt)
        flushed = self._outcomes_flush
        assert flushed is not None
        await asyncio.shield(flushed)

    def _flush_outcomes(self) -> None:
        attempts, done = self._pending_outcomes or [], self._outcomes_flush
        self._pending_outcomes, self._outcomes_flush = None, None
        task = asyncio.create_task(self._write_outcomes(attempts, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write_outcomes(
        self, attempts: list[Attempt], done: asyncio.Future[None] | None
    ) -> None:
        def record_all(db: Any) -> None:
            for attempt in attempts:
                self._record(db, attempt)

        try:
            await self._db.write(record_all)
        except Exception:  # one bad row must not lose the others: one write each
            log.exception("recording %d delivery outcomes together failed", len(attempts))
            for attempt in attempts:
                try:
                    await self._db.write(partial(self._record, attempt=attempt))
                except Exception:  # the lease expires and the delivery is tried again
                    log.exception("recording a delivery outcome failed id=%s", attempt.delivery.id)
        finally:
            if done is not None and not done.done():
                done.set_result(None)

    async def _post(self, delivery: Delivery, body: bytes, scheme: str) -> DeliveryResult:
        signer = await self._signers.signer(delivery.signer_account_id, scheme)
        return await post_activity(
            self._session,
            delivery.inbox,
            body,
            policy=self._policy,
            signer=signer,
            sign_in=self._sign_pool,
        )

    async def attempt(self, delivery: Delivery) -> Attempt | None:
        """Sign and send; classify the answer (None: nothing to send, already recorded)."""
        body = await self._body(delivery.activity_uri)
        if body is None:
            await self._db.write(
                lambda db: deliveries_store.finish_delivery(
                    db, delivery.id, "failed", None, "activity missing"
                )
            )
            return None
        scheme = await self._schemes.first_choice(delivery.host)
        result = await self._post(delivery, body, scheme)
        if (
            result.refused
            and result.error == DOMAIN_BLOCKED
            and self._rules is not None
            and not await self._rules.still_refuses(delivery.host)
        ):
            result = await self._post(delivery, body, scheme)
        if result.status in (401, 403) and scheme == "rfc9421":
            result = await self._post(delivery, body, other_scheme(scheme))
            if result.status is not None and 200 <= result.status < 300:
                await self._schemes.remember(delivery.host, other_scheme(scheme))
        now = time.time()
        outcome = classify(result, delivery.attempts, now, self._settings)
        log.info(
            "delivery activity=%s inbox=%s status=%s attempt=%d outcome=%s",
            delivery.activity_uri, delivery.inbox, result.status, delivery.attempts, outcome.action,
        )  # fmt: skip
        if outcome.action == "done":
            self.sent += 1
        return Attempt(delivery, result, outcome, now)

    def _record(self, db: Any, attempt: Attempt) -> None:
        delivery, result, outcome, now = (
            attempt.delivery,
            attempt.result,
            attempt.outcome,
            attempt.now,
        )
        error = result.error or (f"HTTP {result.status}" if result.status else None)
        if outcome.action == "done":
            deliveries_store.finish_delivery(db, delivery.id, "done", result.status, None)
            deliveries_store.record_host_success(db, delivery.host, now)
            return
        if outcome.counts_against_host:
            day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
            deliveries_store.record_host_failure(
                db,
                delivery.host,
                day,
                unavailable_after_days=self._settings.unavailable_after_days,
                circuit_failures=self._settings.circuit_failures,
                circuit_open_until=now + self._settings.circuit_open_seconds,
            )
        if outcome.action == "retry" and outcome.retry_at is not None:
            deliveries_store.retry_delivery(db, delivery.id, outcome.retry_at, result.status, error)
        else:
            deliveries_store.finish_delivery(db, delivery.id, "failed", result.status, error)

    async def drain(self) -> None:
        """Graceful shutdown: finish in-flight deliveries (bounded), release the rest."""
        self._stopping = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=DRAIN_SECONDS)
        for task in list(self._tasks):
            task.cancel()
        await self._db.write(deliveries_store.release_running_deliveries)
