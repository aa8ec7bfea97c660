"""Mastodon's moderation entities: Report, Admin::Report and Admin::Account.

Loaded in one pass for a page of reports (the accounts and posts they name),
then rendered without further queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.entities import serialize
from agora_node.entities.serialize import Rendering, iso
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store.accounts import AccountRow, ActorRow
from agora_node.store.reports import ReportRow


@dataclass(frozen=True)
class ReportRendering:
    ctx: Rendering
    accounts_by_actor: dict[str, AccountRow]
    accounts_by_id: dict[int, AccountRow]
    rules: tuple[str, ...]


def load_reports(
    db: sqlite_utils.Database,
    reports: Sequence[ReportRow],
    base_url: str,
    viewer_uri: str | None,
    rules: tuple[str, ...],
) -> ReportRendering:
    statuses = objects_store.get_objects_by_uris(db, [u for r in reports for u in r.status_uris])
    ctx = serialize.load_statuses(
        db, [s for s in statuses.values() if not s.is_tombstone], viewer_uri, base_url,
        extra_actors=[u for r in reports for u in (r.reporter_uri, r.target_uri)],
    )  # fmt: skip
    wanted: dict[int, AccountRow] = {}
    for report in reports:
        for uri in (report.reporter_uri, report.target_uri):
            found = accounts_store.get_account_by_actor_uri(db, uri)
            if found is not None:
                wanted[found.id] = found
        if report.assigned_account_id is not None:
            found = accounts_store.get_account_by_id(db, report.assigned_account_id)
            if found is not None:
                wanted[found.id] = found
        if report.action_taken_by:
            found = accounts_store.get_account_by_username(db, report.action_taken_by)
            if found is not None:
                wanted[found.id] = found
    by_actor = {a.actor.uri: a for a in wanted.values() if a.actor is not None}
    for uri, a in by_actor.items():
        assert a.actor is not None
        ctx.actors.setdefault(uri, a.actor)
    counted = serialize.accounts_rendering(db, list(ctx.actors.values()), base_url)
    ctx.actor_counts.update(counted.actor_counts)
    ctx.cached.update(counted.cached)
    return ReportRendering(ctx, by_actor, wanted, rules)


def load_accounts(
    db: sqlite_utils.Database, actors: Sequence[ActorRow], base_url: str
) -> ReportRendering:
    """What rendering a page of Admin::Accounts needs."""
    ctx = serialize.accounts_rendering(db, actors, base_url)
    wanted: dict[int, AccountRow] = {}
    for actor in actors:
        if actor.local:
            found = accounts_store.get_account_by_actor_uri(db, actor.uri)
            if found is not None:
                wanted[found.id] = found
    by_actor = {a.actor.uri: a for a in wanted.values() if a.actor is not None}
    return ReportRendering(ctx, by_actor, wanted, ())


def _account(r: ReportRendering, uri: str) -> dict[str, Any]:
    actor = r.ctx.actors.get(uri)
    if actor is None:
        return serialize.account_of(r.ctx, uri)
    return serialize.account_json(r.ctx, actor)


def _statuses(r: ReportRendering, report: ReportRow) -> list[dict[str, Any]]:
    out = []
    for uri in report.status_uris:
        obj = r.ctx.objects.get(uri)
        if obj is not None:
            rendered = serialize.status_json(r.ctx, obj)
            if rendered is not None:
                out.append(rendered)
    return out


def report_json(r: ReportRendering, report: ReportRow) -> dict[str, Any]:
    """The Report entity a reporter gets (Mastodon's, with GoToSocial's
    ``action_taken_comment`` so the reporter can read what was decided)."""
    return {
        "id": str(report.id),
        "action_taken": report.resolved_at is not None,
        "action_taken_at": iso(report.resolved_at),
        "action_taken_comment": report.action_comment or None,
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": [str(r.ctx.objects[u].id) for u in report.status_uris
                       if u in r.ctx.objects] or None,
        "rule_ids": [str(i) for i in report.rule_ids] or None,
        "target_account": _account(r, report.target_uri),
    }  # fmt: skip


def admin_account_json(r: ReportRendering, uri: str) -> dict[str, Any]:
    """Admin::Account: the account with what moderators see of it."""
    actor: ActorRow | None = r.ctx.actors.get(uri)
    local = r.accounts_by_actor.get(uri)
    return {
        "id": str(actor.id) if actor else "0",
        "username": actor.username if actor else "",
        "domain": None if actor is None or actor.local else actor.host,
        "created_at": iso(local.created_at if local else (actor.published if actor else None)),
        "email": None,
        "ip": None,
        "ips": [],
        "locale": None,
        "invite_request": None,
        "role": {"id": "3", "name": "Admin", "permissions": "1", "color": "", "highlighted": True}
        if local is not None and local.is_admin
        else {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False},
        "confirmed": True,
        "approved": True,
        "disabled": bool(local is not None and local.disabled_at is not None),
        "silenced": bool(actor and actor.silenced_at is not None),
        "suspended": bool(actor and actor.suspended_at is not None),
        "sensitized": bool(actor and actor.sensitized_at is not None),
        "account": _account(r, uri),
    }


def admin_report_json(r: ReportRendering, report: ReportRow) -> dict[str, Any]:
    assigned = r.accounts_by_id.get(report.assigned_account_id or -1)
    taker = next(
        (a for a in r.accounts_by_id.values() if a.username == report.action_taken_by), None
    )
    return {
        "id": str(report.id),
        "action_taken": report.resolved_at is not None,
        "action_taken_at": iso(report.resolved_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "account": admin_account_json(r, report.reporter_uri),
        "target_account": admin_account_json(r, report.target_uri),
        "assigned_account": admin_account_json(r, assigned.actor.uri)
        if assigned is not None and assigned.actor is not None
        else None,
        "action_taken_by_account": admin_account_json(r, taker.actor.uri)
        if taker is not None and taker.actor is not None
        else None,
        "statuses": _statuses(r, report),
        "rules": [
            {"id": str(i), "text": r.rules[i - 1], "hint": ""}
            for i in report.rule_ids
            if 0 < i <= len(r.rules)
        ],
    }
