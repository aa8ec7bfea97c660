"""The services a node process runs on, built in one place.

The serving process (``app.py``), the worker process (``background.py``) and
CLI commands that talk to other servers (``agora-node account move``) all
need the same HTTP client, signers and fetcher over the same database. They
get them from :func:`build_services`, so a change to how one is made (a new
policy, a cache) reaches every process at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from agora_node.config import Settings
from agora_node.federation.blocklist import HostBlocklist
from agora_node.federation.fetcher import Fetcher, SchemeMemory
from agora_node.federation.http import FetchPolicy, fetch_policy, make_client_session
from agora_node.federation.keys import KeyResolver
from agora_node.federation.signing import Signers
from agora_node.protocol.httpsig import SignaturePolicy
from agora_node.protocol.urls import LocalUrls
from agora_node.store.db import Database


@dataclass(frozen=True)
class Services:
    """What one process shares between its views, workers and commands."""

    settings: Settings
    db: Database
    urls: LocalUrls
    policy: FetchPolicy
    session: aiohttp.ClientSession
    signers: Signers
    schemes: SchemeMemory
    fetcher: Fetcher
    key_resolver: KeyResolver
    blocklist: HostBlocklist


def build_services(settings: Settings, db: Database) -> Services:
    """The services over an open database (call on the loop that will use them)."""
    urls = LocalUrls(settings.base_url)
    fed = settings.federation
    blocklist = HostBlocklist(
        db,
        fed.blocked_domains,
        allowlist_mode=fed.allowlist_mode,
        allowed=fed.allowed_domains,
        own_host=settings.domain,
    )
    policy = fetch_policy(settings, blocklist.is_blocked)
    session = make_client_session(policy)
    signers = Signers(db, urls)
    schemes = SchemeMemory(db, settings)
    fetcher = Fetcher(session, policy, signers, schemes)

    async def fetch_document(url: str) -> dict[str, object]:
        return (await fetcher.fetch(url)).document

    key_resolver = KeyResolver(
        db,
        fetch_document,
        refetch_after=settings.federation.key_refetch_after,
        policy=SignaturePolicy(
            max_age_seconds=settings.federation.signature_max_age,
            max_future_seconds=settings.federation.signature_max_future,
        ),
    )
    return Services(
        settings, db, urls, policy, session, signers, schemes, fetcher, key_resolver, blocklist
    )


@contextlib.asynccontextmanager
async def running_services(settings: Settings, db: Database) -> AsyncIterator[Services]:
    """:func:`build_services`, with the HTTP client closed on the way out."""
    services = build_services(settings, db)
    try:
        async with services.blocklist.running():
            yield services
    finally:
        await services.session.close()
