"""A burst of CPU-bound handlers is spread over event-loop turns, so sockets
and timers are served between them."""

from __future__ import annotations

import asyncio
import time

from agora_node.federation.turns import TurnShare


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_a_burst_is_spread_over_turns_within_the_budget() -> None:
    loop = asyncio.get_running_loop()
    share = TurnShare(budget=0.004)
    turn = 0

    def count_turns() -> None:  # runs once per loop turn
        nonlocal turn
        turn += 1
        loop.call_soon(count_turns)

    loop.call_soon(count_turns)
    await asyncio.sleep(0)
    started_in: list[int] = []

    async def handler() -> None:
        await share.wait_turn()
        started_in.append(turn)
        spin(0.001)  # its CPU-bound part

    await asyncio.gather(*(handler() for _ in range(20)))
    per_turn = [started_in.count(t) for t in sorted(set(started_in))]
    # All 20 would have run in one turn (20 ms); at most ~4 ms of them per turn now.
    assert len(per_turn) >= 4
    assert max(per_turn) <= 6
    assert sum(per_turn) == 20
    assert share.deferred > 0


async def test_timer_runs_between_slices_of_a_burst() -> None:
    share = TurnShare(budget=0.003)
    fired_after: list[int] = []
    done = 0

    async def handler() -> None:
        nonlocal done
        await share.wait_turn()
        spin(0.001)
        done += 1

    loop = asyncio.get_running_loop()
    loop.call_later(0.002, lambda: fired_after.append(done))
    await asyncio.gather(*(handler() for _ in range(40)))
    # The timer was due after ~2 handlers; it must not wait for all 40 (40 ms).
    assert fired_after and fired_after[0] < 20


async def test_a_lone_handler_is_never_delayed() -> None:
    share = TurnShare(budget=0.003)
    for _ in range(5):
        await share.wait_turn()
        await asyncio.sleep(0.001)
    assert share.deferred == 0
