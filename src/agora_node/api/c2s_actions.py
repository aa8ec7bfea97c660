"""What each C2S activity type means as a local action.

Every action has three steps: ``prepare`` (turn a handle into a URI, before
the schemas), ``scope`` (the token scope it needs) and ``run`` (resolve what
it names over the network, then one transaction in ``processing``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlite_utils

from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.resolve import Resolver
from agora_node.processing import outbound_notes, outbound_social
from agora_node.processing.outbound import OutboundContext, Sent
from agora_node.processing.outbound_notes import Draft
from agora_node.processing.outbound_text import handles_in
from agora_node.protocol.sanitize import html_to_text
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.vocab import as_list, id_of, is_public, types_of, visibility_of
from agora_node.store import objects as objects_store
from agora_node.store.accounts import AccountRow
from agora_node.store.db import Database

T = TypeVar("T")
MAX_RECIPIENTS = 50
SCOPES = {
    "Create": "write:statuses",
    "Update": "write:statuses",
    "Delete": "write:statuses",
    "Announce": "write:statuses",
    "Like": "write:favourites",
    "Follow": "write:follows",
    "Accept": "write:follows",
    "Reject": "write:follows",
    "Block": "write:blocks",
}
UNDOABLE = ("Follow", "Like", "Announce", "Block")


@dataclass(frozen=True)
class Request:
    """One C2S request: who acts, and the tools to resolve what it names."""

    db: Database
    resolver: Resolver
    urls: LocalUrls
    domain: str
    account: AccountRow
    now: float

    @property
    def actor_uri(self) -> str:
        return self.account.actor.uri if self.account.actor else ""

    async def write(
        self,
        action: Callable[[sqlite_utils.Database, OutboundContext, AccountRow, T], Sent],
        arg: T,
        fetched: Mapping[str, dict[str, Any]] | None = None,
    ) -> Sent:
        ctx = OutboundContext(self.urls, self.domain, self.now, fetched or {})
        return await self.db.write(lambda db: action(db, ctx, self.account, arg))


async def _unchanged(call: Request, activity: dict[str, Any]) -> dict[str, Any]:
    return activity


@dataclass(frozen=True)
class Action:
    run: Callable[[Request, dict[str, Any]], Awaitable[Sent]]
    prepare: Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any]]] = _unchanged
    scope_of: Callable[[Request, dict[str, Any]], Awaitable[str]] | None = None

    async def scope(self, call: Request, activity: dict[str, Any]) -> str:
        if self.scope_of is not None:
            return await self.scope_of(call, activity)
        return SCOPES[types_of(activity)[0]]


def _object_uri(activity: dict[str, Any]) -> str:
    uri = id_of(activity.get("object"))
    if not uri:
        raise UnprocessableEntity("object must name what the activity is about", path="$.object")
    return uri


# -- posts ---------------------------------------------------------------------------


def _note(activity: dict[str, Any]) -> dict[str, Any]:
    note = activity.get("object")
    if not isinstance(note, dict) or "Note" not in types_of(note):
        raise UnprocessableEntity("only a Note can be posted", path="$.object")
    return note


def _text(note: dict[str, Any]) -> str:
    """The post as plain text: ``source`` when it is plain text, else ``content`` (HTML)."""
    source = note.get("source")
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        if source.get("mediaType", "text/plain") in ("text/plain", "text/markdown"):
            return str(source["content"])
    content = note.get("content")
    if not isinstance(content, str) or not content:
        content_map = note.get("contentMap")
        values = content_map.values() if isinstance(content_map, dict) else []
        content = next((v for v in values if isinstance(v, str)), "")
    if note.get("mediaType") == "text/plain":
        return str(content)
    return html_to_text(str(content))


def _language(note: dict[str, Any]) -> str | None:
    content_map = note.get("contentMap")
    if isinstance(content_map, dict) and len(content_map) == 1:
        (language,) = content_map
        if isinstance(language, str) and 0 < len(language) <= 16:
            return language
    return None


def _addresses(activity: dict[str, Any], note: dict[str, Any], field: str) -> list[str]:
    values = [*as_list(activity.get(field)), *as_list(note.get(field))]
    return [a for a in (id_of(v) for v in values) if a]


async def _recipients(call: Request, activity: dict[str, Any], note: dict[str, Any]) -> list[str]:
    """Actors the client addressed or tagged, each resolved (a wrong one is a 422)."""
    assert call.account.actor is not None
    followers = call.account.actor.followers_uri
    named = [*_addresses(activity, note, "to"), *_addresses(activity, note, "cc")]
    named += [
        str(tag["href"])
        for tag in as_list(note.get("tag"))
        if isinstance(tag, dict) and tag.get("type") == "Mention" and tag.get("href")
    ]
    wanted = [
        a for a in dict.fromkeys(named) if not is_public(a) and a not in (followers, call.actor_uri)
    ]
    if len(wanted) > MAX_RECIPIENTS:
        raise UnprocessableEntity(f"a post may address at most {MAX_RECIPIENTS} accounts")
    return [(await call.resolver.actor_by_uri(uri)).uri for uri in wanted]


async def _draft(call: Request, note: dict[str, Any], **extra: Any) -> Draft:
    text = _text(note)
    mentions = await call.resolver.mentions(handles_in(text, call.domain))
    summary = note.get("summary")
    return Draft(
        text=text,
        summary=summary if isinstance(summary, str) else "",
        sensitive=note.get("sensitive") is True,
        language=_language(note),
        mentions=mentions,
        **extra,
    )


async def _create(call: Request, activity: dict[str, Any]) -> Sent:
    note = _note(activity)
    assert call.account.actor is not None
    addressing = {"to": _addresses(activity, note, "to"), "cc": _addresses(activity, note, "cc")}
    parent = id_of(note.get("inReplyTo"))
    fetched: dict[str, dict[str, Any]] = {}
    if parent:
        doc = await call.resolver.unknown_post(parent)
        if doc is not None:
            fetched[parent] = doc
    draft = await _draft(
        call,
        note,
        visibility=visibility_of(addressing, call.account.actor.followers_uri),
        in_reply_to=parent,
        recipients=tuple(await _recipients(call, activity, note)),
    )
    return await call.write(outbound_notes.post, draft, fetched)


async def _update(call: Request, activity: dict[str, Any]) -> Sent:
    note = _note(activity)
    uri = _object_uri(activity)
    draft = await _draft(call, note)

    def edit(
        db: sqlite_utils.Database, ctx: OutboundContext, account: AccountRow, d: Draft
    ) -> Sent:
        return outbound_notes.edit(db, ctx, account, uri, d)

    return await call.write(edit, draft)


async def _delete(call: Request, activity: dict[str, Any]) -> Sent:
    return await call.write(outbound_notes.delete, _object_uri(activity))


# -- social --------------------------------------------------------------------------


async def _handle_to_uri(call: Request, activity: dict[str, Any]) -> dict[str, Any]:
    """``object: "@user@host"`` (or ``acct:``) names an account by handle."""
    obj = activity.get("object")
    if isinstance(obj, str) and not obj.startswith(("https://", "http://")):
        actor = await call.resolver.actor_by_handle(obj)
        return {**activity, "object": actor.uri}
    return activity


async def _follow(call: Request, activity: dict[str, Any]) -> Sent:
    target = await call.resolver.actor_by_uri(_object_uri(activity))
    return await call.write(outbound_social.follow, target.uri)


async def _block(call: Request, activity: dict[str, Any]) -> Sent:
    target = await call.resolver.actor_by_uri(_object_uri(activity))
    return await call.write(outbound_social.block, target.uri)


async def _like(call: Request, activity: dict[str, Any]) -> Sent:
    uri = _object_uri(activity)
    doc = await call.resolver.unknown_post(uri)
    return await call.write(outbound_social.like, uri, {uri: doc} if doc else None)


async def _announce(call: Request, activity: dict[str, Any]) -> Sent:
    uri = _object_uri(activity)
    doc = await call.resolver.unknown_post(uri)
    return await call.write(outbound_social.boost, uri, {uri: doc} if doc else None)


async def _follow_answer(call: Request, activity: dict[str, Any]) -> Sent:
    """Accept/Reject name the Follow (by id or embedded); we need its actor."""
    obj = activity.get("object")
    follower = id_of(obj.get("actor")) if isinstance(obj, dict) else None
    if follower is None:
        follow_id = _object_uri(activity)
        row = await call.db.read(lambda db: objects_store.get_activity_row(db, follow_id))
        if row is None or row[0] != "Follow" or row[2] != call.actor_uri:
            raise NotFound("no follow request with this id")
        follower = row[1]
    answer = outbound_social.accept_follow
    if types_of(activity)[0] == "Reject":
        answer = outbound_social.reject_follow
    return await call.write(answer, follower)


async def _undone(call: Request, activity: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(type, id, target) of the activity an Undo names."""
    inner = activity.get("object")
    inner_id = id_of(inner)
    if inner_id:
        row = await call.db.read(lambda db: objects_store.get_activity_row(db, inner_id))
        if row is not None and row[1] == call.actor_uri:
            return row[0], inner_id, row[2]
    if isinstance(inner, dict) and types_of(inner):
        return types_of(inner)[0], None, id_of(inner.get("object"))
    raise NotFound("no such activity of yours")


async def _undo_scope(call: Request, activity: dict[str, Any]) -> str:
    kind, _, _ = await _undone(call, activity)
    if kind not in UNDOABLE:
        raise UnprocessableEntity("only a Follow, Like, Announce or Block can be undone")
    return SCOPES[kind]


async def _undo(call: Request, activity: dict[str, Any]) -> Sent:
    kind, inner_id, target = await _undone(call, activity)
    if inner_id is not None:
        return await call.write(outbound_social.undo, inner_id)
    if target is None:
        raise UnprocessableEntity("name the activity to undo, or its object", path="$.object")
    if kind in ("Follow", "Block") and not target.startswith(("https://", "http://")):
        target = (await call.resolver.actor_by_handle(target)).uri
    return await call.write(outbound_social.UNDOERS[kind], target)


ACTIONS: dict[str, Action] = {
    "Create": Action(_create),
    "Update": Action(_update),
    "Delete": Action(_delete),
    "Follow": Action(_follow, prepare=_handle_to_uri),
    "Block": Action(_block, prepare=_handle_to_uri),
    "Like": Action(_like),
    "Announce": Action(_announce),
    "Accept": Action(_follow_answer),
    "Reject": Action(_follow_answer),
    "Undo": Action(_undo, scope_of=_undo_scope),
}
