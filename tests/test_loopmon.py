"""The loop monitor: lag of a periodic sleep, and garbage-collector pauses apart."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from pathlib import Path

from agora_node.loopmon import CallbackTimer, LoopMonitor


async def test_a_blocking_step_shows_as_lag(tmp_path: Path) -> None:
    monitor = LoopMonitor(interval=0.005)
    task = asyncio.create_task(monitor.run())
    await asyncio.sleep(0.05)
    time.sleep(0.06)  # holds the loop
    await asyncio.sleep(0.02)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert monitor.max_lag_ms >= 40
    out = tmp_path / "lag.json"
    monitor.write(out)
    report = json.loads(out.read_text())
    assert report["max_ms"] >= 40 and report["samples"] > 5


def test_gc_pauses_are_recorded_by_generation() -> None:
    monitor = LoopMonitor()
    gc.callbacks.append(monitor.on_gc)
    try:
        gc.collect(2)
        gc.collect(0)
    finally:
        gc.callbacks.remove(monitor.on_gc)
    report = monitor.report()["gc"]
    assert report["2"]["count"] >= 1 and report["0"]["count"] >= 1
    assert report["2"]["max_ms"] > 0


async def test_the_callback_timer_names_the_slow_callback() -> None:
    async def holds_the_loop() -> None:
        await asyncio.sleep(0)
        time.sleep(0.03)

    async def quick() -> None:
        await asyncio.sleep(0)

    with CallbackTimer(threshold_ms=10) as timer:
        await asyncio.gather(holds_the_loop(), quick())
    assert len(timer.slowest) == 1
    ms, _wall, what = timer.slowest[0]
    assert ms >= 25 and "holds_the_loop" in what
    # Restored on exit: nothing is timed any more.
    await holds_the_loop()
    assert len(timer.slowest) == 1
