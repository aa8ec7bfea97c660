"""Two real node processes and Debian's chromium, driven as a person would click.

Node A takes sign-ups on approval, node B is open. Chromium is the one installed
by `.ci/run` (`/usr/bin/chromium`, or `$CHROMIUM`); no browser is downloaded.
Screenshots of the main pages are kept in ``artifacts/screenshots``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from agora_node.devnet import Devnet
from tests.e2e.conftest import free_port

pytest.importorskip("playwright")
from playwright.sync_api import Browser, Page, sync_playwright

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is not installed: .ci/run installs Debian's package")
    return path


@pytest.fixture(scope="package")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    root = tmp_path_factory.mktemp("browser-net")
    devnet = Devnet(root, count=2, port=free_port())
    devnet["A"].registration = "approval"
    devnet["B"].registration = "open"
    devnet.init()
    devnet["A"].create_account("mod", "mod-password-123", admin=True)

    async def start() -> None:
        async with aiohttp.ClientSession() as session:
            await devnet.start(session)

    asyncio.run(start())
    try:
        yield devnet
    finally:
        devnet.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[object]:
    """A factory of pages, each in its own context (its own cookies)."""
    contexts = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/auth/sign_in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/home")


def sign_up(page: Page, base: str, username: str, password: str, reason: str = "") -> None:
    page.goto(f"{base}/auth/sign_up")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    if reason:
        page.get_by_label("Why do you want to join?").fill(reason)
    agree = page.get_by_label("I agree to these rules")
    if agree.count():
        agree.check()
    page.get_by_role("button", name="Create account").click()
