from __future__ import annotations

import functools
import http.server
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it


def cli(config: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agora_node.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "node" / "agora.toml"
    result = cli(path, "init", "--domain", "node.test", "--base-url", "https://node.test")
    assert result.returncode == 0, result.stderr
    return path


def test_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agora_node.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0 and out.stdout.startswith("agora-node ")


def test_account_lifecycle(config: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    created = cli(config, "account", "create", "Alice", "--admin", "--password-file", str(pw))
    assert created.returncode == 0, created.stderr
    assert "@Alice@node.test" in created.stdout
    # Case-insensitive uniqueness
    dup = cli(config, "account", "create", "alice", "--password-file", str(pw))
    assert dup.returncode == 2 and "already exists" in dup.stderr
    listed = cli(config, "account", "list")
    assert "@Alice@node.test [admin]" in listed.stdout
    # Private keys never appear in output
    assert "PRIVATE" not in created.stdout + created.stderr + listed.stdout
    deleted = cli(config, "account", "delete", "alice")
    assert deleted.returncode == 0
    assert "deleted]" in cli(config, "account", "list").stdout
    again = cli(config, "account", "delete", "alice")
    assert again.returncode == 2 and "no account" in again.stderr


@pytest.mark.parametrize("name", ["bad-name", "Ünïcode", "a" * 31, "", "has space"])
def test_bad_usernames(config: Path, tmp_path: Path, name: str) -> None:
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    result = cli(config, "account", "create", name, "--password-file", str(pw))
    assert result.returncode == 2 and "username" in result.stderr


def test_password_rules(config: Path, tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("short\n")
    result = cli(config, "account", "create", "bob", "--password-file", str(short))
    assert result.returncode == 2 and "at least 8" in result.stderr
    result = cli(config, "account", "create", "bob", stdin="")
    assert result.returncode == 2 and "--password-file" in result.stderr
    missing = cli(config, "account", "create", "bob", "--password-file", str(tmp_path / "none"))
    assert missing.returncode == 2 and "cannot read password file" in missing.stderr


def test_init_refuses_to_overwrite(config: Path) -> None:
    result = cli(config, "init")
    assert result.returncode == 2 and "already exists" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_and_graceful_shutdown(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "agora.toml"
    init = cli(config, "init", "--domain", f"127.0.0.1:{port}", "--port", str(port))
    assert init.returncode == 0, init.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "agora_node.cli", "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/.well-known/nodeinfo") as r:
                        assert r.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "node did not start"
                    await __import__("asyncio").sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)


def test_trends_review(config: Path) -> None:
    hidden = cli(config, "trends", "hide", "tag", "#Cats")
    assert hidden.returncode == 0, hidden.stderr
    link = cli(config, "trends", "hide", "link", "https://spam.example/buy")
    assert link.returncode == 0, link.stderr
    listed = cli(config, "trends", "hidden")
    assert listed.stdout.splitlines() == ["tag\tcats", "link\thttps://spam.example/buy"]
    assert cli(config, "trends", "show", "tag", "cats").returncode == 0
    again = cli(config, "trends", "show", "tag", "cats")
    assert again.returncode == 2 and "was not hidden" in again.stderr
    bad = cli(config, "trends", "hide", "status", "not-a-url")
    assert bad.returncode == 2 and "URL" in bad.stderr
    assert cli(config, "trends", "hidden").stdout.splitlines() == ["link\thttps://spam.example/buy"]


def test_account_suspend_unsuspend_and_reset_password(config: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    assert cli(config, "account", "create", "erin", "--password-file", str(pw)).returncode == 0
    done = cli(config, "account", "suspend", "erin")
    assert done.returncode == 0 and "suspended @erin@node.test" in done.stdout
    assert "@erin@node.test [suspended]" in cli(config, "account", "list").stdout
    assert cli(config, "account", "unsuspend", "erin").returncode == 0
    assert "[suspended]" not in cli(config, "account", "list").stdout
    reset = cli(config, "account", "reset-password", "erin")
    assert reset.returncode == 0 and "new password for @erin@node.test: " in reset.stdout
    missing = cli(config, "account", "suspend", "nobody")
    assert missing.returncode == 2 and "no account named" in missing.stderr


async def test_quickstart_makes_its_admin_and_serves(tmp_path: Path) -> None:
    """The README's first command, with its defaults: a node with a first admin, serving."""
    port = _free_port()
    config = tmp_path / "agora-data" / "agora.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agora_node.cli", "--config", str(config),
         "quickstart", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/.well-known/webfinger?resource=acct:owner@localhost:{port}"
    try:
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as session:
            while True:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                try:
                    async with session.get(url) as r:
                        assert r.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "node did not start"
                    await __import__("asyncio").sleep(0.1)
        assert (tmp_path / "agora-data" / "owner-password.txt").stat().st_mode & 0o777 == 0o600
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)


MASTODON_CSV = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,true,true,Spam,false\n"
    'loud.example,silence,false,false,"Loud, rude",false\n'
)


def test_domain_blocks_import_export_purge_and_the_log(config: Path, tmp_path: Path) -> None:
    done = cli(config, "domain", "block", "Bad.Example", "--private-comment", "harassment")
    assert done.returncode == 0, done.stderr
    assert "blocked bad.example (suspend)" in done.stdout
    listed = tmp_path / "list.csv"
    listed.write_text(MASTODON_CSV, encoding="utf-8")
    dry = cli(config, "domain", "import", str(listed), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "dry run, nothing changed:",
        "add spam.example (suspend, reject_media, reject_reports)",
        "add loud.example (silence)",
    ]
    assert "spam.example" not in cli(config, "domain", "list").stdout
    applied = cli(config, "domain", "import", str(listed))
    assert applied.returncode == 0 and "2 changes applied" in applied.stdout
    assert cli(config, "domain", "list").stdout.splitlines() == [
        "loud.example silence",
        "spam.example suspend [reject_media, reject_reports]",
        "bad.example suspend",
    ]
    # The export is Mastodon's CSV again, read back the same.
    exported = cli(config, "domain", "export")
    assert exported.stdout.splitlines()[1:] == [
        "bad.example,suspend,false,false,,false",
        "spam.example,suspend,true,true,Spam,false",
        'loud.example,silence,false,false,"Loud, rude",false',
    ]
    again = cli(config, "domain", "import", "-", "--dry-run", stdin=exported.stdout)
    assert again.stdout.splitlines() == ["dry run, nothing changed:", "nothing to change"]
    # Replacing the list with --remove-missing lifts what it no longer names.
    listed.write_text("spam.example\n", encoding="utf-8")
    trimmed = cli(config, "domain", "import", str(listed), "--remove-missing", "--dry-run")
    assert "remove bad.example (suspend)" in trimmed.stdout
    assert "change spam.example" in trimmed.stdout  # the flags are not in a plain list
    # Purging needs a confirmation, and only a suspended domain is purged.
    refused = cli(config, "domain", "purge", "bad.example")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert cli(config, "domain", "purge", "loud.example", "--yes").returncode == 2
    purged = cli(config, "domain", "purge", "bad.example", "--yes")
    assert purged.returncode == 0 and "purged 0 accounts of bad.example" in purged.stdout
    assert cli(config, "domain", "unblock", "bad.example").returncode == 0
    missing = cli(config, "domain", "unblock", "bad.example")
    assert missing.returncode == 2 and "bad.example is not blocked" in missing.stderr
    bad = cli(config, "domain", "block", "https://x.example/")
    assert bad.returncode == 2 and "is not a domain" in bad.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("#domain,#severity\nx.example,obliterate\n", encoding="utf-8")
    wrong = cli(config, "domain", "import", str(broken))
    assert wrong.returncode == 2 and "line 2: unknown severity" in wrong.stderr
    assert cli(config, "domain", "import", str(tmp_path / "absent.csv")).returncode == 2
    # The moderation log has every change, newest first.
    log = cli(config, "audit", "--action", "domain_").stdout.splitlines()
    assert [line.split(" ", 2)[2] for line in log] == [
        "cli: domain_unblock bad.example",
        "cli: domain_purge bad.example",
        "cli: domain_import " + str(tmp_path / "list.csv"),
        "cli: domain_block loud.example",
        "cli: domain_block spam.example",
        "cli: domain_block bad.example because 'harassment'",
    ]


def test_allowed_domains_and_account_actions_are_logged(config: Path, tmp_path: Path) -> None:
    assert "allowed friends.example" in cli(config, "domain", "allow", "friends.example").stdout
    assert "friends.example allowed" in cli(config, "domain", "list").stdout
    assert cli(config, "domain", "disallow", "friends.example").returncode == 0
    assert cli(config, "domain", "disallow", "friends.example").returncode == 2
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    assert cli(config, "account", "create", "erin", "--password-file", str(pw)).returncode == 0
    assert cli(config, "account", "limit", "erin").returncode == 0
    assert cli(config, "account", "suspend", "erin").returncode == 0
    log = cli(config, "audit", "--limit", "2").stdout.splitlines()
    assert [line.split(" ", 2)[2] for line in log] == [
        "cli: account_suspend @erin",
        "cli: account_silence @erin",
    ]
    assert cli(config, "audit", "--limit", "0").returncode == 2


def test_reports_from_the_command_line(config: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("a long enough password\n")
    for name in ("erin", "troll"):
        assert cli(config, "account", "create", name, "--password-file", str(pw)).returncode == 0
    assert cli(config, "report", "list").stdout.strip() == "no reports"
    db = sqlite3.connect(config.parent / "agora.db")
    with db:
        db.execute(
            "INSERT INTO reports (activity_uri, reporter_uri, target_uris, content, created_at, "
            "target_uri, status_uris, category, local) VALUES ('https://node.test/reports/1', "
            "'https://node.test/users/erin', '[]', 'rude to me', 1.0, "
            "'https://node.test/users/troll', '[]', 'other', 1)"
        )
    db.close()
    listed = cli(config, "report", "list").stdout
    assert listed.startswith("#1 ") and "https://node.test/users/troll open" in listed
    assert cli(config, "report", "note", "1", "looked at their posts").returncode == 0
    shown = cli(config, "report", "show", "1").stdout
    assert "comment: rude to me" in shown and "note by cli" in shown
    assert "looked at their posts" in shown
    done = cli(config, "report", "resolve", "1", "--action", "silence", "--comment", "limited")
    assert done.returncode == 0 and "resolved report #1 (silence)" in done.stdout
    assert "@troll@node.test [silenced]" in cli(config, "account", "list").stdout
    assert cli(config, "report", "list").stdout.strip() == "no reports"
    assert "resolved (silence)" in cli(config, "report", "list", "--resolved").stdout
    again = cli(config, "report", "resolve", "1")
    assert again.returncode == 2 and "already resolved" in again.stderr
    assert cli(config, "report", "reopen", "1").returncode == 0
    assert cli(config, "report", "show", "404").returncode == 2
    log = cli(config, "audit", "--action", "report_").stdout.splitlines()
    assert [line.split(" ", 3)[3] for line in log] == [
        "report_reopen report 1",
        "report_resolve report 1 because 'limited'",
        "report_note report 1",
    ]


def test_policy_test_shows_each_decision(config: Path, tmp_path: Path) -> None:
    activity = tmp_path / "activity.json"
    activity.write_text(
        '{"id": "https://x.example/a/1", "type": "Create", "actor": "https://x.example/u/z",'
        ' "object": {"id": "https://x.example/n/1", "type": "Note",'
        ' "content": "<p>BUY FOLLOWERS CHEAP TODAY</p>"}}',
        encoding="utf-8",
    )
    none = cli(config, "policy", "test", str(activity))
    assert none.returncode == 0 and "no policies are configured" in none.stdout
    shutil.copy(Path(__file__).resolve().parents[1] / "examples" / "policies.py",
                config.parent / "policies.py")  # fmt: skip
    with config.open("a", encoding="utf-8") as f:
        f.write(
            '\n[[policies]]\nname = "keywords"\nsensitive = ["cheap"]\n'
            '\n[[policies]]\nclass = "policies.py:NoShouting"\nmin_letters = 10\n'
        )
    judged = cli(config, "policy", "test", str(activity))
    assert judged.returncode == 0, judged.stderr
    assert judged.stdout.splitlines() == [
        "keywords: rewrite (marked sensitive for the word 'CHEAP')",
        "no_shouting: reject (the whole post is in capitals)",
        "=> rejected by no_shouting",
    ]
    activity.write_text("not json", encoding="utf-8")
    bad = cli(config, "policy", "test", str(activity))
    assert bad.returncode == 2 and "is not JSON" in bad.stderr
    with config.open("a", encoding="utf-8") as f:
        f.write('\n[[policies]]\nname = "no_such_policy"\n')
    broken = cli(config, "check-config")
    assert broken.returncode == 2 and "no policy named 'no_such_policy'" in broken.stderr


def test_block_list_subscriptions(tmp_path: Path) -> None:
    served = tmp_path / "www"
    served.mkdir()
    (served / "list.csv").write_text(MASTODON_CSV, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        host = f"127.0.0.1:{httpd.server_address[1]}"
        config = tmp_path / "node" / "agora.toml"
        made = cli(config, "init", "--domain", "node.test", "--base-url", "https://node.test",
                   "--allow-network", "127.0.0.0/8", "--plain-http-host", host)  # fmt: skip
        assert made.returncode == 0, made.stderr
        url = f"http://{host}/list.csv"
        assert f"subscribed to {url}" in cli(config, "domain", "subscribe", url).stdout
        dry = cli(config, "domain", "refresh", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.splitlines() == [
            f"{url}: dry run, nothing changed",
            "  add spam.example (suspend, reject_media, reject_reports)",
            "  add loud.example (silence)",
        ]
        assert cli(config, "domain", "list").stdout.strip() == "no domain blocks"
        done = cli(config, "domain", "refresh", "1")
        assert f"{url}: 2 changes applied" in done.stdout
        assert "spam.example suspend" in cli(config, "domain", "list").stdout
        assert "last fetched 20" in cli(config, "domain", "subscriptions").stdout
        gone = cli(config, "domain", "unsubscribe", url)
        assert "2 blocks lifted" in gone.stdout
        assert cli(config, "domain", "list").stdout.strip() == "no domain blocks"
        bad = cli(config, "domain", "subscribe", "ftp://x.example/list")
        assert bad.returncode == 2 and "not an http(s) address" in bad.stderr
    finally:
        httpd.shutdown()
