"""Importing the accounts a person followed elsewhere, from Mastodon's CSV export.

``start_follows_import`` reads the file (``processing.exports``) and stores
one row per account in one transaction; the ``Importer`` of the serving
process then follows them one by one through the same follow action as
every surface (WebFinger lookup, Follow sent, boosts and notifications set
as the file says). A row that cannot be followed (no such account, a server
that does not answer, a block) is marked failed with the reason, and the
others go on; a restart takes up the rows still pending. Accounts already
followed count as done and are not followed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

import sqlite_utils

from agora_node.actions import social
from agora_node.actions.caller import Caller
from agora_node.aio import within
from agora_node.errors import AgoraError, UnprocessableEntity
from agora_node.federation.resolve import Resolver
from agora_node.processing.exports import read_follows_csv
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store import imports as imports_store
from agora_node.store import social as social_store
from agora_node.store.db import Database

log = logging.getLogger(__name__)

FOLLOWS = "following"
# One account's lookup and Follow may take this long before the row fails.
ROW_TIMEOUT = 30.0
# Rows taken from the table at a time; they are followed one after another.
BATCH = 20


async def start_follows_import(caller: Caller, data: bytes) -> int:
    """Queue the follows ``data`` lists for the caller; the import's id."""
    wanted = read_follows_csv(data)
    me = caller.account.id

    def write(c: sqlite_utils.Database) -> int:
        if imports_store.has_unfinished_import(c, me):
            raise UnprocessableEntity("an import is still running; wait until it ends")
        rows = [(w.address, w.show_reblogs, w.notify) for w in wanted]
        return imports_store.insert_import(c, me, FOLLOWS, rows, caller.now)

    return await caller.db.write(write)


class Importer:
    """Works through pending import rows in the serving process, woken by ``wake``."""

    def __init__(
        self,
        db: Database,
        resolver: Resolver,
        urls: LocalUrls,
        domain: str,
        delivered: Callable[[], None],
    ) -> None:
        self._db, self._resolver, self._urls, self._domain = db, resolver, urls, domain
        self._delivered = delivered
        self.wake = asyncio.Event()

    async def _caller(self, account_id: int) -> Caller | None:
        account = await self._db.read(lambda c: accounts_store.get_account_by_id(c, account_id))
        if account is None or account.deleted_at is not None or account.suspended_at is not None:
            return None
        return Caller(self._db, self._resolver, self._urls, self._domain, account, time.time())

    async def _follow(self, caller: Caller, row: imports_store.ImportRow) -> None:
        target = await social.account_named(caller, row.address)
        me = caller.actor_uri
        existing = await self._db.read(lambda c: social_store.get_follow(c, me, target.uri))
        if existing is None:
            sent = await social.follow(caller, target.uri)
            if sent.deliveries:
                self._delivered()
        if row.show_reblogs is not None or row.notify is not None:
            await social.follow_options(
                caller, target.uri, reblogs=row.show_reblogs, notify=row.notify
            )

    async def _finish(self, row: imports_store.ImportRow, error: str | None) -> None:
        now = time.time()
        await self._db.write(
            lambda c: imports_store.finish_row(c, row.id, row.import_id, error, now)
        )

    async def run_once(self) -> int:
        """Follow the next batch of pending rows; how many were taken."""
        rows = await self._db.read(lambda c: imports_store.next_pending_rows(c, BATCH))
        for row in rows:
            error: str | None = None
            caller = await self._caller(row.account_id)
            if caller is None:
                error = "the account is closed"
            else:
                try:
                    await within(self._follow(caller, row), ROW_TIMEOUT)
                except AgoraError as exc:
                    error = exc.public_message
                except TimeoutError:
                    error = "its server did not answer in time"
                except Exception:
                    log.exception("import row %s failed", row.id)
                    error = "internal error"
            await self._finish(row, error)
        return len(rows)

    async def run(self) -> None:
        while True:
            self.wake.clear()
            try:
                taken = await self.run_once()
            except Exception:  # the database is busy or closing: try again soon
                log.exception("the importer stopped a batch")
                await asyncio.sleep(5)
                continue
            if taken == 0:
                await self.wake.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Importer]:
        task = asyncio.create_task(self.run(), name="follows-importer")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
