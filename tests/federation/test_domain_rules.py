"""Instance domain blocks and allowlist mode, against a signing remote on 127.0.0.1.

Every rule is checked where it bites: the inbox (403 before any fetch), the
outgoing client (no request leaves for a refused host), the delivery queue
(given up, not retried), and what people see (marks on the accounts).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agora_node.actions import domains
from agora_node.actions.domains import Moderation
from agora_node.app import create_app
from agora_node.context import DB, HTTP, SETTINGS
from agora_node.errors import FetchError, UnprocessableEntity
from agora_node.federation.blocklist import HOST_BLOCKLIST
from agora_node.federation.http import DOMAIN_BLOCKED, fetch_bytes, post_activity
from agora_node.federation.services import FETCHER
from agora_node.processing.domain_lists import BlockSpec
from agora_node.store import accounts as accounts_store
from agora_node.store import audit, social
from agora_node.store import domain_blocks as blocks_store
from agora_node.store import objects as objects_store
from agora_node.store import reports as reports_store
from tests.conftest import add_account
from tests.federation.conftest import node_settings
from tests.federation.remote import FakeRemote
from tests.federation.test_inbox import ALICE, follow_of, post, wait_for


@pytest.fixture
async def remote2() -> AsyncIterator[FakeRemote]:
    other = await FakeRemote.start("127.0.0.2")
    yield other
    await other.close()


def moderation(client: TestClient) -> Moderation:  # type: ignore[type-arg]
    app = client.server.app
    return Moderation(app[DB], app[HOST_BLOCKLIST], app[SETTINGS].domain)


async def actor_row(client: TestClient, uri: str) -> accounts_store.ActorRow:  # type: ignore[type-arg]
    row = await client.server.app[DB].read(lambda c: accounts_store.get_actor_by_uri(c, uri))
    assert row is not None
    return row


async def follows_alice(client: TestClient, uri: str) -> bool:  # type: ignore[type-arg]
    found = await client.server.app[DB].read(lambda c: social.get_follow(c, uri, ALICE))
    return found is not None


async def test_a_suspended_domain_is_cut_off_and_comes_back_when_lifted(node, remote) -> None:  # type: ignore[no-untyped-def]
    bob = remote.add_actor("bob")
    assert (await post(node, bob, follow_of(bob))).status == 202
    await wait_for(lambda: follows_alice(node, bob.uri))
    m = moderation(node)
    domain = urlsplit(bob.uri).hostname
    assert domain == "127.0.0.1"

    result = await domains.block(
        m, BlockSpec(domain, "suspend", private_comment="spam wave"), by="mod", now=time.time()
    )
    # The account is marked, the follow ended, and the log says who did what.
    assert result.created and result.accounts_marked == 1 and result.follows_severed == 1
    assert (await actor_row(node, bob.uri)).suspended_at == result.block.created_at
    assert not await follows_alice(node, bob.uri)
    log = await node.server.app[DB].read(lambda c: audit.entries(c, limit=5))
    assert (log[0].by, log[0].action, log[0].target, log[0].reason) == (
        "mod", "domain_block", "127.0.0.1", "spam wave",
    )  # fmt: skip
    assert log[0].detail["follows_severed"] == 1

    # Inbound: refused with 403 before anything is fetched or stored.
    seen = len(remote.requests)
    again = follow_of(bob)
    resp = await post(node, bob, again)
    assert resp.status == 403
    assert len(remote.requests) == seen
    assert not await follows_alice(node, bob.uri)

    # Outbound: the client refuses the host on every path, before connecting.
    with pytest.raises(FetchError) as refused:
        await node.server.app[FETCHER].fetch(bob.uri)
    assert refused.value.public_message == DOMAIN_BLOCKED
    sent = await post_activity(
        node.server.app[HTTP], bob.inbox, b"{}", policy=node.server.app[FETCHER].policy,
        signer=lambda method, url, headers, body: headers,
    )  # fmt: skip
    assert sent.refused and sent.status is None
    assert len(remote.requests) == seen

    # Lifted: the mark it made is cleared, and the domain federates again.
    cleared = await domains.unblock(m, "127.0.0.1", by="mod", now=time.time())
    assert cleared == 1
    assert (await actor_row(node, bob.uri)).suspended_at is None
    assert (await post(node, bob, follow_of(bob))).status == 202
    await wait_for(lambda: follows_alice(node, bob.uri))
    actions = [
        e.action for e in await node.server.app[DB].read(lambda c: audit.entries(c, limit=5))
    ]
    assert actions[:2] == ["domain_unblock", "domain_block"]


async def test_a_silenced_domain_marks_its_accounts_and_unmarks_only_its_own(node, remote) -> None:  # type: ignore[no-untyped-def]
    db = node.server.app[DB]
    bob = remote.add_actor("bob")
    carol = remote.add_actor("carol")
    for who in (bob, carol):
        assert (await post(node, who, follow_of(who))).status == 202
        await wait_for(lambda who=who: follows_alice(node, who.uri))
    # carol was silenced by hand before the domain was.
    await db.write(
        lambda c: c.execute("UPDATE actors SET silenced_at = 5 WHERE uri = ?", [carol.uri])
    )
    m = moderation(node)
    result = await domains.block(m, BlockSpec("127.0.0.1", "silence"), by="mod", now=time.time())
    assert result.accounts_marked == 1 and result.follows_severed == 0
    assert (await actor_row(node, bob.uri)).silenced_at == result.block.created_at
    # An account of the domain first seen after the block gets the mark too.
    dave = remote.add_actor("dave")
    assert (await post(node, dave, follow_of(dave))).status == 202
    await wait_for(lambda: follows_alice(node, dave.uri))
    assert (await actor_row(node, dave.uri)).silenced_at == result.block.created_at
    # Silence is not a cut: the follows stay, activities are still taken in.
    assert await follows_alice(node, bob.uri)

    # Changing the severity swaps the marks; lifting clears only the block's.
    changed = await domains.block(m, BlockSpec("127.0.0.1", "noop", reject_media=True),
                                  by="mod", now=time.time())  # fmt: skip
    assert not changed.created
    assert (await actor_row(node, bob.uri)).silenced_at is None
    assert node.server.app[HOST_BLOCKLIST].rejects_media("127.0.0.1:9")
    assert not node.server.app[HOST_BLOCKLIST].is_blocked("127.0.0.1:9")
    await domains.block(m, BlockSpec("127.0.0.1", "silence"), by="mod", now=time.time())
    await domains.unblock(m, "127.0.0.1", by="mod", now=time.time())
    assert (await actor_row(node, bob.uri)).silenced_at is None
    assert (await actor_row(node, dave.uri)).silenced_at is None
    assert (await actor_row(node, carol.uri)).silenced_at == 5


async def test_suspending_drops_pending_deliveries_and_refuses_new_ones(node, remote) -> None:  # type: ignore[no-untyped-def]
    db = node.server.app[DB]
    bob = remote.add_actor("bob")
    remote.inbox_status = 503  # bob's server is down: deliveries wait for a retry
    assert (await post(node, bob, follow_of(bob))).status == 202
    await wait_for(lambda: follows_alice(node, bob.uri))

    async def waiting() -> int:
        rows = await db.read(
            lambda c: c.execute(
                "SELECT count(*) FROM deliveries WHERE state IN ('pending', 'running')"
            ).fetchone()
        )
        return int(rows[0])

    await wait_for(waiting)
    result = await domains.block(
        moderation(node), BlockSpec("127.0.0.1", "suspend"), by="mod", now=time.time()
    )
    assert result.deliveries_dropped >= 1
    assert await waiting() == 0


async def test_blocks_cover_subdomains_and_refuse_bad_names(node) -> None:  # type: ignore[no-untyped-def]
    m = moderation(node)
    rules = node.server.app[HOST_BLOCKLIST]
    await domains.block(m, BlockSpec("*.Example.COM.", "suspend"), by="mod", now=time.time())
    assert [b.domain for b in await domains.blocks(m)] == ["example.com"]
    for host in ("example.com", "social.example.com", "a.b.example.com:8443"):
        assert rules.is_blocked(host), host
    for host in ("notexample.com", "example.co", "com"):
        assert not rules.is_blocked(host), host
    for bad in ("https://example.org/path", "exa mple.org", "", "-x.org", "a..b"):
        with pytest.raises(UnprocessableEntity):
            await domains.block(m, BlockSpec(bad, "suspend"), by="mod", now=time.time())
    with pytest.raises(UnprocessableEntity, match="own domain"):
        await domains.block(m, BlockSpec(node.server.app[SETTINGS].domain, "suspend"),
                            by="mod", now=time.time())  # fmt: skip
    # Unicode names are kept in their IDNA form, as hosts arrive.
    await domains.block(m, BlockSpec("bücher.example", "silence"), by="mod", now=time.time())
    assert "xn--bcher-kva.example" in [b.domain for b in await domains.blocks(m)]


async def test_ten_thousand_blocks_cost_a_few_lookups(node) -> None:  # type: ignore[no-untyped-def]
    db = node.server.app[DB]
    now = time.time()

    def many(c: Any) -> None:
        c.conn.executemany(
            "INSERT INTO domain_blocks (domain, severity, created_at, updated_at) "
            "VALUES (?, 'suspend', ?, ?)",
            [(f"spam{i}.example", now, now) for i in range(10_000)],
        )

    await db.write(many)
    rules = node.server.app[HOST_BLOCKLIST]
    await rules.refresh()
    assert rules.is_blocked("x.spam9999.example")
    started = time.perf_counter()
    for _ in range(10_000):
        rules.is_blocked("mastodon.social")
    assert time.perf_counter() - started < 0.5  # a scan of 10,000 names each would take seconds


async def test_allowlist_mode_federates_with_the_listed_domains_only(
    aiohttp_client, tmp_path, remote, remote2
) -> None:  # type: ignore[no-untyped-def]
    settings = node_settings(
        tmp_path, remote, allowlist_mode=True, allowed_domains=["127.0.0.2"],
        plain_http_hosts=[remote.netloc, remote2.netloc],
    )  # fmt: skip
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice")
    bob = remote.add_actor("bob")  # on 127.0.0.1: not listed
    erin = remote2.add_actor("erin")  # on 127.0.0.2: allowed by the config
    resp = await post(client, bob, follow_of(bob))
    assert resp.status == 403 and remote.requests == []
    assert (await post(client, erin, follow_of(erin))).status == 202
    await wait_for(lambda: follows_alice(client, erin.uri))
    # An admin's allow opens a domain as well; withdrawing it closes it again.
    m = moderation(client)
    allowed = await domains.allow(m, "127.0.0.1", by="mod", now=time.time())
    assert (await post(client, bob, follow_of(bob))).status == 202
    await domains.disallow(m, allowed.id, by="mod", now=time.time())
    assert (await post(client, bob, follow_of(bob))).status == 403
    with pytest.raises(FetchError):
        await client.server.app[FETCHER].fetch(bob.uri)


async def test_purge_forgets_a_suspended_domain(node, remote) -> None:  # type: ignore[no-untyped-def]
    db = node.server.app[DB]
    bob = remote.add_actor("bob")
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": bob.new_id("activities"),
        "type": "Create",
        "actor": bob.uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": bob.new_id("notes"), "type": "Note", "attributedTo": bob.uri,
            "content": "buy now", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [ALICE], "tag": [{"type": "Mention", "href": ALICE}],
        },
    }  # fmt: skip
    assert (await post(node, bob, note)).status == 202
    note_uri = note["object"]["id"]

    async def live() -> bool:
        row = await db.read(
            lambda c: c.execute(
                "SELECT 1 FROM objects WHERE uri = ? AND deleted_at IS NULL", [note_uri]
            ).fetchone()
        )
        return row is not None

    await wait_for(live)
    m = moderation(node)
    await domains.block(m, BlockSpec("127.0.0.1", "silence"), by="mod", now=time.time())
    with pytest.raises(UnprocessableEntity, match="not suspended"):
        await domains.purge(m, "127.0.0.1", by="mod", now=time.time())
    await domains.block(m, BlockSpec("127.0.0.1", "suspend"), by="mod", now=time.time())
    assert await domains.purge(m, "127.0.0.1", by="mod", now=time.time()) == 1
    assert not await live()
    entry = (await db.read(lambda c: audit.entries(c, limit=1)))[0]
    assert (entry.action, entry.detail) == ("domain_purge", {"accounts": 1})
    # Nothing of the block itself was lost.
    assert [b.severity for b in await domains.blocks(m)] == ["suspend"]


async def test_flags_land_in_the_queue_unless_the_domain_rejects_reports(node, remote) -> None:  # type: ignore[no-untyped-def]
    db = node.server.app[DB]
    own_post = f"{ALICE}/statuses/1"
    await db.write(
        lambda c: objects_store.insert_object(
            c, {"uri": own_post, "type": "Note", "actor_uri": ALICE, "local": 1,
                "visibility": "public", "content": "hi", "published": 1.0, "data": {}},
        )
    )  # fmt: skip
    instance = remote.add_actor("instance")

    def flag(n: int, *objects: str) -> dict[str, Any]:
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": instance.new_id(f"flags/{n}"),
            "type": "Flag",
            "actor": instance.uri,
            "content": "<p>harassing our users</p>",
            "object": list(objects),
        }

    assert (await post(node, instance, flag(1, ALICE, own_post, "https://elsewhere.example/x"))
            ).status == 202  # fmt: skip

    async def stored_reports() -> list[Any]:
        return await db.read(
            lambda c: reports_store.page_of_reports(c, resolved=None, lower=0, upper=2**62,
                                                     limit=10)
        )  # fmt: skip

    (report,) = await wait_for(stored_reports)
    assert (report.target_uri, report.status_uris) == (ALICE, (own_post,))
    assert report.comment == "harassing our users" and not report.local
    assert report.reporter_uri == instance.uri
    # A post alone names its author as the reported account.
    assert (await post(node, instance, flag(2, own_post))).status == 202
    await wait_for(lambda: _count_is(stored_reports, 2))
    # With reject_reports, the server's reports are taken and dropped at the door.
    await domains.block(
        moderation(node), BlockSpec("127.0.0.1", "noop", reject_reports=True), by="mod",
        now=time.time(),
    )  # fmt: skip
    assert (await post(node, instance, flag(3, ALICE))).status == 202
    await wait_for(lambda: node_idle(node))
    assert len(await stored_reports()) == 2


async def _count_is(read: Callable[[], Any], n: int) -> bool:
    return len(await read()) == n


async def node_idle(client: TestClient) -> bool:  # type: ignore[type-arg]
    rows = await client.server.app[DB].read(
        lambda c: c.execute(
            "SELECT count(*) FROM jobs WHERE state IN ('pending', 'running')"
        ).fetchone()
    )
    return int(rows[0]) == 0


class ListServer:
    """A server on 127.0.0.1 publishing a block list (changed as a test goes)."""

    def __init__(self) -> None:
        self.text = ""
        self.status = 200
        self.server: TestServer | None = None

    async def start(self) -> str:
        app = web.Application()

        async def serve(_: web.Request) -> web.Response:
            return web.Response(status=self.status, text=self.text, content_type="text/csv")

        app.router.add_get("/blocklist.csv", serve)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return f"http://127.0.0.1:{self.server.port}/blocklist.csv"


async def test_a_subscribed_list_is_followed_with_a_record_of_each_refresh(
    aiohttp_client, tmp_path, remote
) -> None:  # type: ignore[no-untyped-def]
    lists = ListServer()
    url = await lists.start()
    settings = node_settings(tmp_path, remote, plain_http_hosts=[remote.netloc, url.split("/")[2]])
    client = await aiohttp_client(create_app(settings))
    app = client.server.app
    m = moderation(client)

    async def fetch(address: str) -> bytes:
        return await fetch_bytes(
            app[HTTP], address, policy=app[FETCHER].policy, max_bytes=domains.MAX_LIST_BYTES,
            accept="text/csv",
        )  # fmt: skip

    header = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    lists.text = (
        header
        + "spam.example,suspend,false,false,spam,false\nloud.example,silence,false,false,,false\n"
    )
    # An admin's own block of a listed domain stays theirs.
    await domains.block(m, BlockSpec("loud.example", "suspend"), by="mod", now=time.time())
    sub = await domains.subscribe(m, url, by="mod", now=time.time())
    planned = await domains.plan_refresh(m, sub, fetch)
    assert [c.describe() for c in planned] == ["add spam.example (suspend)"]
    assert len(await domains.blocks(m)) == 1  # a dry run changes nothing
    await domains.refresh(m, sub, fetch, by="mod", now=time.time())
    blocks = {b.domain: b for b in await domains.blocks(m)}
    assert blocks["spam.example"].subscription_id == sub.id
    assert (
        blocks["loud.example"].subscription_id is None
        and blocks["loud.example"].severity == "suspend"
    )
    assert app[HOST_BLOCKLIST].is_blocked("spam.example")
    # The list changes: one gone, one new, one changed; the refresh says so.
    lists.text = (
        header + "spam.example,silence,false,false,,false\nnew.example,suspend,true,false,,false\n"
    )
    changes = await domains.refresh(m, sub, fetch, by="mod", now=time.time())
    assert sorted(c.describe() for c in changes) == [
        "add new.example (suspend, reject_media)",
        "change spam.example: suspend -> silence",
    ]
    lists.text = header + "new.example,suspend,true,false,,false\n"
    changes = await domains.refresh(m, sub, fetch, by="mod", now=time.time())
    assert [c.describe() for c in changes] == ["remove spam.example (silence)"]
    records = await app[DB].read(lambda c: blocks_store.refreshes_of(c, sub.id, 10))
    assert [len(r.changes) for r in records] == [1, 2, 1]
    # A failed fetch is recorded and changes nothing.
    lists.status = 404
    with pytest.raises(FetchError):
        await domains.refresh(m, sub, fetch, by="mod", now=time.time())
    (after,) = await domains.subscriptions(m)
    assert after.last_error
    assert {b.domain for b in await domains.blocks(m)} == {"new.example", "loud.example"}
    # Unsubscribing lifts the list's blocks, not the admin's.
    assert await domains.unsubscribe(m, after, by="mod", now=time.time()) == 1
    assert [b.domain for b in await domains.blocks(m)] == ["loud.example"]
    assert lists.server is not None
    await lists.server.close()
