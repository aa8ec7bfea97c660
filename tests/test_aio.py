"""A stop that meets a wake-up still stops the loop (agora_node.aio)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from agora_node.aio import within, woken


async def _cancel_as_it_wakes(wait_once: object) -> asyncio.Task[None]:
    event = asyncio.Event()

    async def worker_loop() -> None:
        while True:
            await wait_once(event)  # type: ignore[operator]
            event.clear()

    task = asyncio.create_task(worker_loop())
    await asyncio.sleep(0)  # the loop now waits on the event
    event.set()
    await asyncio.sleep(0)  # the wait has completed; its waiter has not run yet
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)
    return task


async def test_a_cancel_in_the_turn_of_a_wake_up_ends_the_loop() -> None:
    task = await _cancel_as_it_wakes(lambda event: woken(event, 5.0))
    assert task.done(), "the cancellation was lost: the loop still runs"
    assert task.cancelled()


async def test_the_race_is_real_with_wait_for() -> None:
    """The same loop on ``asyncio.wait_for`` loses the cancel (Python 3.11),
    which is why the node does not use it for waits a stop must interrupt."""
    task = await _cancel_as_it_wakes(lambda event: asyncio.wait_for(event.wait(), 5.0))
    lost = not task.done()
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)
    assert task.done()
    if sys.version_info < (3, 12):
        assert lost


async def test_woken_reports_set_and_timeout() -> None:
    event = asyncio.Event()
    assert await woken(event, 0.01) is False
    event.set()
    assert await woken(event, 0.01) is True


async def test_within_times_out_and_passes_results() -> None:
    assert await within(asyncio.sleep(0, "done"), 1.0) == "done"
    with pytest.raises(TimeoutError):
        await within(asyncio.sleep(1.0), 0.01)
