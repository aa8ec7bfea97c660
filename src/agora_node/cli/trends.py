"""``agora-node trends ...``: the admin's review of what trends here: take a
hashtag, a post or a link out of the trends, put it back, list what is out."""

from __future__ import annotations

import argparse
import functools
import time

from agora_node.cli.common import load, open_db
from agora_node.errors import CommandError
from agora_node.store import discovery
from agora_node.store import hashtags as hashtags_store

_WHAT = {"tag": "hashtag", "status": "post (its id URL)", "link": "link (its URL)"}


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    trends = sub.add_parser("trends", help="hide or show hashtags, posts and links in trends")
    trends_sub = trends.add_subparsers(dest="trends_cmd", required=True)
    for name, verb in (("hide", "take out of"), ("show", "put back in")):
        cmd = trends_sub.add_parser(name, help=f"{verb} the trends")
        cmd.add_argument("kind", choices=discovery.TREND_KINDS)
        cmd.add_argument("key", help="the hashtag, the post's id URL or the link")
    trends_sub.add_parser("hidden", help="list what is out of the trends")


def _key(kind: str, raw: str) -> str:
    if kind == "tag":
        name = hashtags_store.normal_name(raw)
        if not name:
            raise CommandError("a hashtag needs a name")
        return name
    if not raw.startswith(("https://", "http://")):
        raise CommandError(f"a {_WHAT[kind]} is named by an http(s) URL")
    return raw


def cmd_trends(args: argparse.Namespace) -> int:
    settings = load(args.config)
    db = open_db(settings)
    try:
        if args.trends_cmd == "hidden":
            for kind in discovery.TREND_KINDS:
                keys: set[str] = db.read_sync(functools.partial(discovery.hidden, kind=kind))
                for key in sorted(keys):
                    print(f"{kind}\t{key}")
            return 0
        key = _key(args.kind, args.key)
        if args.trends_cmd == "hide":
            now = time.time()
            db.write_sync(lambda c: discovery.hide_trend(c, args.kind, key, now))
            print(f"{args.kind} {key} is out of the trends")
            return 0
        if not db.write_sync(lambda c: discovery.show_trend(c, args.kind, key)):
            raise CommandError(f"{args.kind} {key} was not hidden")
        print(f"{args.kind} {key} may trend again")
        return 0
    finally:
        db.close()
