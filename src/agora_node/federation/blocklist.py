"""Which servers' activities the inbox refuses: the domains in the config
(``federation.blocked_domains``) and the hosts marked blocked in the database.

Checked for every inbox POST, before anything is fetched. The database half
is held in memory and re-read every ``REFRESH_SECONDS`` (a block made by
another process, such as the command line, takes effect within that time),
so the check is a set lookup on the event loop instead of a query on a
reader thread for each request (bench/inbox.py: that read was a thread hop
and an extra event-loop turn for every delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from agora_node.store import deliveries as deliveries_store
from agora_node.store.db import Database

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


def is_blocked_domain(host: str, blocked: Iterable[str]) -> bool:
    """The host (port ignored) is one of ``blocked`` or a subdomain of one."""
    bare = host.split(":")[0]
    return any(bare == d or bare.endswith("." + d) for d in blocked)


class HostBlocklist:
    def __init__(self, db: Database, configured: tuple[str, ...]) -> None:
        self._db = db
        self._configured = tuple(d.lower().rstrip(".") for d in configured)
        self._domains = self._configured

    async def refresh(self) -> None:
        hosts = await self._db.read(deliveries_store.blocked_hosts)
        # A host blocked in the database is blocked on every port, as configured domains are.
        stored = {h.split(":")[0] for h in hosts}
        self._domains = self._configured + tuple(stored - set(self._configured))

    def is_blocked(self, host: str) -> bool:
        return is_blocked_domain(host, self._domains)

    async def keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:  # the last list stays in force; try again next time
                log.exception("blocked hosts refresh failed")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        await self.refresh()
        task = asyncio.create_task(self.keep_fresh(), name="blocklist-refresh")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


HOST_BLOCKLIST = web.AppKey("host_blocklist", HostBlocklist)
