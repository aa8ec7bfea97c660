"""The server-rendered web pages: the home timeline, the front page, and their weight.

Run: ``.venv/bin/python bench/web_pages.py``. Prints:

- web_home_p50_ms: ``GET /home`` (the HTML page, with its compose form) for a
  signed-in person, from a node process serving the 1,000,000-post database
  of ``bench/timeline.py`` (an account following 1,000 of 5,000 actors): the
  first page, the two after it, and pages deep in the past by ``max_id``, one
  request at a time on a keep-alive connection. The person signs in through
  the real form (``GET /auth/sign_in`` for the ``agora_csrf`` cookie and the
  hidden ``csrf`` field, ``POST /auth/sign_in``, the ``agora_session``
  cookie). ``baseline`` is ``GET /api/v1/timelines/home`` for the very same
  page of statuses (same ``limit`` and ``max_id``; the ids are checked equal)
  on the same node, alternating with the page request by request. Both
  sides ask for 40 statuses a page (``?limit=40``, the largest page either
  serves). Ratio is baseline/ours; the targets are a p50 under 20 ms and a ratio of at
  least 0.5 (within 2x of the API).
- web_front_p50_ms: ``GET /`` unauthenticated (a first visit, no cookies),
  with its preview of five local posts, on the same node. ``baseline`` is a
  bare aiohttp handler in its own process answering with a static HTML body
  of the same size (the front page's own bytes). Target: a p50 under 10 ms.
- web_page_weight_kb: what a browser loads for the home page of a fresh
  account with an empty home: the ``/home`` HTML plus ``/static/agora.css``,
  ``/static/agora.js`` and ``/theme.css``, in KB (1024 bytes, as served: the
  node does not compress). ``baseline`` is the 100 KB budget; ratio is
  budget/ours (at least 1 means within budget).

The database is built once by ``bench/timeline.py`` (kept in
``$AGORA_BENCH_DIR``); this script adds to it what it lacks, once: the
``me`` account (as ``bench/api_home.py`` does), a ``fresh`` account that
follows nobody, and a ``town`` account with five public posts for the front
page (nobody follows it, so the other benches' timelines are unchanged).
``AGORA_BENCH_SMOKE=1`` uses a new tiny node instead (``me`` has posted a
page and a half of its own statuses) and a few requests per figure.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp
from _common import PASSWORD, SMOKE, BareServer, NodeProcess, figure, info, temp_workdir

from agora_node.processing.accounts import new_local_account, store_new_account
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store.db import connect
from agora_node.store.timelines import HOME_SQL, Page, home_params

PAGE_SIZE = 40  # statuses a page, on both sides (web.views.MAX_PAGE_SIZE)
ROUNDS = 3 if SMOKE else 40
FRONT_REQUESTS = 20 if SMOKE else 400
FRONT_POSTS = 5  # the front page's preview (web/pages.py _PREVIEW)
BUDGET_KB = 100.0
ASSETS = ("/static/agora.css", "/static/agora.js", "/theme.css")
_CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')
_STATUS_ID = re.compile(r'id="author-([0-9]+)"')  # one per status card: the entity's id


# -- the node ------------------------------------------------------------------------


def _add_account(db_path: Path, username: str) -> None:
    """A local account (actor, keys) on the big database, unless it is there."""
    db = connect(str(db_path))
    try:
        if accounts_store.get_account_by_username(db, username) is None:
            urls = LocalUrls("https://agora.bench")
            new = new_local_account(urls, "agora.bench", username, PASSWORD, now=time.time())
            with db.conn:
                store_new_account(db, new)
    finally:
        db.conn.close()


def _posts_by(db_path: Path, actor_uri: str) -> int:
    raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        sql = "SELECT count(*) FROM objects WHERE actor_uri = ? AND deleted_at IS NULL"
        return int(raw.execute(sql, [actor_uri]).fetchone()[0])
    finally:
        raw.close()


def _big_pages(db_path: Path, me: str) -> list[Page]:
    """The first page, the two after it, and pages deep in the past (as api_home)."""
    import timeline

    raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        pages = [Page(limit=PAGE_SIZE)]
        for _ in range(2):
            rows = raw.execute(HOME_SQL[False], home_params(me, pages[-1])).fetchall()
            pages.append(Page(max_id=min(r[0] for r in rows), limit=PAGE_SIZE))
    finally:
        raw.close()
    deep = [Page(max_id=timeline.NOTES * k // 10, limit=PAGE_SIZE) for k in (9, 5, 1)]
    return pages + deep


async def _post(session: aiohttp.ClientSession, base: str, token: str, count: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(count):
        text = f"Post {i} from the web pages bench, with a #hashtag and a line of text."
        data = {"status": text, "visibility": "public"}
        async with session.post(f"{base}/api/v1/statuses", data=data, headers=headers) as resp:
            assert resp.status == 200, await resp.text()


async def _big_node(work: Path) -> tuple[NodeProcess, list[Page]]:
    import api_home
    import timeline

    db_path = timeline._db_path()
    if not db_path.exists():
        timeline._build(db_path)
    node = api_home._prepare(work, db_path)  # adds "me" when missing
    for name in ("fresh", "town"):
        _add_account(db_path, name)
    town_posts = _posts_by(db_path, "https://agora.bench/users/town")
    write_token = ""
    if town_posts < FRONT_POSTS:
        out = node.cli("token", "create", "town", "--scope", "write")
        write_token = out.splitlines()[0].strip()
    await node.start()
    if write_token:
        async with aiohttp.ClientSession() as session:
            await _post(session, node.base, write_token, FRONT_POSTS - town_posts)
    return node, _big_pages(db_path, timeline.ME)


async def _tiny_node(work: Path) -> tuple[NodeProcess, list[Page]]:
    node = NodeProcess.create(work, accounts=("me", "fresh"))
    token = node.cli("token", "create", "me", "--scope", "write").splitlines()[0].strip()
    await node.start()
    async with aiohttp.ClientSession() as session:
        await _post(session, node.base, token, PAGE_SIZE + PAGE_SIZE // 2)
    return node, [Page(limit=PAGE_SIZE)]


# -- a browser: cookies by hand (the big node's cookies are Secure, served over http) --


async def sign_in(session: aiohttp.ClientSession, base: str, username: str) -> str:
    """The ``agora_session`` cookie from the sign-in form, as a browser gets it."""
    async with session.get(f"{base}/auth/sign_in") as resp:
        assert resp.status == 200, await resp.text()
        html = await resp.text()
        csrf_cookie = resp.cookies["agora_csrf"].value
    found = _CSRF_FIELD.search(html)
    assert found is not None and found[1] == csrf_cookie, "no csrf field matching the cookie"
    form = {"csrf": found[1], "next": "/home", "username": username, "password": PASSWORD}
    async with session.post(
        f"{base}/auth/sign_in",
        data=form,
        headers={"Cookie": f"agora_csrf={csrf_cookie}"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303, await resp.text()
        assert resp.headers["Location"] == "/home"
        return resp.cookies["agora_session"].value


async def _get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(url, headers=headers, allow_redirects=False) as resp:
        body = await resp.read()
        assert resp.status == 200, (url, resp.status, body[:300])
    return (time.perf_counter() - started) * 1000, body


def _query(page: Page) -> str:
    return "" if page.max_id is None else f"max_id={page.max_id}"


# -- the figures -----------------------------------------------------------------------


async def measure_home(
    session: aiohttp.ClientSession, node: NodeProcess, pages: list[Page], cookie: str, token: str
) -> tuple[list[float], list[float]]:
    web_headers = {"Cookie": f"agora_session={cookie}"}
    api_headers = {"Authorization": f"Bearer {token}"}

    def urls(page: Page) -> tuple[str, str]:
        q = _query(page)
        web = f"{node.base}/home?limit={PAGE_SIZE}" + (f"&{q}" if q else "")
        api = f"{node.base}/api/v1/timelines/home?limit={PAGE_SIZE}" + (f"&{q}" if q else "")
        return web, api

    for page in pages:  # warm both (caches, reader threads); the same statuses on each side
        web, api = urls(page)
        _, html = await _get(session, web, web_headers)
        _, raw = await _get(session, api, api_headers)
        from_api = [s["id"] for s in json.loads(raw)]
        from_web = _STATUS_ID.findall(html.decode())
        assert from_web == from_api, (page, from_web, from_api)
        assert len(from_web) == PAGE_SIZE, (page, len(from_web))
    ours: list[float] = []
    base: list[float] = []
    for _ in range(ROUNDS):
        for page in pages:  # alternate request by request, so drift hits both alike
            web, api = urls(page)
            ours.append((await _get(session, web, web_headers))[0])
            base.append((await _get(session, api, api_headers))[0])
    return ours, base


async def measure_front(
    session: aiohttp.ClientSession, node: NodeProcess, work: Path
) -> tuple[list[float], list[float], int, int]:
    _, body = await _get(session, f"{node.base}/")
    previews = len(_STATUS_ID.findall(body.decode()))
    bare = await BareServer.start(body, "text/html", work)
    try:
        for _ in range(5):  # warm both
            await _get(session, f"{node.base}/")
            await _get(session, f"{bare.base}/")
        ours: list[float] = []
        base: list[float] = []
        for _ in range(FRONT_REQUESTS):
            ours.append((await _get(session, f"{node.base}/"))[0])
            base.append((await _get(session, f"{bare.base}/"))[0])
    finally:
        bare.stop()
    return ours, base, len(body), previews


async def page_weight(session: aiohttp.ClientSession, node: NodeProcess) -> dict[str, int]:
    cookie = await sign_in(session, node.base, "fresh")
    _, html = await _get(session, f"{node.base}/home", {"Cookie": f"agora_session={cookie}"})
    assert not _STATUS_ID.findall(html.decode()), "the fresh account's home is not empty"
    sizes = {"/home": len(html)}
    for path in ASSETS:
        sizes[path] = len((await _get(session, node.base + path))[1])
    return sizes


async def main() -> int:
    started = time.perf_counter()
    with temp_workdir("agora-bench-web-") as tmp:
        work = Path(tmp)
        node, pages = await (_tiny_node(work) if SMOKE else _big_node(work))
        try:
            token = node.cli("token", "create", "me", "--scope", "read").splitlines()[0].strip()
            jar = aiohttp.DummyCookieJar()  # every cookie is sent by hand
            async with aiohttp.ClientSession(cookie_jar=jar, auto_decompress=False) as session:
                cookie = await sign_in(session, node.base, "me")
                ours, base = await measure_home(session, node, pages, cookie, token)
                f_ours, f_base, front_bytes, previews = await measure_front(session, node, work)
                sizes = await page_weight(session, node)
        finally:
            node.stop()
    info(f"home: {len(ours)} requests over {len(pages)} pages of {PAGE_SIZE} statuses")
    info(f"front page: {len(f_ours)} requests, {front_bytes} bytes, {previews} preview posts")
    info("page weight: " + ", ".join(f"{path} {n} B" for path, n in sizes.items()))
    p50_ours, p50_base = statistics.median(ours), statistics.median(base)
    figure("web_home_p50_ms", p50_ours, p50_base, p50_base / p50_ours)
    f50_ours, f50_base = statistics.median(f_ours), statistics.median(f_base)
    figure("web_front_p50_ms", f50_ours, f50_base, f50_base / f50_ours)
    weight = sum(sizes.values()) / 1024
    figure("web_page_weight_kb", weight, BUDGET_KB, BUDGET_KB / weight)
    info(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
