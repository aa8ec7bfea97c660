"""``agora-node init | check-config | serve | quickstart | demo``: a node's
config file and database, and running it."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from agora_node import __version__, demo
from agora_node.app import create_app
from agora_node.cli.accounts import create_account
from agora_node.cli.common import load, open_db
from agora_node.config import REGISTRATION_MODES, Settings, load_settings, render_config
from agora_node.errors import CommandError
from agora_node.logs import setup_logging
from agora_node.store import accounts as accounts_store


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("serve", help="run the node")
    quick = sub.add_parser("quickstart", help="init a local node, create a first account, serve")
    quick.add_argument("--port", type=int, default=8080)
    quick.add_argument("--username", default="owner")

    init = sub.add_parser("init", help="write a config file and create the database")
    init.add_argument("--domain", default="localhost:8080")
    init.add_argument("--base-url", default=None)
    init.add_argument("--host", default="127.0.0.1")
    init.add_argument("--port", type=int, default=8080)
    init.add_argument("--db", default=None, help="database path (relative to the config file)")
    init.add_argument("--name", default="Agora")
    init.add_argument("--registration", default="closed", choices=REGISTRATION_MODES)
    init.add_argument("--plain-http-host", action="append", help="host reachable over http")
    init.add_argument("--allow-network", action="append", help="private network to allow")
    init.add_argument("--force", action="store_true")

    sub.add_parser("check-config", help="validate the config file")
    demo_cmd = sub.add_parser("demo", help="run three local nodes that talk to each other")
    demo_cmd.add_argument("--dir", default="agora-demo", help="data folder for the three nodes")
    demo_cmd.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1-3")


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.config)
    if path.exists() and not args.force:
        raise CommandError(f"{path} already exists (use --force to overwrite)")
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
    db = open_db(settings)
    db.close()
    print(f"wrote {path}; database at {settings.database.path}")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = load(args.config)
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
    settings = load(args.config)
    setup_logging(settings)
    serve(settings)
    return 0


async def _freeze_startup_objects(_app: object) -> None:
    """Leave what start-up made (modules, schemas, keys) out of later GC passes.

    A full collection walks every live object while holding the event loop;
    with start-up's objects frozen it walks only what serving made since
    (bench/inbox.py sees such a pause as the event loop's longest stall).
    """
    gc.collect()
    gc.freeze()


def serve(settings: Settings) -> None:
    # The database writer thread runs Python beside the event loop, and gives
    # up the GIL around every SQLite call; each time it wants it back it waits
    # up to one switch interval while the loop runs (5 ms by default). With a
    # tenth of a millisecond a request's commit is not stretched by a dozen
    # such waits (bench/inbox.py measures the p99 this changes).
    sys.setswitchinterval(0.0001)
    app = create_app(settings, worker_mode=settings.server.workers)
    app.on_startup.append(_freeze_startup_objects)  # after the app's own start-up
    db = open_db(settings)
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
    settings = load(args.config)
    setup_logging(settings)
    db = open_db(settings)
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


def cmd_demo(args: argparse.Namespace) -> int:
    """Three local nodes that follow, post, reply and boost; Ctrl-C stops them."""
    setup_logging(None)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(demo.run(Path(args.dir).resolve(), args.port))
    return 0
