"""Which servers this node federates with: the edge's copy of the domain rules.

A host is refused when it is, or is under, a domain the config blocks
(``federation.blocked_domains``) or an admin's domain block of severity
``suspend`` names; in allowlist mode (``federation.allowlist_mode``), also
when no allowed domain covers it. Refused means: its inbox deliveries get
403 before anything is fetched, and no request goes out to it (fetches,
deliveries, WebFinger, media: the outgoing client asks :meth:`is_blocked` on
every hop). Media from a ``reject_media`` domain is not copied or shown.

The database half is held in memory and re-read every ``REFRESH_SECONDS``
(a block made by another process, such as the command line, takes effect
within that time; one made by this process at once, through
:meth:`refresh`). A check is a few set lookups, one for each suffix of the
host, so ten thousand blocks cost what ten do (bench/inbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from agora_node.store import domain_blocks as blocks_store
from agora_node.store.db import Database
from agora_node.store.domain_blocks import suffixes

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


def _normal(domains: Iterable[str]) -> frozenset[str]:
    return frozenset(d.lower().rstrip(".") for d in domains if d)


def is_blocked_domain(host: str, blocked: Iterable[str]) -> bool:
    """The host (port ignored) is one of ``blocked`` or a subdomain of one."""
    names = blocked if isinstance(blocked, frozenset | set) else _normal(blocked)
    return any(s in names for s in suffixes(host))


class HostBlocklist:
    def __init__(
        self,
        db: Database | None,
        configured: tuple[str, ...],
        *,
        allowlist_mode: bool = False,
        allowed: tuple[str, ...] = (),
        own_host: str = "",
    ) -> None:
        self._db = db
        self._configured = _normal(configured)
        self._allowlist_mode = allowlist_mode
        self._configured_allowed = _normal(allowed)
        self._own = own_host.split(":")[0].lower()
        self._suspended = self._configured
        self._allowed = self._configured_allowed
        self._reject_media: frozenset[str] = frozenset()
        self._reject_reports: frozenset[str] = frozenset()
        self._read_at = 0.0

    async def refresh(self) -> None:
        if self._db is None:
            return
        self._read_at = time.monotonic()
        rules = await self._db.read(blocks_store.federation_rules)
        self._suspended = self._configured | _normal(rules.suspended)
        self._allowed = self._configured_allowed | _normal(rules.allowed)
        self._reject_media = self._suspended | _normal(rules.reject_media)
        self._reject_reports = self._suspended | _normal(rules.reject_reports)

    async def still_refuses(self, host: str) -> bool:
        """Asked before giving up on a host: the rules re-read first (at most once
        a second), so a block lifted by another process a moment ago does not
        cost the deliveries made in that moment."""
        if time.monotonic() - self._read_at >= 1.0:
            await self.refresh()
        return self.is_blocked(host)

    @staticmethod
    def _covers(names: frozenset[str], host: str) -> bool:
        return bool(names) and any(s in names for s in suffixes(host))

    def is_blocked(self, host: str) -> bool:
        """No federation with ``host``: suspended, or not allowed in allowlist mode."""
        if self._covers(self._suspended, host):
            return True
        if not self._allowlist_mode:
            return False
        bare = host.split(":")[0].lower()
        return bare != self._own and not self._covers(self._allowed, host)

    def rejects_media(self, host: str) -> bool:
        return self.is_blocked(host) or self._covers(self._reject_media, host)

    def rejects_reports(self, host: str) -> bool:
        return self.is_blocked(host) or self._covers(self._reject_reports, host)

    async def keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:  # the last list stays in force; try again next time
                log.exception("domain rules refresh failed")

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HostBlocklist]:
        await self.refresh()
        task = asyncio.create_task(self.keep_fresh(), name="blocklist-refresh")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


HOST_BLOCKLIST = web.AppKey("host_blocklist", HostBlocklist)
