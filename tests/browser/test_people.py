"""A person's day on two nodes, in headless chromium: sign up, post, follow, reply."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from agora_node.devnet import Devnet, run_cli
from tests.api.test_media import photo
from tests.browser.conftest import shot, sign_in, sign_up

pytestmark = pytest.mark.e2e
NewPage = Callable[[], Page]


def reload_until(page: Page, text: str, timeout: float = 30.0) -> None:
    """Reload ``page`` until ``text`` shows (federation is asynchronous; bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.get_by_text(text).count():
            return
        page.wait_for_timeout(300)
        page.reload()
    raise AssertionError(f"{text!r} did not appear on {page.url} within {timeout}s")


def test_open_sign_up_lands_on_home(net: Devnet, new_page: NewPage) -> None:
    base = net["B"].base_url
    page = new_page()
    page.goto(base + "/")
    shot(page, "front")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agora B")
    page.get_by_role("link", name="Create an account").first.click()
    page.wait_for_url(base + "/auth/sign_up")
    shot(page, "sign-up")
    sign_up(page, base, "bob", "bob-password-123")
    page.wait_for_url(base + "/home")
    expect(page.get_by_role("link", name="Profile")).to_be_visible()


def test_approval_sign_up_waits_for_the_admin(net: Devnet, new_page: NewPage) -> None:
    node = net["A"]
    page = new_page()
    sign_up(page, node.base_url, "alice", "alice-password-123", reason="I live in town")
    expect(page.get_by_role("heading", level=1)).to_contain_text("waiting for approval")
    # Not yet: the sign-in form answers as for any wrong password (no enumeration).
    page.goto(node.base_url + "/auth/sign_in")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-password-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert "/auth/sign_in" in page.url
    shot(page, "sign-in")

    assert "alice" in run_cli(node.config, "signup", "list")
    run_cli(node.config, "signup", "approve", "alice")
    sign_in(page, node.base_url, "alice", "alice-password-123")


def test_post_with_content_warning_shows_in_local_timeline(net: Devnet, new_page: NewPage) -> None:
    base = net["A"].base_url
    page = new_page()
    sign_in(page, base, "alice", "alice-password-123")
    page.get_by_label("Content warning").fill("Spoilers for the town play")
    page.get_by_label("What is on your mind?").fill("The butler did it, in the square.")
    expect(page.locator("output.counter")).to_contain_text(re.compile(r"\d+"))
    page.get_by_role("button", name="Post").click()
    page.wait_for_url(base + "/home")

    page.goto(base + "/public/local")
    card = page.locator("article.status", has_text="Spoilers for the town play").first
    body = card.get_by_text("The butler did it, in the square.")
    expect(body).to_be_hidden()
    card.locator("summary").click()
    expect(body).to_be_visible()
    shot(page, "local")


def test_follow_across_nodes_see_post_reply_in_thread(net: Devnet, new_page: NewPage) -> None:
    a, b = net["A"], net["B"]
    alice, bob = new_page(), new_page()
    sign_in(alice, a.base_url, "alice", "alice-password-123")
    sign_in(bob, b.base_url, "bob", "bob-password-123")

    alice.goto(a.base_url + "/search")
    alice.get_by_role("searchbox").fill(f"bob@{b.netloc}")
    alice.get_by_role("button", name="Search").click()
    alice.get_by_role("link", name="bob").first.click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("bob")
    alice.get_by_role("button", name="Follow").click()
    expect(alice.get_by_role("button", name=re.compile("Unfollow|Cancel"))).to_be_visible()

    bob.goto(b.base_url + "/home")
    bob.get_by_label("What is on your mind?").fill("Fresh bread at the bakery on B street")
    bob.get_by_role("button", name="Post").click()
    bob.wait_for_url(b.base_url + "/home")

    alice.goto(a.base_url + "/home")
    reload_until(alice, "Fresh bread at the bakery on B street")
    shot(alice, "home")
    card = alice.locator("article.status", has_text="Fresh bread at the bakery").first
    card.get_by_role("link", name=re.compile("replies; reply")).click()
    alice.get_by_label("Your reply").fill(f"@bob@{b.netloc} Saving me a loaf?")
    alice.get_by_role("button", name="Reply").click()
    expect(alice.get_by_text("Saving me a loaf?")).to_be_visible()
    shot(alice, "thread")

    bob.goto(b.base_url + "/home")
    bob.locator("article.status", has_text="Fresh bread at the bakery").first.locator(
        "time"
    ).click()
    reload_until(bob, "Saving me a loaf?")
    expect(bob.locator("section.descendants")).to_contain_text("Saving me a loaf?")


def test_follow_from_your_own_server(net: Devnet, new_page: NewPage) -> None:
    """Bob, on B, follows alice from her profile page on A through his own server."""
    a, b = net["A"], net["B"]
    bob = new_page()
    sign_in(bob, b.base_url, "bob", "bob-password-123")
    bob.goto(a.base_url + "/@alice")  # not signed in on A
    bob.get_by_role("button", name="Follow from your server").click()
    bob.get_by_label("Your handle").fill(f"nobody@{b.netloc}")
    bob.get_by_role("button", name="Go to my server").click()
    expect(bob.get_by_role("alert")).to_contain_text("could not be found")
    bob.get_by_label("Your handle").fill(f"bob@{b.netloc}")
    bob.get_by_role("button", name="Go to my server").click()
    bob.wait_for_url(re.compile(re.escape(b.base_url) + "/@alice@"))
    bob.get_by_role("button", name="Follow", exact=True).click()
    expect(bob.get_by_role("button", name=re.compile("Unfollow|Cancel"))).to_be_visible()


def test_admin_approves_a_sign_up_and_suspends_an_account(net: Devnet, new_page: NewPage) -> None:
    base = net["A"].base_url
    newcomer, mod = new_page(), new_page()
    sign_up(newcomer, base, "dave", "dave-password-123", reason="New in town")
    expect(newcomer.get_by_role("heading", level=1)).to_contain_text("waiting for approval")

    sign_in(mod, base, "mod", "mod-password-123")
    mod.get_by_role("link", name="Admin").click()
    shot(mod, "admin")
    mod.get_by_role("link", name="Accounts").click()
    expect(mod.get_by_text("New in town")).to_be_visible()
    mod.get_by_role("button", name="Approve @dave").click()
    expect(mod.get_by_text("No sign-up is waiting.")).to_be_visible()

    sign_in(newcomer, base, "dave", "dave-password-123")
    mod.get_by_role("button", name="Suspend @dave").click()
    expect(mod.locator("#account-dave")).to_contain_text("suspended")
    shot(mod, "admin-accounts")
    # Dave's open session has ended: his next page asks him to sign in, and he cannot.
    newcomer.goto(base + "/home")
    assert "/auth/sign_in" in newcomer.url
    newcomer.get_by_label("Username").fill("dave")
    newcomer.get_by_label("Password").fill("dave-password-123")
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_role("alert")).to_contain_text("suspended")
    mod.get_by_role("link", name="Server settings").click()
    expect(mod.get_by_label("Name")).to_have_value("Agora A")
    shot(mod, "admin-settings")


def test_main_pages_render_for_a_visitor(net: Devnet, new_page: NewPage) -> None:
    base = net["A"].base_url
    page = new_page()
    for path, name in [("/about", "about"), ("/public", "town-square"), ("/@alice", "profile")]:
        page.goto(base + path)
        expect(page.locator("main")).to_be_visible()
        shot(page, name)
    page.goto(base + "/search?q=butler")
    shot(page, "search")
    sign_in(page, base, "alice", "alice-password-123")
    for path, name in [
        ("/notifications", "notifications"),
        ("/settings/profile", "settings-profile"),
        ("/settings/account", "settings-account"),
        ("/settings/apps", "settings-apps"),
        ("/settings/migration", "settings-migration"),
        ("/settings/delete", "settings-delete"),
        (f"/remote_follow?uri={base}/users/alice", "remote-follow"),
    ]:
        page.goto(base + path)
        expect(page.locator("main h1")).to_be_visible()
        shot(page, name)


def test_import_follows_from_a_file_and_export_them(net: Devnet, new_page: NewPage) -> None:
    a, b = net["A"], net["B"]
    page = new_page()
    sign_up(page, b.base_url, "mover", "mover-password-123")
    page.wait_for_url(b.base_url + "/home")
    page.goto(b.base_url + "/settings")
    page.get_by_role("link", name="Import and export").click()
    csv = (
        "Account address,Show boosts,Notify on new posts,Languages\n"
        f"mod@{a.netloc},true,false,\nnobody-here@{a.netloc},true,false,\n"
    )
    page.get_by_label(re.compile("A follows file")).set_input_files(
        files=[{"name": "following_accounts.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(b.base_url + "/settings/data")
    # The progress part refreshes itself (agora.js) until the import ends.
    expect(page.get_by_text("2 of 2 handled: 1 followed, 1 failed")).to_be_visible(timeout=30_000)
    page.get_by_text("Why some failed").click()
    expect(page.get_by_text(f"nobody-here@{a.netloc}:")).to_be_visible()
    shot(page, "settings-data")
    with page.expect_download() as download:
        page.get_by_role("link", name="People you follow").click()
    exported = download.value.path().read_text()
    assert f"mod@{a.netloc},true,false," in exported


def test_new_posts_arrive_live_and_older_ones_load_in_place(net: Devnet, new_page: NewPage) -> None:
    base = net["B"].base_url
    listener, speaker = new_page(), new_page()
    sign_up(listener, base, "listener", "listener-password-1")
    sign_up(speaker, base, "speaker", "speaker-password-1")
    speaker.wait_for_url(base + "/home")
    speaker.get_by_label("What is on your mind?").fill("An early post from the speaker")
    speaker.get_by_role("button", name="Post").click()
    speaker.wait_for_url(base + "/home")
    listener.goto(base + "/@speaker")
    listener.get_by_role("button", name="Follow").click()
    expect(listener.get_by_role("button", name="Unfollow")).to_be_visible()
    listener.goto(base + "/home")
    listener.wait_for_timeout(500)  # the page's stream is open
    speaker.get_by_label("What is on your mind?").fill("Live from the harbour wall")
    speaker.get_by_role("button", name="Post").click()
    show = listener.get_by_role("button", name="1 new post: show it")
    expect(show).to_be_visible(timeout=10_000)
    expect(listener.get_by_text("Live from the harbour wall")).to_have_count(0)
    show.click()
    expect(listener.get_by_text("Live from the harbour wall")).to_be_visible()
    expect(show).to_be_hidden()
    shot(listener, "home-live")

    listener.goto(base + "/public/local?limit=1")
    cards = listener.locator("section.feed article.status")
    expect(cards).to_have_count(1)
    listener.get_by_role("link", name="Older posts").click()
    expect(cards).to_have_count(2)
    assert listener.url == base + "/public/local?limit=1"  # the page grew in place


def test_post_a_picture_with_alt_text_and_see_it_on_the_other_node(
    net: Devnet, new_page: NewPage
) -> None:
    a, b = net["A"], net["B"]
    painter = new_page()
    sign_up(painter, b.base_url, "painter", "painter-password-1")
    painter.wait_for_url(b.base_url + "/home")
    painter.get_by_label("What is on your mind?").fill("The harbour at dusk")
    painter.get_by_text("Add pictures, a video or audio").click()
    painter.get_by_label("File 1").set_input_files(
        files=[{"name": "dusk.jpg", "mimeType": "image/jpeg", "buffer": photo(800, 600)}]
    )
    painter.get_by_label("Description 1").fill("Boats against an orange sky")
    painter.get_by_role("button", name="Post").click()
    painter.wait_for_url(b.base_url + "/home")
    picture = painter.get_by_role("img", name="Boats against an orange sky")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") == 400  # the preview
    shot(painter, "home-picture")
    page_path = painter.locator("article.status").first.locator("p.when a").get_attribute("href")
    status_id = str(page_path).rsplit("/", 1)[-1]
    note_uri = painter.request.get(f"{b.base_url}/api/v1/statuses/{status_id}").json()["uri"]
    viewer = new_page()
    sign_in(viewer, a.base_url, "mod", "mod-password-123")
    viewer.goto(a.base_url + "/search")
    viewer.get_by_role("searchbox").fill(note_uri)
    viewer.get_by_role("button", name="Search").click()
    remote = viewer.get_by_role("img", name="Boats against an orange sky")
    expect(remote).to_be_visible()
    assert remote.evaluate("img => img.complete && img.naturalWidth > 0")
