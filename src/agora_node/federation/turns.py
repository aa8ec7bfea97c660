"""Sharing the event loop's turns between requests.

asyncio runs every callback that is ready when a turn starts before it looks
at timers and sockets again. When a burst of inbox POSTs arrives together
(the senders answered by one commit send their next request at once), each
one's verification and validation (CPU-bound) would all run in one turn,
and everything else waiting on the loop — an actor fetch, WebFinger, a
timer — would wait that whole time (measured with bench/inbox.py).
A handler awaits :meth:`TurnShare.wait_turn` before its CPU-bound part: the
first ones in a turn go on; once the turn has run ``budget`` seconds, the
rest continue in the next turn, after the loop has served sockets and timers.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

TURN_BUDGET_SECONDS = 0.003


class TurnShare:
    def __init__(self, budget: float = TURN_BUDGET_SECONDS) -> None:
        self._budget = budget
        self._turn_started: float | None = None
        self.deferred = 0

    async def wait_turn(self) -> None:
        while True:
            now = time.perf_counter()
            if self._turn_started is None:
                # The first handler of this turn: the turn's clock starts now and
                # is reset by a callback that runs early in the next turn.
                self._turn_started = now
                asyncio.get_running_loop().call_soon(self._next_turn)
                return
            if now - self._turn_started < self._budget:
                return
            self.deferred += 1
            await asyncio.sleep(0)

    def _next_turn(self) -> None:
        self._turn_started = None


TURN_SHARE = web.AppKey("turn_share", TurnShare)
