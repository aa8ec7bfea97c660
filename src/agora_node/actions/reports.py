"""Reports, filed and worked: one set of actions under the client API, the
admin API, the CLI and the admin pages.

People file reports (``file``); remote servers' ``Flag`` activities land in
the same queue (``processing/inbound.py``). Moderators take one (``assign``),
write notes, and resolve it, optionally acting on the reported account at
the same time (``resolve`` with ``sensitive``, ``disable``, ``silence``,
``suspend``, or ``delete`` for the reported posts); a resolved report can be
reopened. Every step
is written to the moderation log. A local reporter is told when their report
is resolved (a notification, and their own list of reports shows it).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from agora_node.actions import admin
from agora_node.actions.caller import Caller
from agora_node.actions.signups import Node
from agora_node.context import Instance
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing import reports as rules
from agora_node.processing.effects import Effects
from agora_node.processing.outbound import OutboundContext
from agora_node.processing.outbound_notes import delete as delete_note
from agora_node.store import accounts as accounts_store
from agora_node.store import audit, social
from agora_node.store import objects as objects_store
from agora_node.store import reports as store
from agora_node.store.accounts import AccountRow, ActorRow
from agora_node.store.objects import ObjectRow
from agora_node.store.reports import ReportRow

ACTIONS = ("none", "sensitive", "force_unlisted", "disable", "silence", "suspend", "delete")
REPORT_RESOLVED = "report_resolved"


@dataclass(frozen=True)
class Filed:
    report: ReportRow
    deliveries: int


async def file(
    caller: Caller,
    target: ActorRow,
    statuses: list[ObjectRow],
    *,
    category: str | None,
    rule_ids: list[int],
    comment: str,
    forward: bool,
    instance: Instance,
) -> Filed:
    """File a report as ``caller`` (statuses already checked readable by them)."""
    filing = rules.checked_filing(
        reporter_uri=caller.actor_uri, target=target, statuses=statuses, category=category,
        rule_ids=rule_ids, comment=comment, forward=forward,
        rule_count=len(instance.current.rules),
    )  # fmt: skip
    effects = Effects()

    def write(c: sqlite_utils.Database) -> ReportRow:
        report_id = rules.file_report(c, caller.urls, filing, caller.now, effects)
        found = store.get_report(c, report_id)
        assert found is not None
        return found

    report = await caller.db.write(write)
    return Filed(report, effects.deliveries)


async def find(node: Node, report_id: int) -> ReportRow:
    found = await node.db.read(lambda c: store.get_report(c, report_id))
    if found is None:
        raise NotFound("Record not found")
    return found


def _log(c: sqlite_utils.Database, by: str, action: str, report: ReportRow, now: float,
         reason: str = "", **detail: object) -> None:  # fmt: skip
    audit.record(
        c, by=by, action=action, target=f"report {report.id}", now=now, reason=reason,
        detail={"account": report.target_uri, **detail},
    )  # fmt: skip


async def assign(node: Node, report_id: int, to: AccountRow | None, *, by: str,
                 now: float) -> ReportRow:  # fmt: skip
    """Give the report to an admin (None: give it back to the queue)."""
    report = await find(node, report_id)

    def write(c: sqlite_utils.Database) -> ReportRow:
        store.assign(c, report.id, to.id if to else None, now)
        _log(c, by, "report_assign" if to else "report_unassign", report, now,
             assignee=to.username if to else None)  # fmt: skip
        return _reread(c, report.id)

    return await node.db.write(write)


async def note(node: Node, report_id: int, text: str, *, by: str, now: float) -> int:
    report = await find(node, report_id)
    content = text.strip()
    if not content:
        raise UnprocessableEntity("Validation failed: a note cannot be empty")
    if len(content) > 5000:
        raise UnprocessableEntity("Validation failed: a note is limited to 5000 characters")

    def write(c: sqlite_utils.Database) -> int:
        note_id = store.add_note(c, report.id, by, content, now)
        _log(c, by, "report_note", report, now)
        return note_id

    return await node.db.write(write)


async def categorise(
    node: Node, report_id: int, category: str, rule_ids: list[int], *, instance: Instance,
    by: str, now: float,
) -> ReportRow:  # fmt: skip
    report = await find(node, report_id)
    if category not in store.CATEGORIES:
        raise UnprocessableEntity(
            f"Validation failed: category must be one of {', '.join(store.CATEGORIES)}"
        )
    count = len(instance.current.rules)
    kept = [r for r in rule_ids if 1 <= r <= count] if category == "violation" else []
    if category == "violation" and not kept:
        raise UnprocessableEntity("Validation failed: a violation names the rules broken")

    def write(c: sqlite_utils.Database) -> ReportRow:
        store.set_category(c, report.id, category, kept, now)
        _log(c, by, "report_categorise", report, now, category=category, rule_ids=kept)
        return _reread(c, report.id)

    return await node.db.write(write)


async def resolve(
    node: Node,
    report_id: int,
    *,
    action: str,
    by: AccountRow | None,
    comment: str = "",
    now: float,
) -> tuple[ReportRow, int]:
    """Close the report, acting on it first: ``silence`` or ``suspend`` the
    reported account, ``delete`` the reported posts, or ``none``. The
    reporter (when local) is told. The report and how many servers were sent
    something (a suspension's actor update, deletions)."""
    if action not in ACTIONS:
        raise UnprocessableEntity(f"Validation failed: action must be one of {', '.join(ACTIONS)}")
    report = await find(node, report_id)
    if report.resolved_at is not None:
        raise UnprocessableEntity("Validation failed: this report is already resolved")
    sent = await _act(node, report, action, by, now)
    return await close(node, report.id, action=action, by=by, comment=comment, now=now), sent


async def close(
    node: Node, report_id: int, *, action: str, by: AccountRow | None, comment: str, now: float
) -> ReportRow:
    """Mark a report resolved with ``action`` as its outcome (already taken, by
    ``resolve`` or by the admin API's account action); the reporter is told."""
    report = await find(node, report_id)
    name = by.username if by is not None else "cli"

    def write(c: sqlite_utils.Database) -> ReportRow:
        store.resolve(c, report.id, action=action, by=name, comment=comment.strip(), now=now)
        _log(c, name, "report_resolve", report, now, reason=comment.strip(), outcome=action)
        _tell_reporter(c, report, by, now)
        return _reread(c, report.id)

    return await node.db.write(write)


async def reopen(node: Node, report_id: int, *, by: str, now: float) -> ReportRow:
    report = await find(node, report_id)
    if report.resolved_at is None:
        return report

    def write(c: sqlite_utils.Database) -> ReportRow:
        store.reopen(c, report.id, now)
        _log(c, by, "report_reopen", report, now)
        return _reread(c, report.id)

    return await node.db.write(write)


def _reread(c: sqlite_utils.Database, report_id: int) -> ReportRow:
    found = store.get_report(c, report_id)
    assert found is not None
    return found


def _tell_reporter(
    c: sqlite_utils.Database, report: ReportRow, by: AccountRow | None, now: float
) -> None:
    if not report.local:
        return
    reporter = accounts_store.get_account_by_actor_uri(c, report.reporter_uri)
    if reporter is None or reporter.deleted_at is not None:
        return
    # From the admin who resolved it (when the command line did: the first admin).
    admins = [by] if by is not None else [a for a in accounts_store.list_accounts(c) if a.is_admin]
    sender = next((a.actor.uri for a in admins if a.actor is not None), report.reporter_uri)
    social.add_notification(c, reporter.id, REPORT_RESOLVED, sender, None, report.activity_uri, now)


async def _act(node: Node, report: ReportRow, action: str, by: AccountRow | None,
               now: float) -> int:  # fmt: skip
    """Apply the report's outcome to the account or posts; deliveries queued."""
    if action == "none":
        return 0
    target = await node.db.read(lambda c: accounts_store.get_actor_by_uri(c, report.target_uri))
    if target is None:
        raise UnprocessableEntity("Validation failed: the reported account is gone")
    if action == "delete":
        return await _delete_posts(node, report, target, now)
    return await admin.moderate(node, target, action, by=by, now=now)


async def _delete_posts(node: Node, report: ReportRow, target: ActorRow, now: float) -> int:
    """The reported posts taken down: ours deleted as their author would (a
    ``Delete`` goes out), remote ones tombstoned here."""
    if not report.status_uris:
        raise UnprocessableEntity("Validation failed: this report names no posts")
    account = None
    if target.local:
        account = await node.db.read(
            lambda c: accounts_store.get_account_by_actor_uri(c, target.uri)
        )

    def write(c: sqlite_utils.Database) -> int:
        sent = 0
        ctx = OutboundContext(node.urls, node.domain, now, {})
        for uri in report.status_uris:
            obj = objects_store.get_object(c, uri)
            if obj is None or obj.is_tombstone:
                continue
            if account is not None:
                sent += delete_note(c, ctx, account, uri).deliveries
            else:
                objects_store.tombstone_object(c, uri, target.uri, now)
                social.delete_notifications_for_object(c, uri, target.uri)
        return sent

    return await node.db.write(write)
