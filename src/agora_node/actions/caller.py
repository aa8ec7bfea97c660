"""Who acts, and the tools an action needs to resolve what it names.

A surface builds one ``Caller`` per request from its own wiring (the app's
database, resolver and clock); actions take it first, as processing
functions take their context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlite_utils

from agora_node.federation.resolve import Resolver
from agora_node.processing.outbound import OutboundContext, Sent
from agora_node.protocol.urls import LocalUrls
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """A local account acting now, with the node's database and resolver."""

    db: Database
    resolver: Resolver
    urls: LocalUrls
    domain: str
    account: AccountRow
    now: float
    # The instance's posting policy (``media.require_alt_text``).
    require_alt_text: bool = False

    @property
    def actor_uri(self) -> str:
        return self.account.actor.uri if self.account.actor else ""

    async def write(
        self,
        action: Callable[[sqlite_utils.Database, OutboundContext, AccountRow, T], Sent],
        arg: T,
        fetched: Mapping[str, dict[str, Any]] | None = None,
    ) -> Sent:
        """Run one processing action in one write transaction."""
        ctx = self.context(fetched)
        return await self.db.write(lambda db: action(db, ctx, self.account, arg))

    def context(self, fetched: Mapping[str, dict[str, Any]] | None = None) -> OutboundContext:
        """What a processing action run for this caller knows beyond the database."""
        return OutboundContext(
            self.urls, self.domain, self.now, fetched or {}, self.require_alt_text
        )
