"""Real Mastodon clients (Mastodon.py and the ``toot`` CLI) against node processes.

Two nodes run as separate processes on 127.0.0.1 and 127.0.0.2. The clients
are used as a person's first session goes: register an app, sign in
(password grant, and authorization code with PKCE through the real authorize
page), post, reply, favourite, boost, delete, then find a person on the other
node by handle, follow them, and receive their post on the user stream within
a second of node A storing it, and in the home timeline.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
import requests
from mastodon import Mastodon, StreamListener
from PIL import Image

from agora_node.devnet import Devnet, LocalNode
from tests.api.test_media import photo
from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it

T = TypeVar("T")
PASSWORD = "a long enough password"
SCOPES = ["read", "write", "follow"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


def eventually(check: Callable[[], T], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    net = Devnet(tmp_path_factory.mktemp("clients"), count=2, port=free_port())
    net.init()

    async def start() -> None:
        async with aiohttp.ClientSession() as session:
            await net.start(session)

    asyncio.run(start())
    net.nodes[0].create_account("alice", PASSWORD)
    net.nodes[1].create_account("bob", PASSWORD)
    try:
        yield net
    finally:
        net.stop()


def signed_in(node: LocalNode, username: str) -> Mastodon:
    """Mastodon.py as an app would use it: register, then the password grant."""
    client_id, client_secret = Mastodon.create_app(
        "agora e2e", api_base_url=node.base_url, scopes=SCOPES
    )
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base_url)
    api.log_in(username=username, password=PASSWORD, scopes=SCOPES, allow_http=True)
    return api


def test_first_session_with_mastodon_py(pair: Devnet) -> None:
    a = pair.nodes[0]
    api = signed_in(a, "alice")
    assert api.account_verify_credentials().acct == "alice"
    assert api.instance().version.startswith("4.")
    post = api.status_post("hello from an app #fediverse", spoiler_text="a warning")
    assert post.spoiler_text == "a warning" and post.tags[0].name == "fediverse"
    reply = api.status_post("and a reply", in_reply_to_id=post.id)
    assert reply.in_reply_to_id == post.id
    assert api.status_favourite(post).favourited is True
    boost = api.status_reblog(post)
    assert boost.reblog.id == post.id
    home = [s.id for s in api.timeline_home()]
    assert home[:3] == [boost.id, reply.id, post.id]
    context = api.status_context(post)
    assert [s.id for s in context.descendants] == [reply.id]
    deleted = api.status_delete(reply)
    assert deleted.text == "and a reply"
    assert [s.id for s in api.timeline_home()][:2] == [boost.id, post.id]
    assert api.status_unfavourite(post).favourited is False
    assert api.status_unreblog(post).reblogged is False


def test_authorization_code_with_pkce_through_the_page(pair: Devnet) -> None:
    a = pair.nodes[0]
    client_id, client_secret = Mastodon.create_app(
        "agora pkce", api_base_url=a.base_url, scopes=SCOPES, redirect_uris=OOB
    )
    verifier = secrets.token_urlsafe(48)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    challenge = digest.rstrip(b"=").decode()
    query = {
        "response_type": "code", "client_id": client_id, "redirect_uri": OOB,
        "scope": " ".join(SCOPES), "state": "xyz", "code_challenge": challenge,
        "code_challenge_method": "S256",
    }  # fmt: skip
    page = requests.get(f"{a.base_url}/oauth/authorize?{urlencode(query)}", timeout=10)
    assert page.status_code == 200 and "agora pkce" in page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    form = {**hidden, "username": "alice", "password": PASSWORD, "decision": "approve"}
    shown = requests.post(f"{a.base_url}/oauth/authorize", data=form, timeout=10)
    code = re.search(r"<code>([^<]+)</code>", shown.text)
    assert shown.status_code == 200 and code is not None
    token = requests.post(
        f"{a.base_url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1),
            "redirect_uri": OOB,
            "client_id": client_id,
            "client_secret": client_secret,
            "code_verifier": verifier,
        },
        timeout=10,
    ).json()
    api = Mastodon(access_token=token["access_token"], api_base_url=a.base_url)
    assert api.account_verify_credentials().username == "alice"
    redirect = "https://app.example/back"
    other_id, _ = Mastodon.create_app(
        "agora redirect", api_base_url=a.base_url, scopes=SCOPES, redirect_uris=redirect
    )
    denied = requests.post(
        f"{a.base_url}/oauth/authorize",
        data={**hidden, "client_id": other_id, "redirect_uri": redirect, "decision": "deny"},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(denied.headers["Location"])
    assert denied.status_code == 302 and parse_qs(back.query)["error"] == ["access_denied"]


def test_find_follow_and_read_across_nodes(pair: Devnet) -> None:
    a, b = pair.nodes
    alice, bob = signed_in(a, "alice"), signed_in(b, "bob")
    handle = f"bob@{b.netloc}"
    found = alice.account_search(handle, resolve=True)
    assert [x.acct for x in found] == [handle]
    relationship = alice.account_follow(found[0].id)
    assert relationship.following or relationship.requested
    eventually(lambda: alice.account_relationships(found[0].id)[0].following)
    seen: list[tuple[float, Any]] = []

    class Listener(StreamListener):
        def on_update(self, status: Any) -> None:
            seen.append((time.monotonic(), status))

    stream = alice.stream_user(Listener(), run_async=True, timeout=30)
    try:
        time.sleep(1.0)  # the stream is open and the hub has its first marks
        post = bob.status_post("hello from the other node")
        stored_at = eventually(lambda: _arrival(a, post.uri), timeout=30.0)
        eventually(lambda: any(s.uri == post.uri for _, s in seen), timeout=5.0)
        received = next(t for t, s in seen if s.uri == post.uri)
        # From the moment node A has stored the post to the app hearing of it.
        assert received - stored_at < 1.0, received - stored_at
    finally:
        stream.close()
    arrived = eventually(
        lambda: [s for s in alice.timeline_home() if s.uri == post.uri],
    )
    assert arrived[0].account.acct == handle and "other node" in arrived[0].content
    alice_on_b = bob.account_search(f"alice@{a.netloc}", resolve=True)
    assert eventually(lambda: bob.account_relationships(alice_on_b[0].id)[0].followed_by)


def _arrival(node: LocalNode, uri: str) -> float | None:
    """When (on this clock) ``uri`` was seen stored on ``node``, or None if not yet."""
    with sqlite3.connect(node.db_path) as conn:
        row = conn.execute("SELECT 1 FROM objects WHERE uri = ?", [uri]).fetchone()
    return time.monotonic() if row else None


def test_toot_as_a_person_types_it(pair: Devnet, tmp_path: Path) -> None:
    a = pair.nodes[0]
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "NO_COLOR": "1"}
    toot = [sys.executable, "-m", "toot"]

    def run(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [*toot, *args], input=stdin, env=env, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert "Successfully logged in" in run(
        "login_cli", "-i", a.base_url, "-e", f"alice@{a.netloc}", stdin=PASSWORD + "\n"
    )
    assert "@alice" in run("whoami")
    assert "Toot posted" in run("post", "typed in a terminal")
    assert "typed in a terminal" in run("timeline")


def test_more_of_a_session_with_mastodon_py(pair: Devnet) -> None:
    """Profile, polls across nodes, lists, mutes, hashtags, search, direct
    messages, discovery: each call as Mastodon.py makes and parses it."""
    a, b = pair.nodes
    alice, bob = signed_in(a, "alice"), signed_in(b, "bob")
    me = alice.account_update_credentials(
        display_name="Alice of A", note="I grow #tomatoes", fields=[("Garden", "plot 7")]
    )
    assert me.display_name == "Alice of A" and me.source.note == "I grow #tomatoes"
    assert [(f.name, f.value) for f in me.source.fields] == [("Garden", "plot 7")]
    bob_here = alice.account_search(f"bob@{b.netloc}", resolve=True)[0]
    alice.account_follow(bob_here.id, reblogs=False, notify=True)
    relation = eventually(lambda: alice.account_relationships(bob_here.id)[0])
    assert relation.showing_reblogs is False and relation.notifying is True
    # A poll on node A, voted on from node B.
    question = alice.status_post(
        "Which #tomatoes?", poll=alice.make_poll(["Cherry", "Beefsteak"], expires_in=3600)
    )
    assert [o.title for o in question.poll.options] == ["Cherry", "Beefsteak"]
    remote = eventually(lambda: bob.search_v2(question.uri, resolve=True).statuses)
    bob.poll_vote(remote[0].poll.id, [1])
    counted = eventually(
        lambda: [o.votes_count for o in alice.poll(question.poll.id).options] == [0, 1]
    )
    assert counted
    assert eventually(
        lambda: [o.votes_count for o in bob.poll(remote[0].poll.id).options] == [0, 1]
    )
    # Lists, mutes, hashtags, search.
    garden = alice.list_create("Garden")
    alice.list_accounts_add(garden.id, [bob_here.id])
    assert [x.id for x in alice.list_accounts(garden.id)] == [bob_here.id]
    said = bob.status_post("a list-worthy post")
    eventually(lambda: [s for s in alice.timeline_list(garden.id) if s.uri == said.uri])
    alice.account_mute(bob_here.id, notifications=False)
    assert [x.id for x in alice.mutes()] == [bob_here.id]
    alice.account_unmute(bob_here.id)
    assert alice.tag_follow("tomatoes").following is True
    assert [t.name for t in alice.followed_tags()] == ["tomatoes"]
    assert alice.featured_tag_create("tomatoes").name == "tomatoes"
    found = alice.search_v2("tomatoes")
    assert "tomatoes" in [t.name for t in found.hashtags]
    assert [s.id for s in alice.timeline_hashtag("tomatoes")][:1] == [question.id]
    # A direct message is a conversation on both sides.
    alice.status_post(f"@bob@{b.netloc} just between us", visibility="direct")
    talks = eventually(lambda: bob.conversations())
    assert "just between us" in talks[0].last_status.content
    assert talks[0].unread is True
    # Discovery answers in shapes the client reads.
    assert "tomatoes" in [t.name for t in alice.trending_tags()]
    alice.trending_statuses()
    alice.trending_links()
    alice.suggestions()
    assert eventually(
        lambda: [n for n in alice.notifications(types=["status"]) if n.status.uri == said.uri]
    )


def test_a_photo_posted_with_mastodon_py_reaches_the_other_node(pair: Devnet) -> None:
    a, b = pair.nodes
    alice, bob = signed_in(a, "alice"), signed_in(b, "bob")
    upload = bob.media_post(
        photo(640, 480, orientation=6), mime_type="image/jpeg", file_name="gulls.jpg",
        description="Two gulls on the harbour wall", focus=(0.2, -0.4), synchronous=True,
    )  # fmt: skip
    assert upload.type == "image" and upload.description == "Two gulls on the harbour wall"
    assert upload.meta.focus.x == 0.2 and upload.meta.focus.y == -0.4
    post = bob.status_post("Gulls today", media_ids=[upload], sensitive=True)
    assert [m.id for m in post.media_attachments] == [upload.id]
    # What bob's node serves has no metadata left, and stands upright.
    served = requests.get(upload.url, timeout=10)
    kept = Image.open(io.BytesIO(served.content))
    assert served.headers["Content-Type"] == "image/jpeg" and kept.size == (480, 640)
    assert not kept.getexif() and b"secret place" not in served.content
    # Node A finds the post and shows the picture with its alt text.
    found = alice.search_v2(post.uri, resolve=True).statuses
    assert [s.uri for s in found] == [post.uri]
    (remote,) = found[0].media_attachments
    assert remote.description == "Two gulls on the harbour wall"
    assert remote.url == upload.url and remote.blurhash == upload.blurhash
    assert remote.meta.original.width == 480 and remote.meta.focus.x == 0.2
    assert found[0].sensitive is True
