"""An admin moderates from the browser: a domain block, a report, the log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from agora_node.devnet import Devnet
from tests.browser.conftest import shot, sign_in

pytestmark = pytest.mark.e2e
NewPage = Callable[[], Page]


def test_block_a_domain_work_a_report_and_read_the_log(net: Devnet, new_page: NewPage) -> None:
    base = net["A"].base_url
    mod, reporter = new_page(), new_page()
    sign_in(mod, base, "mod", "mod-password-123")
    mod.goto(f"{base}/admin/domains")
    mod.get_by_label("Domain (its subdomains are included)").fill("Spam.Example")
    mod.get_by_label("Severity").select_option("suspend")
    mod.get_by_label("Reject its reports").check()
    mod.get_by_label("Private comment (for the admins, kept in the log)").fill("a spam wave")
    mod.get_by_role("button", name="Block", exact=True).click()
    expect(mod.get_by_role("status")).to_contain_text("spam.example: suspend")
    expect(mod.locator("#block-spam\\.example")).to_contain_text("suspend, no reports")
    shot(mod, "admin-domains")
    # A bad name is refused with the reason, and nothing is added.
    mod.get_by_label("Domain (its subdomains are included)").fill("https://x.example/")
    mod.get_by_role("button", name="Block", exact=True).click()
    expect(mod.get_by_role("alert")).to_contain_text("is not a domain")

    # A person reports the admin's account through the API (the pages' report
    # button is to come); the admin sees it, notes it, resolves it.
    api = reporter.request
    net["A"].create_account("rita", "rita-password-123")
    token = _token(reporter, base, "rita", "rita-password-123")
    found = api.get(f"{base}/api/v1/accounts/lookup?acct=mod",
                    headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    made = api.post(f"{base}/api/v1/reports",
                    form={"account_id": found["id"], "comment": "rude in replies"},
                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert made.ok, made.text()
    mod.get_by_role("link", name="Reports").click()
    expect(mod.get_by_text("rude in replies")).to_be_visible()
    mod.get_by_label("Note for the other moderators").fill("looked: a misunderstanding")
    mod.get_by_role("button", name="Add note").click()
    expect(mod.get_by_text("looked: a misunderstanding")).to_be_visible()
    shot(mod, "admin-reports")
    mod.get_by_label("For the reporter").fill("no rule was broken")
    mod.get_by_role("button", name="Resolve").click()
    expect(mod.get_by_text("No report is waiting.")).to_be_visible()

    mod.get_by_role("link", name="Log").click()
    expect(mod.get_by_role("cell", name="domain block", exact=True)).to_be_visible()
    expect(mod.get_by_role("cell", name="report resolve", exact=True)).to_be_visible()
    shot(mod, "admin-log")
    mod.goto(f"{base}/admin/domains")
    mod.get_by_role("button", name="Unblock spam.example").click()
    expect(mod.get_by_text("No server is blocked.")).to_be_visible()


def _token(page: Page, base: str, username: str, password: str) -> str:
    """A token for a person on A, by the password grant an app would use."""
    net_api = page.request
    app = net_api.post(f"{base}/api/v1/apps", form={
        "client_name": "reporter", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write"}).json()  # fmt: skip
    made = net_api.post(f"{base}/oauth/token", form={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "read write",
        "username": username, "password": password})  # fmt: skip
    assert made.ok, made.text()
    return str(made.json()["access_token"])
