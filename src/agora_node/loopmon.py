"""Opt-in event-loop lag monitor, for benchmarks and diagnosis.

A task sleeps ``interval`` seconds in a loop and records how late each wake-up
was: anything that holds the loop (a blocking call, a long CPU-bound step, a
pile of callbacks in one iteration) shows up as lag. Nothing else in the node
can tell this from outside the process.

Enabled by ``server.loop_monitor = "<path>"`` in the config, or its twin
``AGORA_LOOP_MONITOR=<path>`` in the environment (``app.py`` appends
:func:`loop_monitor_ctx` to the app's ``cleanup_ctx`` last, so the monitor
covers serving and not database start-up or shutdown). On shutdown it writes
JSON to ``path``: the overall maximum, the maximum for each wall-clock second
(so a bench can pick the phases it measured), and the worst single lags.

With ``server.loop_monitor_callbacks`` (``AGORA_LOOP_MONITOR_CALLBACKS=1``)
as well, every callback the loop runs is timed (:class:`CallbackTimer`, a
small cost added to each) and the slowest are reported with what they ran:
a lag then names its cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

INTERVAL = 0.005
_KEEP_SECONDS = 3600
_KEEP_WORST = 50
_CPU_SPLIT_MS = 10.0  # lags this long or more are split into CPU and waiting


class LoopMonitor:
    """Records the lateness of a periodic ``asyncio.sleep`` (milliseconds)."""

    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.max_lag_ms = 0.0
        self.samples = 0
        self.started_at = time.time()
        self._seconds: deque[list[float]] = deque(maxlen=_KEEP_SECONDS)  # [second, max_ms]
        self._worst: list[tuple[float, float]] = []  # (lag_ms, wall time)
        # Garbage-collector pauses hold the loop too; kept apart to tell them from the rest.
        self.gc_pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}  # generation -> [ms]
        self._gc_started = 0.0
        self.late_cpu: list[tuple[float, float]] = []  # (lag_ms, loop thread's CPU ms)
        self.slow_callbacks: list[tuple[float, float, str]] = []  # see CallbackTimer

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            pauses = self.gc_pauses.setdefault(info.get("generation", 2), [])
            if len(pauses) < 100_000:
                pauses.append((time.perf_counter() - self._gc_started) * 1000.0)

    def record(self, lag_ms: float, wall: float) -> None:
        self.samples += 1
        self.max_lag_ms = max(self.max_lag_ms, lag_ms)
        second = float(int(wall))
        if self._seconds and self._seconds[-1][0] == second:
            self._seconds[-1][1] = max(self._seconds[-1][1], lag_ms)
        else:
            self._seconds.append([second, lag_ms])
        if len(self._worst) < _KEEP_WORST or lag_ms > self._worst[-1][0]:
            self._worst.append((lag_ms, wall))
            self._worst.sort(reverse=True)
            del self._worst[_KEEP_WORST:]

    async def run(self, clock: Callable[[], float] = time.perf_counter) -> None:
        interval = self.interval
        while True:
            before, cpu_before = clock(), time.thread_time()
            await asyncio.sleep(interval)
            lag = clock() - before - interval
            self.record(max(0.0, lag) * 1000.0, time.time())
            # How much of the interval the loop's thread actually ran: a late
            # wake-up with little CPU was the thread waiting (for a core, the
            # GIL), not code holding the loop.
            if lag * 1000.0 >= _CPU_SPLIT_MS:
                cpu_ms = (time.thread_time() - cpu_before) * 1000.0
                self.late_cpu.append((round(lag * 1000.0, 3), round(cpu_ms, 3)))
                self.late_cpu.sort(reverse=True)
                del self.late_cpu[_KEEP_WORST:]

    def report(self) -> dict[str, Any]:
        return {
            "interval_ms": self.interval * 1000.0,
            "started_at": self.started_at,
            "stopped_at": time.time(),
            "samples": self.samples,
            "max_ms": round(self.max_lag_ms, 3),
            "seconds": [[int(s), round(m, 3)] for s, m in self._seconds],
            "worst": [[round(ms, 3), round(t, 3)] for ms, t in self._worst],
            "late_cpu": [[lag, cpu] for lag, cpu in self.late_cpu],
            "slow_callbacks": [list(entry) for entry in self.slow_callbacks],
            "gc": {
                str(gen): {"count": len(p), "max_ms": round(max(p, default=0.0), 3)}
                for gen, p in self.gc_pauses.items()
            },
        }

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.report()), encoding="utf-8")


def _describe(handle: asyncio.Handle) -> str:
    """What a callback ran: the task's coroutine for task steps and wake-ups."""
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f" at line {frame.f_lineno}" if frame is not None else ""
        return f"task {getattr(coro, '__qualname__', coro)!s}{where}"
    return repr(handle)[:200]


class CallbackTimer:
    """Times every ``asyncio.Handle`` run in this process while in use; keeps
    the slowest (over ``threshold_ms``) as (ms, wall time, what ran)."""

    def __init__(self, threshold_ms: float = 5.0, keep: int = 20) -> None:
        self.threshold_ms = threshold_ms
        self.keep = keep
        self.slowest: list[tuple[float, float, str]] = []
        self._original: Callable[[asyncio.Handle], None] | None = None

    def __enter__(self) -> CallbackTimer:
        original: Callable[[asyncio.Handle], None] = getattr(asyncio.Handle, "_run")  # noqa: B009
        self._original = original
        timer = self

        def timed_run(handle: asyncio.Handle) -> None:
            started = time.perf_counter()
            original(handle)
            ms = (time.perf_counter() - started) * 1000.0
            if ms >= timer.threshold_ms:
                timer.record(ms, handle)

        setattr(asyncio.Handle, "_run", timed_run)  # noqa: B010 - a private method
        return self

    def __exit__(self, *exc: object) -> None:
        if self._original is not None:
            setattr(asyncio.Handle, "_run", self._original)  # noqa: B010
            self._original = None

    def record(self, ms: float, handle: asyncio.Handle) -> None:
        if len(self.slowest) < self.keep or ms > self.slowest[-1][0]:
            self.slowest.append((round(ms, 3), round(time.time(), 3), _describe(handle)))
            self.slowest.sort(reverse=True)
            del self.slowest[self.keep :]


def loop_monitor_ctx(
    path: str, callbacks: bool = False
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A ``cleanup_ctx`` entry running a :class:`LoopMonitor`; writes ``path`` on shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        monitor = LoopMonitor()
        gc.callbacks.append(monitor.on_gc)
        timer = CallbackTimer() if callbacks else None
        if timer is not None:
            timer.__enter__()
        task = asyncio.create_task(monitor.run(), name="loop-monitor")
        log.info("loop monitor on interval_ms=%.0f path=%s", monitor.interval * 1000, path)
        try:
            yield
        finally:
            gc.callbacks.remove(monitor.on_gc)
            if timer is not None:
                timer.__exit__()
                monitor.slow_callbacks = timer.slowest
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                monitor.write(path)
            except OSError as exc:
                log.warning("loop monitor could not write path=%s error=%s", path, exc)

    return ctx
