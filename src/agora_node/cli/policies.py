"""``agora-node policy test FILE.json``: what the inbound policies would decide.

Runs the configured pipeline on one activity (as a remote server would send
it) with the node's database for what policies ask (how old an account is),
and prints each policy's answer; nothing is stored.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from agora_node.cli.common import load, open_db
from agora_node.errors import CommandError
from agora_node.processing.policies import Accept, Pipeline, PolicyContext, Reject, Rewrite
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    policy = sub.add_parser("policy", help="the inbound policies")
    psub = policy.add_subparsers(dest="policy_cmd", required=True)
    test = psub.add_parser("test", help="what the policies decide about an activity (JSON)")
    test.add_argument("file", help="the activity as JSON ('-' for stdin)")


def _activity(path: str) -> dict[str, object]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        doc = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    except ValueError as exc:
        raise CommandError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise CommandError(f"{path}: an activity is a JSON object with a type")
    return doc


def cmd_policy(args: argparse.Namespace) -> int:
    settings = load(args.config)
    activity = _activity(args.file)
    pipeline = Pipeline.from_specs(settings.policies)
    if not pipeline:
        print("no policies are configured: every activity is accepted")
        return 0
    urls = LocalUrls(settings.base_url)
    db = open_db(settings)
    try:

        def published(uri: str) -> float | None:
            actor = db.read_sync(lambda c: accounts_store.get_actor_by_uri(c, uri))
            return actor.published if actor is not None else None

        outcome = pipeline.run(activity, PolicyContext(time.time(), urls.is_local, published))
    finally:
        db.close()
    for step in outcome.steps:
        v = step.verdict
        if isinstance(v, Reject):
            print(f"{step.policy}: reject ({v.reason})")
        elif isinstance(v, Rewrite):
            print(f"{step.policy}: rewrite ({v.reason})")
        else:
            assert isinstance(v, Accept)
            print(f"{step.policy}: accept")
    if outcome.rejected is not None:
        print(f"=> rejected by {outcome.by}")
    elif outcome.activity != activity:
        print("=> accepted, changed:")
        print(json.dumps(outcome.activity, indent=2))
    else:
        print("=> accepted")
    return 0
