"""What each C2S activity type means as a local action.

Every action has three steps: ``prepare`` (turn a handle into a URI, before
the schemas), ``scope`` (the token scope it needs) and ``run``, which reads
the activity JSON into the arguments of one shared action (``actions/``)
and calls it. Nothing here decides a rule: the same actions serve the
Mastodon API and the web pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agora_node.actions import posts, social
from agora_node.actions.caller import Caller
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing.outbound import Sent
from agora_node.processing.outbound_notes import Draft
from agora_node.protocol.sanitize import html_to_text
from agora_node.protocol.vocab import as_list, id_of, types_of, visibility_of

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


async def _unchanged(call: Caller, activity: dict[str, Any]) -> dict[str, Any]:
    return activity


@dataclass(frozen=True)
class Action:
    run: Callable[[Caller, dict[str, Any]], Awaitable[Sent]]
    prepare: Callable[[Caller, dict[str, Any]], Awaitable[dict[str, Any]]] = _unchanged
    scope_of: Callable[[Caller, dict[str, Any]], Awaitable[str]] | None = None

    async def scope(self, call: Caller, activity: dict[str, Any]) -> str:
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


def _draft(call: Caller, activity: dict[str, Any], note: dict[str, Any]) -> Draft:
    """The note as a ``Draft``: visibility from its addressing, and every actor
    it addresses or tags (Mention) as an addressee."""
    assert call.account.actor is not None
    to, cc = _addresses(activity, note, "to"), _addresses(activity, note, "cc")
    tagged = [
        str(tag["href"])
        for tag in as_list(note.get("tag"))
        if isinstance(tag, dict) and tag.get("type") == "Mention" and tag.get("href")
    ]
    summary = note.get("summary")
    return Draft(
        text=_text(note),
        visibility=visibility_of({"to": to, "cc": cc}, call.account.actor.followers_uri),
        summary=summary if isinstance(summary, str) else "",
        sensitive=note.get("sensitive") is True,
        language=_language(note),
        in_reply_to=id_of(note.get("inReplyTo")),
        recipients=tuple([*to, *cc, *tagged]),
    )


async def _create(call: Caller, activity: dict[str, Any]) -> Sent:
    return await posts.post(call, _draft(call, activity, _note(activity)))


async def _update(call: Caller, activity: dict[str, Any]) -> Sent:
    note = _note(activity)
    return await posts.edit(call, _object_uri(activity), _draft(call, activity, note))


async def _delete(call: Caller, activity: dict[str, Any]) -> Sent:
    return await posts.delete(call, _object_uri(activity))


# -- social --------------------------------------------------------------------------


async def _handle_to_uri(call: Caller, activity: dict[str, Any]) -> dict[str, Any]:
    """``object: "@user@host"`` (or ``acct:``) names an account by handle."""
    obj = activity.get("object")
    if isinstance(obj, str) and social.is_handle(obj):
        actor = await call.resolver.actor_by_handle(obj)
        return {**activity, "object": actor.uri}
    return activity


async def _follow(call: Caller, activity: dict[str, Any]) -> Sent:
    return await social.follow(call, _object_uri(activity))


async def _block(call: Caller, activity: dict[str, Any]) -> Sent:
    return await social.block(call, _object_uri(activity))


async def _like(call: Caller, activity: dict[str, Any]) -> Sent:
    return await social.favourite(call, _object_uri(activity))


async def _announce(call: Caller, activity: dict[str, Any]) -> Sent:
    return await social.boost(call, _object_uri(activity))


async def _follow_answer(call: Caller, activity: dict[str, Any]) -> Sent:
    """Accept/Reject name the Follow (by id or embedded); we need its actor."""
    obj = activity.get("object")
    follower = id_of(obj.get("actor")) if isinstance(obj, dict) else None
    if follower is None:
        follower = await social.follower_of_request(call, _object_uri(activity))
    if types_of(activity)[0] == "Reject":
        return await social.reject_follower(call, follower)
    return await social.accept_follower(call, follower)


async def _undone(call: Caller, activity: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(type, id, target) of the activity an Undo names."""
    inner = activity.get("object")
    inner_id = id_of(inner)
    if inner_id:
        own = await social.own_activity(call, inner_id)
        if own is not None:
            return own[0], inner_id, own[1]
    if isinstance(inner, dict) and types_of(inner):
        return types_of(inner)[0], None, id_of(inner.get("object"))
    raise NotFound("no such activity of yours")


async def _undo_scope(call: Caller, activity: dict[str, Any]) -> str:
    kind, _, _ = await _undone(call, activity)
    if kind not in UNDOABLE:
        raise UnprocessableEntity("only a Follow, Like, Announce or Block can be undone")
    return SCOPES[kind]


async def _undo(call: Caller, activity: dict[str, Any]) -> Sent:
    kind, inner_id, target = await _undone(call, activity)
    if inner_id is not None:
        return await social.undo(call, inner_id)
    if target is None:
        raise UnprocessableEntity("name the activity to undo, or its object", path="$.object")
    return await social.UNDO_BY_TARGET[kind](call, target)


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
