"""The ``agora-node`` command line: serve, init, quickstart, account, token, queue,
check-config."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import json
import logging
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from agora_node import __version__, cli_accounts, demo
from agora_node.config import Settings, load_settings, render_config
from agora_node.devnet import DevnetError
from agora_node.errors import AgoraError
from agora_node.processing import oauth as oauth_rules
from agora_node.processing.accounts import new_local_account, store_new_account
from agora_node.protocol.hosts import normalise_host
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store import deliveries as deliveries_store
from agora_node.store import jobs as jobs_store
from agora_node.store import spool as spool_store
from agora_node.store import tokens as tokens_store
from agora_node.store.db import Database
from agora_node.workers.inbox import INBOX_JOB

DEFAULT_CONFIG = "agora-data/agora.toml"


class CliError(Exception):
    """A message for the person at the terminal, and exit status 2."""


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(settings: Settings | None) -> None:
    level = settings.server.log_level.upper() if settings else "INFO"
    handler = logging.StreamHandler()
    if settings and settings.server.log_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _load(path: str) -> Settings:
    return load_settings(path)


def _open_db(settings: Settings) -> Database:
    db = Database(settings.database.path)
    db.open()
    return db


def _read_password(args: argparse.Namespace) -> str:
    if args.password_file:
        try:
            text = Path(args.password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(
                f"cannot read password file {args.password_file}: {exc.strerror}"
            ) from None
        password = text.rstrip("\r\n")
        if not password:
            raise CliError("password file is empty")
        return password
    if not sys.stdin.isatty():
        raise CliError("no terminal to prompt for a password: use --password-file")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CliError("passwords do not match")
    return first


def create_account(
    settings: Settings, username: str, password: str, *, admin: bool, locked: bool = False
) -> str:
    """Create an account (CLI and quickstart); returns the actor URI."""
    urls = LocalUrls(settings.base_url)
    new = new_local_account(
        urls, settings.domain, username, password, is_admin=admin, locked=locked
    )
    db = _open_db(settings)
    try:
        if db.read_sync(lambda c: accounts_store.get_account_by_username(c, username)):
            raise CliError(f"account {username!r} already exists")
        if db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, new.actor["uri"])):
            raise CliError(f"the name {username!r} was used by a deleted account")
        db.write_sync(lambda c: store_new_account(c, new))
    finally:
        db.close()
    return str(new.actor["uri"])


def cmd_account(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    if args.account_cmd == "create":
        password = _read_password(args)
        uri = create_account(settings, args.name, password, admin=args.admin, locked=args.locked)
        print(f"created @{args.name}@{settings.domain} ({uri})")
        return 0
    db = _open_db(settings)
    try:
        print(cli_accounts.run(settings, db, args))
    except cli_accounts.AccountCommandError as exc:
        raise CliError(str(exc)) from None
    finally:
        db.close()
    return 0


def _token_state(token: tokens_store.TokenRow, now: float) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


def cmd_token(args: argparse.Namespace) -> int:
    """Personal API tokens for scripts: made here, shown once, stored hashed."""
    settings = _load(args.config)
    db = _open_db(settings)
    try:
        now = time.time()
        if args.tokens_cmd == "revoke":
            found = db.read_sync(lambda c: tokens_store.get_token_by_id(c, args.id))
            if found is None:
                raise CliError(f"no token with id {args.id}")
            if not db.write_sync(lambda c: tokens_store.revoke_token(c, args.id, now)):
                raise CliError(f"token {args.id} was already revoked")
            print(f"revoked token {args.id}")
            return 0
        account = db.read_sync(lambda c: accounts_store.get_account_by_username(c, args.name))
        if account is None or account.deleted_at is not None:
            raise CliError(f"no account named {args.name!r}")
        if args.tokens_cmd == "list":
            for t in db.read_sync(lambda c: tokens_store.list_tokens_for_account(c, account.id)):
                print(f"{t.id}\t{_token_state(t, now)}\t{t.name}\t{' '.join(t.scopes)}")
            return 0
        if args.tokens_cmd == "create":
            try:
                scopes = oauth_rules.parse_scopes(" ".join(args.scope or []))
            except AgoraError as exc:
                raise CliError(str(exc.details.get("error_description", exc))) from None
            if args.days is not None and args.days <= 0:
                raise CliError("--days must be a positive number of days")
            ttl = args.days * 86400 if args.days is not None else None
            issued = db.write_sync(
                lambda c: oauth_rules.issue_token(
                    c,
                    account_id=account.id,
                    app=None,
                    scopes=scopes,
                    now=now,
                    name=args.label,
                    ttl=ttl,
                    refreshable=False,
                )
            )
            print(issued.access_token)
            scope_text = oauth_rules.scope_string(scopes)
            print(
                f"token {issued.token_id} for @{account.username} ({scope_text}); "
                "it is shown only this once",
                file=sys.stderr,
            )
            return 0
    finally:
        db.close()
    raise CliError("unknown token command")


_QUEUE_COLUMNS = ("pending", "retrying", "sending", "failed")
_PURGE_STATES = {
    "failed": ("failed",),
    "pending": ("pending",),
    "done": ("done",),
    "all": ("pending", "failed", "done"),
}


def _host_option(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_host(value)
    except ValueError:
        raise CliError(f"not a host name: {value!r}") from None


def _print_queue(rows: list[tuple[str, str, int]]) -> None:
    if not rows:
        print("the delivery queue is empty")
        return
    table: dict[str, dict[str, int]] = {}
    for host, state, count in rows:
        column = "sending" if state == "running" else state
        table.setdefault(host, dict.fromkeys(_QUEUE_COLUMNS, 0))[column] = count
    width = max(len("host"), *(len(h) for h in table))
    print("host".ljust(width), *(c.rjust(8) for c in _QUEUE_COLUMNS))
    for host, counts in table.items():
        print(host.ljust(width), *(str(counts.get(c, 0)).rjust(8) for c in _QUEUE_COLUMNS))


def cmd_queue(args: argparse.Namespace) -> int:
    """The outgoing delivery queue: what waits for which host; retry or purge it.
    Also one line for inbound activities not processed yet, and those given up on."""
    settings = _load(args.config)
    host = _host_option(getattr(args, "host", None))
    to_host = f" for {host}" if host else ""
    db = _open_db(settings)
    try:
        if args.queue_cmd == "retry":
            count = db.write_sync(lambda c: deliveries_store.retry_failed_deliveries(c, host))
            print(f"requeued {count} failed deliveries{to_host}")
            if count and host is None:
                print("hosts marked unavailable stay paused: retry with --host to revive one")
            return 0
        if args.queue_cmd == "purge":
            states = _PURGE_STATES[args.state]
            count = db.write_sync(lambda c: deliveries_store.purge_deliveries(c, host, states))
            print(f"purged {count} {args.state} deliveries{to_host}")
            return 0
        _print_queue(db.read_sync(deliveries_store.delivery_summary))
        cursors, finished = db.read_sync(jobs_store.spool_cursors)
        spooled = spool_store.count_waiting(settings.database.path, cursors, finished)
        jobs = db.read_sync(lambda c: jobs_store.job_counts(c, INBOX_JOB))
        print(
            f"inbox: {spooled} spooled, {jobs.get('pending', 0)} pending, "
            f"{jobs.get('running', 0)} running, {jobs.get('failed', 0)} failed"
        )
        return 0
    finally:
        db.close()


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.config)
    if path.exists() and not args.force:
        raise CliError(f"{path} already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    base_url = args.base_url or f"http://{args.domain}"
    text = render_config(
        args.domain,
        base_url,
        args.db or "agora.db",
        args.host,
        args.port,
        plain_http_hosts=args.plain_http_host or (),
        allowed_networks=args.allow_network or (),
        registration=args.registration,
        name=args.name,
    )
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)  # checks what we wrote
    db = _open_db(settings)
    db.close()
    print(f"wrote {path}; database at {settings.database.path}")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    print(f"{args.config}: ok (domain {settings.domain}, database {settings.database.path})")
    return 0


def _print_urls(settings: Settings, usernames: Sequence[str]) -> None:
    base = settings.base_url
    print(f"Agora {__version__} at {base}")
    print(f"  NodeInfo:  {base}/.well-known/nodeinfo")
    for name in usernames:
        print(f"  WebFinger: {base}/.well-known/webfinger?resource=acct:{name}@{settings.domain}")
        print(f"  Actor:     {base}/users/{name}   (Accept: application/activity+json)")
        print(f"  Profile:   {base}/@{name}")
    sys.stdout.flush()


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    setup_logging(settings)
    serve(settings)
    return 0


async def _freeze_startup_objects(_app: object) -> None:
    """Leave what start-up made (modules, schemas, keys) out of later GC passes.

    A full collection walks every live object while holding the event loop;
    with start-up's objects frozen it walks only what serving made since
    (bench/inbox.py: a 20 ms gen-2 pause was the longest loop stall).
    """
    gc.collect()
    gc.freeze()


def serve(settings: Settings) -> None:
    from aiohttp import web

    from agora_node.app import create_app

    # The database writer thread runs Python beside the event loop, and gives
    # up the GIL around every SQLite call; each time it wants it back it waits
    # up to one switch interval while the loop runs (default 5 ms). With 0.1 ms
    # a request's commit is not stretched by a dozen such waits (bench/inbox.py,
    # p99 at 80 % load: 0.5 ms -> 49-60 ms, 0.1 ms -> 29-43 ms).
    sys.setswitchinterval(0.0001)
    app = create_app(settings, worker_mode=settings.server.workers)
    app.on_startup.append(_freeze_startup_objects)  # after the app's own start-up
    db = _open_db(settings)
    try:
        names = [a.username for a in db.read_sync(accounts_store.list_accounts) if not a.deleted_at]
    finally:
        db.close()
    _print_urls(settings, names)
    web.run_app(
        app,
        host=settings.server.host,
        port=settings.server.port,
        print=None,
        access_log=logging.getLogger("aiohttp.access"),
        shutdown_timeout=10,
    )


def cmd_quickstart(args: argparse.Namespace) -> int:
    """Init a local node (if needed), make a first account, and serve it."""
    path = Path(args.config)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        domain = f"localhost:{args.port}"
        path.write_text(
            render_config(
                domain,
                f"http://{domain}",
                "agora.db",
                "127.0.0.1",
                args.port,
                plain_http_hosts=(),
                allowed_networks=(),
                registration="closed",
                name="Agora",
            ),
            encoding="utf-8",
        )
        print(f"wrote {path}")
    settings = _load(args.config)
    setup_logging(settings)
    db = _open_db(settings)
    try:
        existing = db.read_sync(accounts_store.list_accounts)
    finally:
        db.close()
    if not existing:
        password = secrets.token_urlsafe(12)
        create_account(settings, args.username, password, admin=True)
        secret_file = path.parent / f"{args.username}-password.txt"
        secret_file.write_text(password + "\n", encoding="utf-8")
        secret_file.chmod(0o600)
        print(
            f"created admin account @{args.username}@{settings.domain}; "
            f"its password is in {secret_file}"
        )
    serve(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agora-node", description="Agora ActivityPub node")
    parser.add_argument("--version", action="version", version=f"agora-node {__version__}")
    parser.add_argument("--config", "-c", default=DEFAULT_CONFIG, help="path of the TOML config")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("serve", help="run the node")
    quick = sub.add_parser("quickstart", help="init a local node, create a first account, serve")
    quick.add_argument("--port", type=int, default=8080)
    quick.add_argument("--username", default="admin")

    init = sub.add_parser("init", help="write a config file and create the database")
    init.add_argument("--domain", default="localhost:8080")
    init.add_argument("--base-url", default=None)
    init.add_argument("--host", default="127.0.0.1")
    init.add_argument("--port", type=int, default=8080)
    init.add_argument("--db", default=None, help="database path (relative to the config file)")
    init.add_argument("--name", default="Agora")
    init.add_argument("--registration", default="closed", choices=["closed", "open", "approval"])
    init.add_argument("--plain-http-host", action="append", help="host reachable over http")
    init.add_argument("--allow-network", action="append", help="private network to allow")
    init.add_argument("--force", action="store_true")

    sub.add_parser("check-config", help="validate the config file")
    demo_cmd = sub.add_parser("demo", help="run three local nodes that talk to each other")
    demo_cmd.add_argument("--dir", default="agora-demo", help="data folder for the three nodes")
    demo_cmd.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1-3")

    account = sub.add_parser("account", help="manage local accounts")
    cli_accounts.add_parsers(account)

    token = sub.add_parser("token", help="manage personal API tokens")
    tok_sub = token.add_subparsers(dest="tokens_cmd", required=True)
    tok_create = tok_sub.add_parser("create", help="make a token and print it once")
    tok_create.add_argument("name", help="the account's username")
    tok_create.add_argument("--scope", action="append", help="a scope (repeat); default read")
    tok_create.add_argument("--label", default="cli", help="a name to recognise the token by")
    tok_create.add_argument("--days", type=int, default=None, help="expire after N days")
    tok_list = tok_sub.add_parser("list", help="list an account's tokens")
    tok_list.add_argument("name")
    tok_revoke = tok_sub.add_parser("revoke", help="revoke a token by id")
    tok_revoke.add_argument("id", type=int)

    queue = sub.add_parser("queue", help="show, retry or purge outgoing deliveries")
    queue_sub = queue.add_subparsers(dest="queue_cmd")
    retry = queue_sub.add_parser("retry", help="send failed deliveries again")
    retry.add_argument("--host", help="only deliveries to this host (and revive it)")
    purge = queue_sub.add_parser("purge", help="delete deliveries from the queue")
    purge.add_argument("--host", help="only deliveries to this host")
    purge.add_argument("--state", default="failed", choices=sorted(_PURGE_STATES))
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    """Three local nodes that follow, post, reply and boost; Ctrl-C stops them."""
    setup_logging(None)
    logging.getLogger().setLevel(logging.WARNING)
    try:
        asyncio.run(demo.run(Path(args.dir).resolve(), args.port))
    except DevnetError as exc:
        raise CliError(str(exc)) from None
    return 0


COMMANDS = {
    "serve": cmd_serve,
    "quickstart": cmd_quickstart,
    "init": cmd_init,
    "check-config": cmd_check_config,
    "demo": cmd_demo,
    "account": cmd_account,
    "token": cmd_token,
    "queue": cmd_queue,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CliError, AgoraError) as exc:
        message = exc.public_message if isinstance(exc, AgoraError) else str(exc)
        print(f"agora-node: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
