"""The ``agora-node`` command: one module per group of subcommands.

Every command takes ``--config FILE``; an error prints one line naming the
problem and exits with status 2 (every ``AgoraError``, ``CommandError`` for
what only the command line can get wrong).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from agora_node import __version__
from agora_node.cli import (
    accounts,
    domains,
    media,
    node,
    policies,
    queue,
    reports,
    signups,
    tokens,
    trends,
)
from agora_node.cli.common import DEFAULT_CONFIG
from agora_node.errors import AgoraError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": node.cmd_serve,
    "quickstart": node.cmd_quickstart,
    "init": node.cmd_init,
    "check-config": node.cmd_check_config,
    "demo": node.cmd_demo,
    "account": accounts.cmd_account,
    "token": tokens.cmd_token,
    "queue": queue.cmd_queue,
    "trends": trends.cmd_trends,
    "media": media.cmd_media,
    "signup": signups.cmd_signup,
    "invite": signups.cmd_invite,
    "domain": domains.cmd_domain,
    "audit": domains.cmd_audit,
    "report": reports.cmd_report,
    "policy": policies.cmd_policy,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agora-node", description="Agora ActivityPub node")
    parser.add_argument("--version", action="version", version=f"agora-node {__version__}")
    parser.add_argument("--config", "-c", default=DEFAULT_CONFIG, help="path of the TOML config")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (
        node, accounts, signups, tokens, queue, trends, media, domains, reports, policies,
    ):  # fmt: skip
        group.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except AgoraError as exc:
        print(f"agora-node: error: {exc.public_message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
