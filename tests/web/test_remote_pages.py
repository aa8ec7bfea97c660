"""Following and replying across servers from the pages (the parts one node can show)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.web.rig import HTML, sign_in, start_site, submit


async def test_webfinger_offers_the_subscribe_template(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path)
    jrd = await (
        await client.get(f"/.well-known/webfinger?resource=acct:alice@{settings.domain}")
    ).json()
    (link,) = [x for x in jrd["links"] if x["rel"] == "http://ostatus.org/schema/1.0/subscribe"]
    assert link["template"] == "http://agora.test/authorize_interaction?uri={uri}"


async def test_authorize_interaction_needs_sign_in_then_lands_on_the_account(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    target = "/authorize_interaction?uri=http%3A%2F%2Fagora.test%2Fusers%2Fbob"
    anonymous = await client.get(target, headers=HTML, allow_redirects=False)
    assert anonymous.status == 303
    assert anonymous.headers["Location"].startswith("/auth/sign_in?next=/authorize_interaction")
    await sign_in(client, "alice")
    landed = await client.get(target, headers=HTML, allow_redirects=False)
    assert landed.status == 303 and landed.headers["Location"] == "/@bob"
    missing = await client.get("/authorize_interaction?uri=", headers=HTML)
    assert missing.status == 400 and "uri is missing" in await missing.text()


async def test_the_remote_follow_form_explains_a_bad_handle(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path)
    form_page = "/remote_follow?uri=http%3A%2F%2Fagora.test%2Fusers%2Fbob"
    shown = await client.get(form_page, headers=HTML)
    assert shown.status == 200
    assert "form-action 'self' https:" in shown.headers["Content-Security-Policy"]
    fields = {"uri": "http://agora.test/users/bob", "handle": "not a handle"}
    bad = await submit(client, form_page, "/remote_follow", fields)
    assert bad.status == 422 and "name@your.server" in await bad.text()
    # Someone of this very server is sent straight to the interaction page.
    local = await submit(
        client, form_page, "/remote_follow", {**fields, "handle": f"alice@{settings.domain}"}
    )
    assert local.status == 303
    assert local.headers["Location"].startswith("/authorize_interaction?uri=")
