"""How the delivery worker judges one answer, with a frozen clock, and host health."""

from __future__ import annotations

import pytest

from agora_node.config import DeliverySettings
from agora_node.federation.http import DeliveryResult
from agora_node.store import deliveries as deliveries_store
from agora_node.store.db import Database
from agora_node.workers import delivery
from agora_node.workers.delivery import backoff_delay, classify

NOW = 1_732_600_000.0
DAY = 86400.0
SETTINGS = DeliverySettings()


@pytest.fixture
def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery.random, "uniform", lambda a, b: 0.0)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_done(status: int) -> None:
    assert classify(DeliveryResult(status), 1, NOW, SETTINGS).action == "done"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_and_capped(status: int) -> None:
    soon = classify(DeliveryResult(status, retry_after=120), 1, NOW, SETTINGS)
    assert soon.action == "retry" and soon.retry_at == NOW + 120
    later = classify(DeliveryResult(status, retry_after=30 * DAY), 1, NOW, SETTINGS)
    assert later.retry_at == NOW + SETTINGS.max_retry_after
    # A 503 is the host's trouble; a 429 is only our pace.
    assert soon.counts_against_host is (status == 503)


@pytest.mark.usefixtures("no_jitter")
def test_429_without_retry_after_backs_off() -> None:
    outcome = classify(DeliveryResult(429), 3, NOW, SETTINGS)
    assert outcome.action == "retry" and outcome.retry_at == NOW + 4**4 + 15


@pytest.mark.usefixtures("no_jitter")
@pytest.mark.parametrize("status", [401, 408])
def test_401_and_408_retry_without_blaming_the_host(status: int) -> None:
    outcome = classify(DeliveryResult(status), 2, NOW, SETTINGS)
    assert outcome.action == "retry" and outcome.retry_at == NOW + 3**4 + 15
    assert not outcome.counts_against_host


@pytest.mark.parametrize("status", [400, 403, 404, 410, 413, 422, 301, 302])
def test_other_4xx_and_redirects_give_up(status: int) -> None:
    outcome = classify(DeliveryResult(status), 1, NOW, SETTINGS)
    assert outcome.action == "give_up" and not outcome.counts_against_host


@pytest.mark.usefixtures("no_jitter")
@pytest.mark.parametrize("result", [DeliveryResult(500), DeliveryResult(None, error="timeout")])
def test_5xx_and_network_errors_back_off_and_count(result: DeliveryResult) -> None:
    outcome = classify(result, 5, NOW, SETTINGS)
    assert outcome.action == "retry" and outcome.retry_at == NOW + 6**4 + 15
    assert outcome.counts_against_host


def test_the_last_attempt_gives_up() -> None:
    last = SETTINGS.max_attempts
    for result in (DeliveryResult(500), DeliveryResult(503), DeliveryResult(408)):
        assert classify(result, last, NOW, SETTINGS).action == "give_up"
    assert classify(DeliveryResult(500), last - 1, NOW, SETTINGS).action == "retry"


def test_jitter_is_bounded() -> None:
    for attempts in (1, 8, 15):
        base = (attempts + 1) ** 4 + 15
        for _ in range(50):
            assert base <= backoff_delay(attempts) <= base + 30 * (attempts + 1)


@pytest.mark.usefixtures("no_jitter")
def test_schedule_spans_sixteen_attempts_over_about_three_days() -> None:
    """A host that fails every time: 16 attempts, then the delivery is given up.

    Without jitter the waits sum to 244,072 s (2.82 days); the jitter adds at
    most 30 s x (n + 1) per wait, about an hour in all.
    """
    now, attempts = NOW, 1
    while True:
        outcome = classify(DeliveryResult(500), attempts, now, SETTINGS)
        if outcome.action == "give_up":
            break
        assert outcome.retry_at is not None
        now, attempts = outcome.retry_at, attempts + 1
    assert attempts == 16
    assert now - NOW == sum((n + 1) ** 4 + 15 for n in range(1, 16)) == 244_072
    jitter = sum(30 * (n + 1) for n in range(1, 16))
    assert 2.5 * DAY < now - NOW + jitter < 3.5 * DAY


# -- host health ------------------------------------------------------------------


def _fail(db: Database, host: str, day: str, now: float) -> deliveries_store.HostState:
    return db.write_sync(
        lambda c: deliveries_store.record_host_failure(
            c,
            host,
            day,
            unavailable_after_days=SETTINGS.unavailable_after_days,
            circuit_failures=SETTINGS.circuit_failures,
            circuit_open_until=now + SETTINGS.circuit_open_seconds,
        )
    )


def _queue(db: Database, host: str, now: float) -> None:
    db.write_sync(
        lambda c: deliveries_store.add_deliveries(
            c, f"https://agora.test/a/{host}", [(f"https://{host}/inbox", host)], None, now
        )
    )


def _claimable(db: Database, now: float) -> list[str]:
    claimed = db.write_sync(lambda c: deliveries_store.claim_due_deliveries(c, now, 10, 60))
    db.write_sync(deliveries_store.release_running_deliveries)
    return [d.host for d in claimed]


def test_circuit_breaker_pauses_a_failing_host(db: Database) -> None:
    _queue(db, "down.example", NOW)
    _queue(db, "up.example", NOW)
    for i in range(SETTINGS.circuit_failures - 1):
        state = _fail(db, "down.example", "2024-11-26", NOW + i)
        assert state.circuit_open_until is None
    state = _fail(db, "down.example", "2024-11-26", NOW)
    assert state.circuit_open_until == NOW + SETTINGS.circuit_open_seconds
    assert _claimable(db, NOW + 1) == ["up.example"]
    # Once the circuit has been open long enough, the host is tried again.
    later = NOW + SETTINGS.circuit_open_seconds + 1
    assert sorted(_claimable(db, later)) == ["down.example", "up.example"]


def test_unavailable_after_failures_on_seven_distinct_days(db: Database) -> None:
    _queue(db, "gone.example", NOW)
    for day in range(1, 7):
        state = _fail(db, "gone.example", f"2024-11-{day:02d}", NOW)
        assert not state.unavailable
    # More failures on a day already counted do not count again.
    assert not _fail(db, "gone.example", "2024-11-06", NOW).unavailable
    assert _fail(db, "gone.example", "2024-11-07", NOW).unavailable
    far = NOW + 30 * DAY
    assert _claimable(db, far) == []
    # Any sign of life (a success, a valid inbound request) revives it.
    db.write_sync(lambda c: deliveries_store.revive_host(c, "gone.example"))
    state = db.read_sync(lambda c: deliveries_store.get_host_state(c, "gone.example"))
    assert state is not None and not state.unavailable and state.failure_days == ()
    assert _claimable(db, far) == ["gone.example"]


def test_success_resets_the_count(db: Database) -> None:
    for _ in range(3):
        _fail(db, "flaky.example", "2024-11-26", NOW)
    db.write_sync(lambda c: deliveries_store.record_host_success(c, "flaky.example", NOW))
    state = db.read_sync(lambda c: deliveries_store.get_host_state(c, "flaky.example"))
    assert state is not None and state.consecutive_failures == 0
