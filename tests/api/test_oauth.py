"""OAuth 2.0 end to end against the real app and a real SQLite file."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from agora_node.config import Settings
from agora_node.context import DB
from tests.conftest import add_account

REDIRECT = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"

Client = TestClient  # type: ignore[type-arg]


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(
    client: Client, scopes: str = "read write follow", redirect: str = REDIRECT
) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/apps",
        data={"client_name": "Test App", "redirect_uris": redirect, "scopes": scopes},
    )
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


def hidden_fields(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: unescape(value) for name, value in found}


async def authorize(
    client: Client,
    app: dict[str, Any],
    *,
    scope: str = "read write",
    challenge: str | None = None,
    method: str = "S256",
    password: str = "correct horse",
    redirect: str = REDIRECT,
) -> str:
    """Walk the authorization page like a browser; returns the code."""
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": redirect,
        "scope": scope,
        "state": "xyz-123",
    }
    if challenge:
        query |= {"code_challenge": challenge, "code_challenge_method": method}
    page = await client.get("/oauth/authorize", params=query)
    assert page.status == 200, await page.text()
    assert page.headers["X-Frame-Options"] == "DENY"
    form = hidden_fields(await page.text())
    assert form == query
    form |= {"username": "alice", "password": password, "decision": "approve"}
    resp = await client.post("/oauth/authorize", data=form, allow_redirects=False)
    assert resp.status == 302, await resp.text()
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    params = parse_qs(location.query)
    assert params["state"] == ["xyz-123"]
    return params["code"][0]


async def exchange(client: Client, app: dict[str, Any], code: str, **extra: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "code": code,
    } | extra
    return await client.post("/oauth/token", data=data)


async def password_grant(client: Client, app: dict[str, Any], **extra: str) -> Any:
    data = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "alice",
        "password": "correct horse",
        "scope": "read write",
    } | extra
    return await client.post("/oauth/token", data=data)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def alice(client: Client, settings: Settings) -> Any:
    return add_account(client.app[DB], settings, "alice")


# -- app registration -------------------------------------------------------------


async def test_register_app_answers_like_mastodon(client: Client) -> None:
    resp = await client.post(
        "/api/v1/apps",
        json={
            "client_name": "Toot",
            "redirect_uris": [REDIRECT, OOB],
            "scopes": "read write:statuses",
            "website": "https://toot.example",
        },
    )
    assert resp.status == 200
    body = await resp.json()
    assert set(body) >= {
        "id",
        "name",
        "website",
        "redirect_uri",
        "redirect_uris",
        "client_id",
        "client_secret",
        "vapid_key",
        "scopes",
    }
    assert isinstance(body["id"], str)
    assert body["redirect_uris"] == [REDIRECT, OOB]
    assert body["redirect_uri"] == f"{REDIRECT}\n{OOB}"
    assert body["scopes"] == ["read", "write:statuses"]
    # The secret is stored only as a hash
    rows = client.app[DB].read_sync(lambda c: c.execute("SELECT * FROM oauth_apps").fetchall())
    assert body["client_secret"] not in repr(rows)


async def test_register_app_form_defaults_to_read(client: Client) -> None:
    resp = await client.post("/api/v1/apps", data={"client_name": "X", "redirect_uris": OOB})
    assert resp.status == 200
    body = await resp.json()
    assert body["scopes"] == ["read"]
    assert body["website"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"redirect_uris": OOB}, "client_name"),
        ({"client_name": "X"}, "redirect_uris"),
        ({"client_name": "X", "redirect_uris": "javascript:alert(1)"}, "redirect"),
        ({"client_name": "X", "redirect_uris": "https://a.example/#frag"}, "redirect"),
        ({"client_name": "X", "redirect_uris": OOB, "scopes": "read nuke"}, "nuke"),
    ],
)
async def test_register_app_rejects_bad_input(
    client: Client, data: dict[str, str], message: str
) -> None:
    resp = await client.post("/api/v1/apps", data=data)
    assert resp.status == 422
    assert message in (await resp.json())["error"]
    assert (
        client.app[DB].read_sync(
            lambda c: c.execute("SELECT count(*) FROM oauth_apps").fetchone()[0]
        )
        == 0
    )


# -- authorization code + PKCE --------------------------------------------------------


async def test_full_authorization_code_flow_with_pkce(client: Client, alice: Any) -> None:
    # Given a registered app, the user signs in on the authorization page
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, challenge=challenge)
    # When a public client (no secret) exchanges the code with its verifier
    resp = await exchange(client, app, code, code_verifier=verifier)
    assert resp.status == 200, await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    tok = await resp.json()
    assert tok["token_type"] == "Bearer"
    assert tok["scope"] == "read write"
    assert tok["expires_in"] > 0 and tok["refresh_token"] and isinstance(tok["created_at"], int)
    # Then the token works for the account and for the app
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(tok["access_token"])
    )
    assert me.status == 200
    account = await me.json()
    assert account["username"] == "alice" and account["acct"] == "alice"
    assert isinstance(account["id"], str)
    assert account["followers_count"] == 0 and account["statuses_count"] == 0
    assert account["created_at"].endswith("Z")
    who = await client.get("/api/v1/apps/verify_credentials", headers=bearer(tok["access_token"]))
    assert who.status == 200
    assert (await who.json())["name"] == "Test App"
    # Nothing secret is stored in clear
    dump = client.app[DB].read_sync(
        lambda c: (
            repr(c.execute("SELECT * FROM api_tokens").fetchall())
            + repr(c.execute("SELECT * FROM oauth_codes").fetchall())
        )
    )
    for secret in (code, tok["access_token"], tok["refresh_token"]):
        assert secret not in dump


async def test_confidential_client_with_basic_auth_and_plain_pkce(
    client: Client, alice: Any
) -> None:
    app = await register(client)
    verifier = secrets.token_urlsafe(40)
    code = await authorize(client, app, challenge=verifier, method="plain")
    creds = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    resp = await client.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {creds}"},
    )
    assert resp.status == 200, await resp.text()


async def test_code_without_pkce_needs_the_client_secret(client: Client, alice: Any) -> None:
    app = await register(client)
    code = await authorize(client, app)
    resp = await exchange(client, app, code)
    assert resp.status == 401
    assert (await resp.json())["error"] == "invalid_client"
    resp = await exchange(client, app, code, client_secret=app["client_secret"])
    assert resp.status == 200


async def test_wrong_verifier_fails(client: Client, alice: Any) -> None:
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, challenge=challenge)
    other, _ = pkce_pair()
    resp = await exchange(client, app, code, code_verifier=other)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "invalid_grant" and "code_verifier" in body["error_description"]
    # Missing verifier, even with the secret, also fails
    resp = await exchange(client, app, code, client_secret=app["client_secret"])
    assert resp.status == 400
    # The code was not burnt by the failures: the right verifier still works
    assert (await exchange(client, app, code, code_verifier=verifier)).status == 200


async def test_code_reuse_fails_and_revokes_what_it_issued(client: Client, alice: Any) -> None:
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, challenge=challenge)
    first = await exchange(client, app, code, code_verifier=verifier)
    token = (await first.json())["access_token"]
    again = await exchange(client, app, code, code_verifier=verifier)
    assert again.status == 400
    assert (await again.json())["error"] == "invalid_grant"
    me = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status == 401


async def test_redirect_uri_mismatch_fails(client: Client, alice: Any) -> None:
    app = await register(client, redirect=f"{REDIRECT}\nhttps://app.example/other")
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, challenge=challenge)
    resp = await exchange(
        client, app, code, code_verifier=verifier, redirect_uri="https://app.example/other"
    )
    assert resp.status == 400
    assert "redirect_uri" in (await resp.json())["error_description"]


async def test_expired_code_fails(client: Client, alice: Any) -> None:
    app = await register(client)
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, challenge=challenge)
    client.app[DB].write_sync(lambda c: c.execute("UPDATE oauth_codes SET expires_at = 0"))
    resp = await exchange(client, app, code, code_verifier=verifier)
    assert resp.status == 400 and "expired" in (await resp.json())["error_description"]


async def test_code_of_another_app_fails(client: Client, alice: Any) -> None:
    app = await register(client)
    other = await register(client)
    verifier, challenge = pkce_pair()
    code = await authorize(client, app, challenge=challenge)
    resp = await exchange(client, other, code, code_verifier=verifier)
    assert resp.status == 400


async def test_unknown_client_or_redirect_is_a_page_not_a_redirect(client: Client) -> None:
    app = await register(client)
    for query in (
        {"client_id": "nope", "redirect_uri": REDIRECT, "response_type": "code"},
        {
            "client_id": app["client_id"],
            "redirect_uri": "https://evil.example/",
            "response_type": "code",
        },
    ):
        resp = await client.get("/oauth/authorize", params=query, allow_redirects=False)
        assert resp.status == 400
        assert resp.content_type == "text/html"
        assert "Location" not in resp.headers


async def test_scope_beyond_the_app_is_redirected_back_as_an_error(client: Client) -> None:
    app = await register(client, scopes="read")
    query = {
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "read write",
        "state": "s1",
    }
    resp = await client.get("/oauth/authorize", params=query, allow_redirects=False)
    assert resp.status == 302
    params = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert params["error"] == ["invalid_scope"] and params["state"] == ["s1"]
    # A granular scope under a registered parent is fine
    ok = await client.get("/oauth/authorize", params=query | {"scope": "read:statuses"})
    assert ok.status == 200


async def test_wrong_password_on_the_form_shows_it_again(client: Client, alice: Any) -> None:
    app = await register(client)
    query = {
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "read",
    }
    form = query | {"username": "alice", "password": "wrong", "decision": "approve"}
    resp = await client.post("/oauth/authorize", data=form, allow_redirects=False)
    assert resp.status == 422
    assert "Invalid username or password" in await resp.text()
    assert (
        client.app[DB].read_sync(
            lambda c: c.execute("SELECT count(*) FROM oauth_codes").fetchone()[0]
        )
        == 0
    )


async def test_deny_redirects_with_access_denied(client: Client, alice: Any) -> None:
    app = await register(client)
    form = {
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "read",
        "state": "s",
        "decision": "deny",
    }
    resp = await client.post("/oauth/authorize", data=form, allow_redirects=False)
    assert resp.status == 302
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["error"] == ["access_denied"]


async def test_out_of_band_shows_the_code(client: Client, alice: Any) -> None:
    app = await register(client, redirect=OOB)
    form = {
        "client_id": app["client_id"],
        "redirect_uri": OOB,
        "response_type": "code",
        "scope": "read",
        "username": "alice",
        "password": "correct horse",
    }
    resp = await client.post("/oauth/authorize", data=form, allow_redirects=False)
    assert resp.status == 200
    match = re.search(r"<code>([A-Za-z0-9_\-]{40,})</code>", await resp.text())
    assert match
    tok = await client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": match.group(1),
            "redirect_uri": OOB,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert tok.status == 200


async def test_authorize_page_escapes_app_name(client: Client) -> None:
    resp = await client.post(
        "/api/v1/apps", data={"client_name": "<script>x</script>", "redirect_uris": REDIRECT}
    )
    app = await resp.json()
    page = await client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": '"><b>',
        },
    )
    text = await page.text()
    assert "<script>x" not in text and "&lt;script&gt;" in text
    assert '"><b>' not in text


# -- password and refresh grants, revocation ----------------------------------------------


async def test_password_grant_form_and_json(client: Client, alice: Any) -> None:
    app = await register(client)
    resp = await password_grant(client, app)
    assert resp.status == 200
    data = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": "@alice",
        "password": "correct horse",
    }
    as_json = await client.post("/oauth/token", json=data)
    assert as_json.status == 200
    assert (await as_json.json())["scope"] == "read"
    # The password grant is for confidential clients only
    no_secret = await password_grant(client, app, client_secret="")
    assert no_secret.status == 401
    assert no_secret.headers["WWW-Authenticate"].startswith("Basic")
    wrong = await password_grant(client, app, password="nope")
    assert wrong.status == 400 and (await wrong.json())["error"] == "invalid_grant"


async def test_password_grant_scope_checks(client: Client, alice: Any) -> None:
    app = await register(client, scopes="read")
    resp = await password_grant(client, app, scope="write")
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_scope"
    resp = await password_grant(client, app, scope="read:bogus")
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_scope"


async def test_unsupported_grants(client: Client) -> None:
    app = await register(client)
    for grant in ("client_credentials", "implicit", ""):
        resp = await client.post(
            "/oauth/token",
            data={"grant_type": grant, "client_id": app["client_id"], "client_secret": "x"},
        )
        assert resp.status == 400
        assert (await resp.json())["error"] == "unsupported_grant_type"
    bad_json = await client.post(
        "/oauth/token", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status == 400 and (await bad_json.json())["error"] == "invalid_request"


async def test_refresh_rotates_and_kills_the_old_access_token(client: Client, alice: Any) -> None:
    app = await register(client)
    first = await (await password_grant(client, app)).json()
    resp = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        },
    )
    assert resp.status == 200, await resp.text()
    second = await resp.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == first["scope"]
    old = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(first["access_token"])
    )
    assert old.status == 401
    new = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(second["access_token"])
    )
    assert new.status == 200
    # The old refresh token is spent
    again = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": app["client_id"],
        },
    )
    assert again.status == 400 and (await again.json())["error"] == "invalid_grant"


async def test_refresh_cannot_widen_scope_or_cross_apps(client: Client, alice: Any) -> None:
    app = await register(client)
    other = await register(client)
    tok = await (await password_grant(client, app, scope="read")).json()
    base = {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"]}
    wider = await client.post(
        "/oauth/token", data=base | {"client_id": app["client_id"], "scope": "read write"}
    )
    assert wider.status == 400 and (await wider.json())["error"] == "invalid_scope"
    crossed = await client.post("/oauth/token", data=base | {"client_id": other["client_id"]})
    assert crossed.status == 400 and (await crossed.json())["error"] == "invalid_grant"


async def test_revoke(client: Client, alice: Any) -> None:
    app = await register(client)
    tok = await (await password_grant(client, app)).json()
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    resp = await client.post("/oauth/revoke", data=creds | {"token": tok["access_token"]})
    assert resp.status == 200 and await resp.json() == {}
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(tok["access_token"])
    )
    assert me.status == 401
    assert 'error="invalid_token"' in me.headers["WWW-Authenticate"]
    # Unknown tokens: still 200 {}
    unknown = await client.post("/oauth/revoke", data=creds | {"token": "no-such-token"})
    assert unknown.status == 200 and await unknown.json() == {}
    # Wrong client secret: 401
    bad = await client.post(
        "/oauth/revoke", data=creds | {"client_secret": "wrong", "token": tok["access_token"]}
    )
    assert bad.status == 401


async def test_revoke_by_refresh_token_and_only_for_own_app(client: Client, alice: Any) -> None:
    app = await register(client)
    other = await register(client)
    tok = await (await password_grant(client, app)).json()
    # Another app cannot revoke it (answer is still 200, nothing happens)
    resp = await client.post(
        "/oauth/revoke", data={"client_id": other["client_id"], "token": tok["access_token"]}
    )
    assert resp.status == 200
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(tok["access_token"])
    )
    assert me.status == 200
    resp = await client.post(
        "/oauth/revoke", json={"client_id": app["client_id"], "token": tok["refresh_token"]}
    )
    assert resp.status == 200
    me = await client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(tok["access_token"])
    )
    assert me.status == 401


async def test_server_metadata(client: Client) -> None:
    resp = await client.get("/.well-known/oauth-authorization-server")
    body = await resp.json()
    assert body["token_endpoint"].endswith("/oauth/token")
    assert "S256" in body["code_challenge_methods_supported"]
    assert "read:statuses" in body["scopes_supported"]
