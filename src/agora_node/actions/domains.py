"""What an admin does to other servers: domain blocks, allows, imports, purges.

One set of actions under the CLI, the admin API and the admin pages. Each
change is one transaction with its record in the moderation log
(``store/audit.py``), and is in force in this process at once (the edge's
rules are re-read) and in the others within seconds.

A ``suspend`` block cuts the domain off: its deliveries are refused with
403 before anything is fetched, nothing is sent or fetched there, its
accounts are marked suspended (their posts hidden from everyone), follows
both ways end and pending deliveries to it are dropped. What was stored
from it stays until the admin purges it (:func:`purge`), so a block made in
error can be lifted. A ``silence`` block marks its accounts silenced: their
posts reach their followers only, not the public timelines, and mentions
from them reach only those who follow them. ``noop`` carries the flags
(``reject_media``, ``reject_reports``) alone.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import sqlite_utils

from agora_node.errors import AgoraError, NotFound, UnprocessableEntity
from agora_node.federation.blocklist import HostBlocklist
from agora_node.federation.http import FetchPolicy, fetch_bytes
from agora_node.processing.domain_lists import BlockSpec, Change, normal_domain, parse_list, plan
from agora_node.processing.inbound_notes import forget_actor
from agora_node.store import audit
from agora_node.store import domain_blocks as store
from agora_node.store.db import Database
from agora_node.store.domain_blocks import DomainAllowRow, DomainBlockRow, SubscriptionRow

SEVERITIES = store.SEVERITIES
# Actors forgotten per transaction by a purge (a big domain is many short writes).
PURGE_BATCH = 100


@dataclass(frozen=True)
class Moderation:
    """Where domain actions act: the database, the edge's live rules, this node's host."""

    db: Database
    rules: HostBlocklist | None
    own_domain: str

    async def in_force(self) -> None:
        if self.rules is not None:
            await self.rules.refresh()


@dataclass(frozen=True)
class BlockResult:
    block: DomainBlockRow
    created: bool
    accounts_marked: int
    follows_severed: int
    deliveries_dropped: int


def spec_of(row: DomainBlockRow) -> BlockSpec:
    return BlockSpec(**{f.name: getattr(row, f.name) for f in fields(BlockSpec)})


def digest(domain: str) -> str:
    """SHA-256 of the domain, hex: how Mastodon lets others match an obfuscated block."""
    return hashlib.sha256(domain.encode()).hexdigest()


def checked_spec(m: Moderation, spec: BlockSpec) -> BlockSpec:
    domain = normal_domain(spec.domain)
    own = m.own_domain.split(":")[0].lower()
    if domain == own or own.endswith("." + domain):
        raise UnprocessableEntity("this node cannot block its own domain")
    if spec.severity not in SEVERITIES:
        raise UnprocessableEntity(f"severity must be one of {', '.join(SEVERITIES)}")
    if len(spec.public_comment) > 1000 or len(spec.private_comment) > 1000:
        raise UnprocessableEntity("comments are limited to 1000 characters")
    return replace(
        spec,
        domain=domain,
        public_comment=spec.public_comment.strip(),
        private_comment=spec.private_comment.strip(),
    )


def _apply_block(
    c: sqlite_utils.Database,
    spec: BlockSpec,
    by: str,
    now: float,
    subscription_id: int | None = None,
) -> BlockResult:
    before = store.block_by_domain(c, spec.domain)
    if before is not None:
        store.unmark_domain_actors(c, before)
    row = store.put_block(c, **asdict(spec), now=now, subscription_id=subscription_id)
    marked = store.mark_domain_actors(c, row)
    severed = dropped = 0
    if row.severity == "suspend":
        severed = store.sever_follows(c, row.domain)
        dropped = store.drop_deliveries(c, row.domain)
    result = BlockResult(row, before is None, marked, severed, dropped)
    audit.record(
        c,
        by=by,
        action="domain_block" if before is None else "domain_block_change",
        target=row.domain,
        reason=row.private_comment,
        now=now,
        detail=_block_detail(result, before),
    )
    return result


def _block_detail(result: BlockResult, before: DomainBlockRow | None) -> dict[str, Any]:
    b = result.block
    detail: dict[str, Any] = {
        "severity": b.severity,
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "obfuscate": b.obfuscate,
        "public_comment": b.public_comment,
        "accounts_marked": result.accounts_marked,
        "follows_severed": result.follows_severed,
        "deliveries_dropped": result.deliveries_dropped,
    }
    if before is not None:
        detail["severity_before"] = before.severity
    return detail


def _remove_block(c: sqlite_utils.Database, row: DomainBlockRow, by: str, now: float) -> int:
    cleared = store.unmark_domain_actors(c, row)
    store.delete_block(c, row.id)
    audit.record(
        c,
        by=by,
        action="domain_unblock",
        target=row.domain,
        now=now,
        detail={"severity": row.severity, "accounts_unmarked": cleared},
    )
    return cleared


async def block(m: Moderation, spec: BlockSpec, *, by: str, now: float) -> BlockResult:
    """Block a domain, or change its block (severity, flags, comments)."""
    checked = checked_spec(m, spec)
    result = await m.db.write(lambda c: _apply_block(c, checked, by, now))
    await m.in_force()
    return result


async def find_block(m: Moderation, domain_or_id: str | int) -> DomainBlockRow:
    if isinstance(domain_or_id, int):
        row = await m.db.read(lambda c: store.block_by_id(c, domain_or_id))
        if row is None:
            raise NotFound("no such domain block")
        return row
    domain = normal_domain(domain_or_id)
    found = await m.db.read(lambda c: store.block_by_domain(c, domain))
    if found is None:
        raise NotFound(f"{domain} is not blocked")
    return found


async def unblock(m: Moderation, domain_or_id: str | int, *, by: str, now: float) -> int:
    """Lift a block; the accounts it marked are unmarked. How many were."""
    row = await find_block(m, domain_or_id)
    cleared = await m.db.write(lambda c: _remove_block(c, row, by, now))
    await m.in_force()
    return cleared


async def blocks(m: Moderation) -> list[DomainBlockRow]:
    return await m.db.read(store.list_blocks)


async def plan_import(m: Moderation, text: str, *, remove_missing: bool = False) -> list[Change]:
    """What importing ``text`` would change (nothing is written)."""
    wanted = [checked_spec(m, s) for s in parse_list(text)]
    current = [spec_of(r) for r in await blocks(m)]
    return plan(current, wanted, remove_missing=remove_missing)


async def apply_changes(
    m: Moderation,
    changes: list[Change],
    *,
    by: str,
    now: float,
    source: str,
    subscription: SubscriptionRow | None = None,
) -> None:
    """Apply planned changes in one transaction, with one record for the
    import and one for each block it made, changed or lifted."""
    owner = subscription.id if subscription is not None else None

    def write(c: sqlite_utils.Database) -> None:
        for change in changes:
            if change.action == "remove":
                row = store.block_by_domain(c, change.spec.domain)
                if row is not None:
                    _remove_block(c, row, by, now)
            else:
                _apply_block(c, change.spec, by, now, owner)
        audit.record(
            c,
            by=by,
            action="domain_import" if subscription is None else "domain_subscription_refresh",
            target=source,
            now=now,
            detail={"changes": [ch.describe() for ch in changes]},
        )
        if subscription is not None:
            store.record_refresh(
                c, subscription.id, at=now, changes=[ch.describe() for ch in changes], error=None
            )

    await m.db.write(write)
    await m.in_force()


async def purge(m: Moderation, domain: str, *, by: str, now: float) -> int:
    """Forget what was stored from a suspended domain: its accounts' posts
    tombstoned, their boosts, likes, follows and notifications gone. Only
    for a domain under a ``suspend`` block; how many accounts were purged."""
    row = await find_block(m, domain)
    if row.severity != "suspend":
        raise UnprocessableEntity(
            f"{row.domain} is not suspended; only a suspended domain is purged"
        )
    uris = await m.db.read(lambda c: store.actors_on_domain(c, row.domain))

    for start in range(0, len(uris), PURGE_BATCH):
        batch = uris[start : start + PURGE_BATCH]
        await m.db.write(functools.partial(_forget_all, uris=batch, now=now))
    await m.db.write(
        lambda c: audit.record(
            c, by=by, action="domain_purge", target=row.domain, now=now,
            detail={"accounts": len(uris)},
        )
    )  # fmt: skip
    return len(uris)


def _forget_all(c: sqlite_utils.Database, *, uris: list[str], now: float) -> None:
    for uri in uris:
        forget_actor(c, uri, now)


# -- subscriptions to published block lists ------------------------------------------

# The largest block list fetched (a list of 100,000 domains is about 5 MB).
MAX_LIST_BYTES = 8 * 1024 * 1024
LIST_TYPES = "text/csv, application/json;q=0.9, text/plain;q=0.8"
Fetch = Callable[[str], Awaitable[bytes]]


def list_fetcher(session: aiohttp.ClientSession, policy: FetchPolicy) -> Fetch:
    """How block lists are fetched: the node's guarded client, its limits."""

    async def fetch(url: str) -> bytes:
        return await fetch_bytes(
            session, url, policy=policy, max_bytes=MAX_LIST_BYTES, accept=LIST_TYPES
        )

    return fetch


def checked_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnprocessableEntity(f"{url!r} is not an http(s) address of a block list")
    return url.strip()


async def subscribe(m: Moderation, url: str, *, by: str, now: float) -> SubscriptionRow:
    address = checked_url(url)

    def write(c: sqlite_utils.Database) -> SubscriptionRow:
        row = store.add_subscription(c, address, now)
        audit.record(c, by=by, action="domain_subscribe", target=address, now=now)
        return row

    return await m.db.write(write)


async def subscriptions(m: Moderation) -> list[SubscriptionRow]:
    return await m.db.read(store.subscriptions)


async def find_subscription(m: Moderation, url_or_id: str) -> SubscriptionRow:
    for row in await subscriptions(m):
        if url_or_id in (row.url, str(row.id)):
            return row
    raise NotFound(f"no subscription to {url_or_id}")


async def plan_refresh(m: Moderation, sub: SubscriptionRow, fetch: Fetch) -> list[Change]:
    """What the list's current text would change: adds and changes of the blocks
    this subscription made, and the lifting of those it no longer lists. A
    domain the admin blocked by hand (or another list did) is left as it is."""
    try:
        text = (await fetch(sub.url)).decode("utf-8")
    except UnicodeDecodeError:
        raise UnprocessableEntity("the block list is not UTF-8 text") from None
    wanted = [checked_spec(m, s) for s in parse_list(text)]
    every = await m.db.read(store.list_blocks)
    others = {b.domain for b in every if b.subscription_id != sub.id}
    mine = [spec_of(b) for b in every if b.subscription_id == sub.id]
    return plan(mine, [w for w in wanted if w.domain not in others], remove_missing=True)


async def refresh(
    m: Moderation, sub: SubscriptionRow, fetch: Fetch, *, by: str, now: float
) -> list[Change]:
    """Fetch the list and apply what changed; a failure is recorded, nothing changes."""
    try:
        changes = await plan_refresh(m, sub, fetch)
    except AgoraError as exc:
        reason = exc.public_message
        await m.db.write(
            lambda c: store.record_refresh(c, sub.id, at=now, changes=[], error=reason)
        )
        raise
    await apply_changes(m, changes, by=by, now=now, source=sub.url, subscription=sub)
    return changes


async def unsubscribe(m: Moderation, sub: SubscriptionRow, *, by: str, now: float) -> int:
    """End a subscription and lift the blocks it made; how many were lifted."""

    def write(c: sqlite_utils.Database) -> int:
        made = store.blocks_of_subscription(c, sub.id)
        for row in made:
            _remove_block(c, row, by, now)
        store.delete_subscription(c, sub.id)
        audit.record(c, by=by, action="domain_unsubscribe", target=sub.url, now=now,
                     detail={"blocks_lifted": len(made)})  # fmt: skip
        return len(made)

    lifted = await m.db.write(write)
    await m.in_force()
    return lifted


# -- allows -----------------------------------------------------------------------


async def allow(m: Moderation, domain: str, *, by: str, now: float) -> DomainAllowRow:
    name = normal_domain(domain)

    def write(c: sqlite_utils.Database) -> DomainAllowRow:
        row = store.put_allow(c, name, now)
        audit.record(c, by=by, action="domain_allow", target=name, now=now)
        return row

    row = await m.db.write(write)
    await m.in_force()
    return row


async def disallow(m: Moderation, allow_id: int, *, by: str, now: float) -> DomainAllowRow:
    row = await m.db.read(lambda c: store.allow_by_id(c, allow_id))
    if row is None:
        raise NotFound("no such domain allow")

    def write(c: sqlite_utils.Database) -> None:
        store.delete_allow(c, row.id)
        audit.record(c, by=by, action="domain_disallow", target=row.domain, now=now)

    await m.db.write(write)
    await m.in_force()
    return row


async def allows(m: Moderation) -> list[DomainAllowRow]:
    return await m.db.read(store.list_allows)


async def find_allow(m: Moderation, domain: str) -> DomainAllowRow:
    name = normal_domain(domain)
    for row in await m.db.read(store.list_allows):
        if row.domain == name:
            return row
    raise NotFound(f"{name} is not allowed")
