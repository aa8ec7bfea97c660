"""Reports: the rules for filing one, and the ``Flag`` that forwards it.

A person reports an account, optionally with some of its posts, a category
(Mastodon's ``spam``, ``legal``, ``violation`` of some of the instance's
rules, ``other``) and a comment. Reporting oneself, someone else's posts
under an account, or a post one cannot see is refused. When the account is
on another server and the reporter asks for it, the report is forwarded
there as a ``Flag`` from the instance actor (so the reporter stays
anonymous), as Mastodon does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.errors import UnprocessableEntity
from agora_node.processing.effects import Effects
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import AS_CONTEXT
from agora_node.store import deliveries as deliveries_store
from agora_node.store import objects as objects_store
from agora_node.store import reports as reports_store
from agora_node.store.accounts import ActorRow
from agora_node.store.objects import ObjectRow

MAX_COMMENT = 1000
MAX_STATUSES = 50


@dataclass(frozen=True)
class Filing:
    """A report as the reporter wrote it, once checked."""

    reporter_uri: str
    target: ActorRow
    statuses: tuple[ObjectRow, ...]
    category: str
    rule_ids: tuple[int, ...]
    comment: str
    forward: bool


def checked_filing(
    *,
    reporter_uri: str,
    target: ActorRow,
    statuses: list[ObjectRow],
    category: str | None,
    rule_ids: list[int],
    comment: str,
    forward: bool,
    rule_count: int,
) -> Filing:
    if target.uri == reporter_uri:
        raise UnprocessableEntity("Validation failed: you cannot report yourself")
    if len(comment) > MAX_COMMENT:
        raise UnprocessableEntity(f"Validation failed: comment is over {MAX_COMMENT} characters")
    if len(statuses) > MAX_STATUSES:
        raise UnprocessableEntity(f"Validation failed: at most {MAX_STATUSES} posts per report")
    if any(s.actor_uri != target.uri for s in statuses):
        raise UnprocessableEntity("Validation failed: every post must be the reported account's")
    kind = category or ("violation" if rule_ids else "other")
    if kind not in reports_store.CATEGORIES:
        raise UnprocessableEntity(
            f"Validation failed: category must be one of {', '.join(reports_store.CATEGORIES)}"
        )
    if kind == "violation" and not rule_ids:
        raise UnprocessableEntity("Validation failed: a violation names the rules broken")
    if kind != "violation" and rule_ids:
        rule_ids = []
    unknown = [r for r in rule_ids if not 1 <= r <= rule_count]
    if unknown:
        raise UnprocessableEntity(f"Validation failed: no rule {unknown[0]}")
    return Filing(
        reporter_uri, target, tuple(statuses), kind, tuple(dict.fromkeys(rule_ids)),
        comment.strip(), forward and not target.local,
    )  # fmt: skip


def file_report(
    db: sqlite_utils.Database, urls: LocalUrls, filing: Filing, now: float, effects: Effects
) -> int:
    """Store the report (and queue its ``Flag`` when it is forwarded); its id."""
    activity_uri = f"{urls.base_url}/reports/{uuid.uuid4().hex}"
    status_uris = [s.uri for s in filing.statuses]
    report_id = reports_store.add_report(
        db, activity_uri=activity_uri, reporter_uri=filing.reporter_uri,
        target_uri=filing.target.uri, status_uris=status_uris, comment=filing.comment,
        now=now, category=filing.category, rule_ids=list(filing.rule_ids), local=True,
        forwarded=filing.forward,
    )  # fmt: skip
    assert report_id is not None
    if filing.forward:
        _send_flag(db, urls, activity_uri, filing, status_uris, now, effects)
    return report_id


def flag_of(urls: LocalUrls, activity_uri: str, target_uri: str, objects: list[str],
            comment: str) -> dict[str, Any]:  # fmt: skip
    """The ``Flag`` Mastodon sends: from the instance actor, naming the account
    and the posts, with the comment as ``content``."""
    return {
        "@context": AS_CONTEXT,
        "id": activity_uri,
        "type": "Flag",
        "actor": urls.instance_actor,
        "content": comment,
        "object": [target_uri, *objects],
        "to": [target_uri],
    }


def _send_flag(
    db: sqlite_utils.Database,
    urls: LocalUrls,
    activity_uri: str,
    filing: Filing,
    status_uris: list[str],
    now: float,
    effects: Effects,
) -> None:
    target = filing.target
    inbox = target.shared_inbox or target.inbox
    if not inbox:
        return
    doc = flag_of(urls, activity_uri, target.uri, status_uris, filing.comment)
    objects_store.put_activity(
        db, uri=activity_uri, type="Flag", actor_uri=urls.instance_actor,
        object_uri=target.uri, local=True, visibility="direct", data=doc, created_at=now,
    )  # fmt: skip
    # Signed with the instance key (no account), as the instance actor.
    effects.deliveries += deliveries_store.add_deliveries(
        db, activity_uri, [(inbox, target.host)], None, now
    )
