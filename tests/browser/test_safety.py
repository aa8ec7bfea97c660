"""CSRF, CSP and accessibility hold in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from agora_node.devnet import Devnet
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.e2e
NewPage = Callable[[], Page]


@pytest.fixture(scope="module")
def person(net: Devnet) -> tuple[str, str]:
    net["B"].create_account("carol", "carol-password-123")
    return "carol", "carol-password-123"


def test_a_form_post_without_its_token_is_refused(
    net: Devnet, new_page: NewPage, person: tuple[str, str]
) -> None:
    base = net["B"].base_url
    page = new_page()
    sign_in(page, base, *person)
    # The session cookie goes along, as it would from a forged form on another site.
    answer = page.context.request.post(
        base + "/statuses", form={"status": "forged post"}, max_redirects=0
    )
    assert answer.status == 403
    assert "form" in answer.text().lower()
    page.goto(base + "/public/local")
    expect(page.get_by_text("forged post")).to_have_count(0)


def test_no_inline_script_runs_and_pages_raise_no_csp_errors(
    net: Devnet, new_page: NewPage, person: tuple[str, str]
) -> None:
    base = net["B"].base_url
    page = new_page()
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", on_console)
    sign_in(page, base, *person)
    hostile = "<script>window.pwned = 1</script><img src=x onerror='window.pwned=2'> hi"
    page.get_by_label("What is on your mind?").fill(hostile)
    page.get_by_role("button", name="Post").click()
    page.wait_for_url(base + "/home")
    expect(page.locator("article.status").first).to_contain_text("<script>")
    assert page.evaluate("window.pwned") is None
    for path in ("/", "/about", "/public/local", "/public", "/search?q=hi", "/@carol"):
        page.goto(base + path)
    assert not errors, errors

    # A script added inline, as an injection would, is refused by the policy.
    page.goto(base + "/public/local")
    with pytest.raises(Exception):  # noqa: B017 - Playwright raises its own Error
        page.add_script_tag(content="window.injected = 1")
    assert page.evaluate("window.injected") is None
    assert any("Content Security Policy" in e for e in errors)


def axe_script() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


def test_main_pages_pass_axe(net: Devnet, new_page: NewPage, person: tuple[str, str]) -> None:
    """axe-core finds no WCAG 2.x A/AA violation on the main pages."""
    base = net["B"].base_url
    source = axe_script()
    page = new_page()

    # Playwright's evaluate runs through the debugging protocol, outside the page's CSP.
    def check(path: str) -> list[str]:
        page.goto(base + path)
        page.evaluate(source)
        found = page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
                return r.violations.map(v => v.id + ': ' + v.help + ' @ ' +
                    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
            }"""
        )
        return [f"{path}: {v}" for v in found]

    # The checker itself finds a missing label and a missing alt text.
    page.goto(base + "/about")
    page.evaluate(source)
    control = page.evaluate(
        """async () => {
            document.querySelector('main').insertAdjacentHTML('beforeend',
                '<input id=unlabelled><img src=/static/none.png>');
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a']}});
            return r.violations.map(v => v.id);
        }"""
    )
    assert {"label", "image-alt"} <= set(control), control

    problems: list[str] = []
    for path in ("/", "/about", "/auth/sign_in", "/auth/sign_up", "/public", "/search?q=hi"):
        problems += check(path)
    sign_in(page, base, *person)
    for path in (
        "/home", "/public/local", "/@carol", "/@carol/followers", "/notifications",
        "/bookmarks", "/settings/profile", "/settings/account", "/settings/apps",
        "/settings/data", "/settings/migration", "/settings/delete",
    ):  # fmt: skip
        problems += check(path)
    page.emulate_media(color_scheme="dark")
    for path in ("/home", "/public/local"):
        problems += [f"(dark) {p}" for p in check(path)]
    assert not problems, "\n".join(problems)


def test_keyboard_alone_reaches_compose_and_posts(
    net: Devnet, new_page: NewPage, person: tuple[str, str]
) -> None:
    base = net["B"].base_url
    page = new_page()
    sign_in(page, base, *person)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "compose-text":
            break
    else:
        raise AssertionError("the compose box cannot be reached by keyboard")
    page.keyboard.type("typed with the keyboard only")
    # Tab on to the Post button and press it.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Post":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/home")
    expect(page.get_by_text("typed with the keyboard only")).to_be_visible()
