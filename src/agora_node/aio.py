"""Waiting with a time limit, in a way a stop can always interrupt.

``asyncio.wait_for`` on Python 3.11 loses a cancellation that arrives in the
same loop turn as the awaited thing completes: it returns the result instead
of raising ``CancelledError``. A worker loop waiting for its wake-up event
then carries on as if nothing had happened, and whoever cancelled it to stop
it waits for ever. ``asyncio.timeout`` counts cancellations and has no such
gap, so every wait with a limit in the node goes through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def woken(event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set (True) or ``seconds`` pass (False)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, raising ``TimeoutError`` after ``seconds``."""
    async with asyncio.timeout(seconds):
        return await awaitable
