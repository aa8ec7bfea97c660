"""``agora-node media ...``: the media folder: what it holds, trimming the cache
of remote media, and sweeping uploads no post took."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from agora_node.actions.media import MediaService, remove_unattached
from agora_node.cli.common import load, open_db
from agora_node.errors import CommandError
from agora_node.federation.media_cache import prune
from agora_node.store import media_cache as cache_store


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    media = sub.add_parser("media", help="the cache of remote media and unattached uploads")
    media_sub = media.add_subparsers(dest="media_cmd", required=True)
    media_sub.add_parser("usage", help="how much the cache of remote media holds")
    prune_cmd = media_sub.add_parser(
        "prune", help="drop cached remote media: the oldest, down to the limits"
    )
    prune_cmd.add_argument(
        "--older-than", type=float, metavar="DAYS", help="default: media.remote_keep_days"
    )
    prune_cmd.add_argument(
        "--max-bytes", type=int, metavar="N", help="default: media.remote_cache_bytes"
    )
    media_sub.add_parser("sweep", help="remove uploads no post took within media.orphan_after")


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def cmd_media(args: argparse.Namespace) -> int:
    settings = load(args.config)
    if args.media_cmd == "prune":
        if args.older_than is not None and args.older_than < 0:
            raise CommandError("--older-than must be a number of days, 0 or more")
        if args.max_bytes is not None and args.max_bytes < 0:
            raise CommandError("--max-bytes must be 0 or more")
    db = open_db(settings)
    service = MediaService.local(settings.media_root, settings.media)

    async def run(work: Callable[[], Any]) -> Any:
        return work()

    try:
        if args.media_cmd == "usage":
            files, size = db.read_sync(cache_store.cache_size)
            print(f"remote media cache: {files} files, {_mb(size)} "
                  f"(limit {_mb(settings.media.remote_cache_bytes)})")  # fmt: skip
            return 0
        if args.media_cmd == "sweep":
            gone = asyncio.run(remove_unattached(db, service, time.time()))
            print(f"removed {gone} uploads no post took")
            return 0

        def progress(count: int, freed: int) -> None:
            if count % 100 == 0:
                print(f"  {count} files, {_mb(freed)} dropped so far", file=sys.stderr)

        gone, freed = asyncio.run(
            prune(
                db, service.files, settings.media, run, now=time.time(),
                keep_days=args.older_than, max_bytes=args.max_bytes, progress=progress,
            )
        )  # fmt: skip
        files, size = db.read_sync(cache_store.cache_size)
        print(f"dropped {gone} cached files ({_mb(freed)}); {files} left ({_mb(size)})")
        return 0
    finally:
        asyncio.run(service.close())
        db.close()
