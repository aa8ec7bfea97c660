"""Bearer tokens, scopes, failed-login throttling and CLI-made tokens."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agora_node.actions.login import login_name
from agora_node.api.auth import optional_token, require_token
from agora_node.app import create_app
from agora_node.config import Settings, load_settings
from agora_node.context import DB
from agora_node.errors import AgoraError
from agora_node.processing import oauth as rules
from agora_node.store import accounts as accounts_store
from tests.conftest import add_account

Client = TestClient  # type: ignore[type-arg]


# -- scope rules (no I/O) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("granted", "needed", "allowed"),
    [
        ({"read"}, "read:statuses", True),
        ({"read"}, "read", True),
        ({"read:statuses"}, "read", False),
        ({"read:statuses"}, "read:accounts", False),
        ({"write"}, "write:favourites", True),
        ({"write"}, "read:statuses", False),
        ({"follow"}, "read:follows", True),
        ({"follow"}, "write:blocks", True),
        ({"follow"}, "write:mutes", True),
        ({"follow"}, "write:statuses", False),
        ({"follow"}, "read:statuses", False),
        ({"admin:read"}, "admin:read:accounts", True),
        ({"admin:read"}, "admin:write:accounts", False),
        ({"read"}, "admin:read:accounts", False),
        ({"admin:write:reports"}, "admin:write:reports", True),
        ({"push"}, "push", True),
        ({"read", "write"}, "profile", False),
    ],
)
def test_scope_allows(granted: set[str], needed: str, allowed: bool) -> None:
    assert rules.scope_allows(frozenset(granted), needed) is allowed


def test_parse_scopes() -> None:
    assert rules.parse_scopes(None) == {"read"}
    assert rules.parse_scopes("") == {"read"}
    assert rules.parse_scopes("read+write:statuses") == {"read", "write:statuses"}
    assert rules.parse_scopes(" admin:read:ip_blocks  profile ") == {
        "admin:read:ip_blocks",
        "profile",
    }
    for bad in ("admin", "read:everything", "write:search", "crypto", "READ"):
        with pytest.raises(rules.OAuthError) as info:
            rules.parse_scopes(bad)
        assert info.value.code == "invalid_scope"


def test_scopes_covered_and_string() -> None:
    assert rules.scopes_covered(frozenset({"read:lists", "write:media"}), ("read", "write"))
    assert not rules.scopes_covered(frozenset({"read", "push"}), ("read",))
    assert rules.scope_string(frozenset({"write:media", "read", "follow"})) == (
        "read follow write:media"
    )


def test_pkce() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
    assert rules.pkce_matches(verifier, challenge, "S256")
    assert not rules.pkce_matches(verifier, challenge, "plain")
    assert rules.pkce_matches(verifier, verifier, "plain")
    assert not rules.pkce_matches("short", "short", "plain")
    assert rules.check_code_challenge(challenge, None) == (challenge, "plain")
    assert rules.check_code_challenge(None, None) is None
    for args in ((challenge, "S512"), ("tiny", "S256"), (None, "S256")):
        with pytest.raises(rules.OAuthError):
            rules.check_code_challenge(*args)


def test_throttle_wait() -> None:
    now = 10_000.0
    assert rules.throttle_wait(None, now) is None
    assert rules.throttle_wait((4, now - 10), now) is None
    assert rules.throttle_wait((5, now - 10), now) == rules.LOGIN_WINDOW - 10
    assert rules.throttle_wait((9, now - rules.LOGIN_WINDOW), now) is None


def test_login_name() -> None:
    assert login_name("@alice", "agora.test") == "alice"
    assert login_name("alice@Agora.Test", "agora.test") == "alice"
    assert login_name("alice@elsewhere.example", "agora.test") == "alice@elsewhere.example"


# -- require_token against a real app ---------------------------------------------------


async def _needs(request: web.Request) -> web.Response:
    info = await require_token(request, request.match_info["scope"])
    return web.json_response({"account_id": info.account_id, "scopes": sorted(info.scopes)})


async def _maybe(request: web.Request) -> web.Response:
    info = await optional_token(request)
    return web.json_response({"anonymous": info is None})


@pytest.fixture
async def node(aiohttp_client: Callable[..., Any], settings: Settings) -> Client:
    app = create_app(settings)
    app.router.add_get("/test/needs/{scope}", _needs)
    app.router.add_get("/test/maybe", _maybe)
    client: Client = await aiohttp_client(app)
    return client


async def _token(client: Client, settings: Settings, scopes: str, username: str = "alice") -> str:
    db = client.app[DB]
    if db.read_sync(lambda c: accounts_store.get_account_by_username(c, username)) is None:
        add_account(db, settings, username)
    account = db.read_sync(lambda c: accounts_store.get_account_by_username(c, username))
    assert account is not None
    issued = await db.write(
        lambda c: rules.issue_token(
            c, account_id=account.id, app=None, scopes=rules.parse_scopes(scopes), now=time.time()
        )
    )
    return issued.access_token


async def test_missing_header_is_401_with_bare_challenge(node: Client) -> None:
    resp = await node.get("/test/needs/read")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="agora"'
    basic = await node.get("/test/needs/read", headers={"Authorization": "Basic eDp5"})
    assert basic.status == 401


async def test_scope_rules_on_requests(node: Client, settings: Settings) -> None:
    token = await _token(node, settings, "read write:statuses")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await node.get("/test/needs/read:notifications", headers=auth)).status == 200
    assert (await node.get("/test/needs/write:statuses", headers=auth)).status == 200
    denied = await node.get("/test/needs/write:favourites", headers=auth)
    assert denied.status == 403
    body = await denied.json()
    assert "write:favourites" in body["error_description"]
    # verify_credentials takes read:accounts or profile, but not write alone
    only_write = await _token(node, settings, "write")
    me = await node.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {only_write}"}
    )
    assert me.status == 403
    profile = await _token(node, settings, "profile")
    me = await node.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {profile}"}
    )
    assert me.status == 200


async def test_unknown_expired_revoked_and_deleted(node: Client, settings: Settings) -> None:
    db = node.app[DB]
    unknown = await node.get("/test/needs/read", headers={"Authorization": "Bearer nope"})
    assert unknown.status == 401
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]

    token = await _token(node, settings, "read")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await node.get("/test/needs/read", headers=auth)).status == 200
    # Expired
    hashed = rules.hash_secret(token)
    db.write_sync(
        lambda c: c.execute(
            "UPDATE api_tokens SET expires_at = ? WHERE token_hash = ?", [time.time() - 1, hashed]
        )
    )
    expired = await node.get("/test/needs/read", headers=auth)
    assert expired.status == 401
    assert "expired" in expired.headers["WWW-Authenticate"]

    # Revoked
    token = await _token(node, settings, "read")
    auth = {"Authorization": f"Bearer {token}"}
    hashed = rules.hash_secret(token)
    db.write_sync(
        lambda c: c.execute("UPDATE api_tokens SET revoked_at = 1 WHERE token_hash = ?", [hashed])
    )
    assert (await node.get("/test/needs/read", headers=auth)).status == 401

    # Account deleted
    token = await _token(node, settings, "read", username="bob")
    auth = {"Authorization": f"Bearer {token}"}
    assert (await node.get("/test/needs/read", headers=auth)).status == 200
    bob = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "bob"))
    assert bob is not None
    db.write_sync(lambda c: accounts_store.mark_account_deleted(c, bob.id, time.time()))
    assert (await node.get("/test/needs/read", headers=auth)).status == 401


async def test_optional_token(node: Client, settings: Settings) -> None:
    assert await (await node.get("/test/maybe")).json() == {"anonymous": True}
    token = await _token(node, settings, "read")
    resp = await node.get("/test/maybe", headers={"Authorization": f"Bearer {token}"})
    assert await resp.json() == {"anonymous": False}
    bad = await node.get("/test/maybe", headers={"Authorization": "Bearer wrong"})
    assert bad.status == 401


# -- failed-login throttling ------------------------------------------------------------------


async def _app_creds(client: Client) -> dict[str, str]:
    resp = await client.post(
        "/api/v1/apps", data={"client_name": "T", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    )
    body = await resp.json()
    return {"client_id": body["client_id"], "client_secret": body["client_secret"]}


async def _login(
    client: Client, creds: dict[str, str], password: str, username: str = "alice"
) -> Any:
    data = creds | {"grant_type": "password", "username": username, "password": password}
    return await client.post("/oauth/token", data=data)


async def test_sixth_bad_login_is_throttled_until_the_window_passes(
    client: Client, settings: Settings
) -> None:
    add_account(client.app[DB], settings, "alice")
    creds = await _app_creds(client)
    for _ in range(5):
        assert (await _login(client, creds, "wrong password")).status == 400
    # Then even the right password is refused, with a Retry-After
    blocked = await _login(client, creds, "correct horse")
    assert blocked.status == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= rules.LOGIN_WINDOW
    # The authorization form is throttled too
    form = {
        "client_id": creds["client_id"],
        "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
        "response_type": "code",
        "username": "alice",
        "password": "correct horse",
    }
    page = await client.post("/oauth/authorize", data=form)
    assert page.status == 429 and "Retry-After" in page.headers
    # When the window is in the past, the right password works again
    client.app[DB].write_sync(
        lambda c: c.execute(
            "UPDATE login_failures SET window_start = window_start - ?", [rules.LOGIN_WINDOW + 1]
        )
    )
    assert (await _login(client, creds, "correct horse")).status == 200


async def test_success_clears_the_username_counter(client: Client, settings: Settings) -> None:
    add_account(client.app[DB], settings, "alice")
    creds = await _app_creds(client)
    for _ in range(3):
        await _login(client, creds, "wrong password")
    assert (await _login(client, creds, "correct horse")).status == 200
    keys = client.app[DB].read_sync(
        lambda c: {r[0]: r[1] for r in c.execute("SELECT key, failures FROM login_failures")}
    )
    assert not any(k.startswith("login:alice|") for k in keys)
    assert list(keys.values()) == [3]  # the per-IP counter stays


async def test_unknown_usernames_count_per_ip(client: Client, settings: Settings) -> None:
    add_account(client.app[DB], settings, "alice")
    creds = await _app_creds(client)
    for n in range(5):
        resp = await _login(client, creds, "whatever", username=f"ghost{n}")
        assert resp.status == 400
    # Spraying other names from this IP has blocked it, for alice too
    assert (await _login(client, creds, "correct horse")).status == 429


# -- CLI tokens ---------------------------------------------------------------------------------


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agora_node.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.e2e
async def test_cli_token_lifecycle(tmp_path: Path, aiohttp_client: Callable[..., Any]) -> None:
    config = tmp_path / "node" / "agora.toml"
    assert (
        _cli(config, "init", "--domain", "node.test", "--base-url", "https://node.test").returncode
        == 0
    )
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    assert _cli(config, "account", "create", "carol", "--password-file", str(pw)).returncode == 0

    bad = _cli(config, "token", "create", "carol", "--scope", "nuke")
    assert bad.returncode == 2 and "nuke" in bad.stderr
    nobody = _cli(config, "token", "create", "dave")
    assert nobody.returncode == 2 and "no account" in nobody.stderr

    made = _cli(
        config, "token", "create", "carol", "--scope", "read", "--scope", "write", "--label", "bot"
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert len(token) >= 40 and "\n" not in token

    listed = _cli(config, "token", "list", "carol")
    assert listed.returncode == 0
    assert "active\tbot\tread write" in listed.stdout
    assert token not in listed.stdout
    token_id = listed.stdout.split("\t")[0]

    # The token works against a real app on the same database
    client: Client = await aiohttp_client(create_app(load_settings(config)))
    auth = {"Authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/accounts/verify_credentials", headers=auth)
    assert me.status == 200
    assert (await me.json())["username"] == "carol"

    revoked = _cli(config, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=auth)).status == 401
    again = _cli(config, "token", "revoke", token_id)
    assert again.returncode == 2 and "already revoked" in again.stderr
    assert "revoked\tbot" in _cli(config, "token", "list", "carol").stdout


def test_oauth_error_renders_rfc_shape() -> None:
    exc = rules.OAuthError("invalid_grant", "nope")
    assert isinstance(exc, AgoraError)
    assert exc.status == 400
    assert exc.to_json() == {"error": "invalid_grant", "error_description": "nope"}
