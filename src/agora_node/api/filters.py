"""Keyword filters for Mastodon clients: ``/api/v2/filters`` and the older v1.

v2: filters with a title, contexts, an action (``warn``, ``hide``, ``blur``),
an optional end, keywords (``/api/v2/filters/:id/keywords``,
``/api/v2/filters/keywords/:id``) and single posts
(``/api/v2/filters/:id/statuses``, ``/api/v2/filters/statuses/:id``). v1
shows each keyword as a filter of its own (``phrase``, ``irreversible`` for
``hide``) and makes one filter per phrase. Every change tells the person's
open streams ``filters_changed``, as Mastodon does.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from agora_node.actions import filters as actions
from agora_node.actions.filters import KeywordChange
from agora_node.actions.posts import readable_status
from agora_node.api.requests import (
    SignedIn,
    as_id,
    body_params,
    bool_param,
    json_answer,
    path_id,
    signed_in,
    text_param,
)
from agora_node.api.stream_hub import STREAM_HUB
from agora_node.context import DB
from agora_node.entities.serialize import (
    filter_json,
    filter_keyword_json,
    filter_status_json,
    iso,
)
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.store import filters as store
from agora_node.store.filters import FilterRow, KeywordRow


def _changed(request: web.Request, who: SignedIn) -> None:
    request.app[STREAM_HUB].announce(who.account_id, "filters_changed")


def _contexts(params: dict[str, Any]) -> list[str] | None:
    raw = params.get("context")
    if raw is None:
        return None
    return [str(c) for c in (raw if isinstance(raw, list) else [raw])]


def _expires_in(params: dict[str, Any]) -> int | str | None:
    """Seconds from now; "" or null: never ends; absent: "keep"."""
    if "expires_in" not in params:
        return "keep"
    raw = params["expires_in"]
    if raw in ("", None):
        return None
    number = as_id(raw)
    if number is None:
        raise UnprocessableEntity("Validation failed: expires_in must be a number of seconds")
    return number


def _truthy(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    return bool_param({"v": value}, "v", default=default)


def _keyword_changes(params: dict[str, Any]) -> list[KeywordChange]:
    """``keywords_attributes`` as JSON (a list of objects) or as a form
    (``keywords_attributes[][keyword]``, or ``[0][keyword]``)."""
    raw = params.get("keywords_attributes")
    if raw is None:
        return []
    items: list[dict[str, Any]]
    if isinstance(raw, list):
        items = [i for i in raw if isinstance(i, dict)]
    elif isinstance(raw, dict) and set(raw) == {""} and isinstance(raw[""], dict):
        columns = {k: v if isinstance(v, list) else [v] for k, v in raw[""].items()}
        count = max((len(v) for v in columns.values()), default=0)
        items = [{k: v[i] for k, v in columns.items() if i < len(v)} for i in range(count)]
    elif isinstance(raw, dict):
        items = [v for _, v in sorted(raw.items()) if isinstance(v, dict)]
    else:
        raise UnprocessableEntity("Validation failed: keywords_attributes must be a list")
    changes = []
    for item in items:
        keyword_id = as_id(item.get("id")) if item.get("id") not in (None, "") else None
        keyword = item.get("keyword")
        whole = item.get("whole_word")
        changes.append(
            KeywordChange(
                keyword_id,
                str(keyword) if keyword is not None else None,
                None if whole in (None, "") else _truthy(whole, True),
                _truthy(item.get("_destroy"), False),
            )
        )
    return changes


# -- v2 -----------------------------------------------------------------------------


async def list_filters(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    rows = await request.app[DB].read(lambda c: store.filters_of(c, who.account_id))
    return json_answer([filter_json(r) for r in rows])


async def show_filter(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    return json_answer(
        filter_json(await actions.own(request.app[DB], who.account_id, path_id(request)))
    )


async def create_filter(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    params = await body_params(request)
    expires = _expires_in(params)
    made = await actions.create(
        request.app[DB], who.account_id,
        title=text_param(params, "title"),
        contexts=_contexts(params) or [],
        action=text_param(params, "filter_action", default="warn") or "warn",
        expires_in=None if expires == "keep" else expires,  # type: ignore[arg-type]
        keywords=[(k.keyword or "", k.whole_word is not False)
                  for k in _keyword_changes(params) if not k.destroy],
        now=time.time(),
    )  # fmt: skip
    _changed(request, who)
    return json_answer(filter_json(made))


async def change_filter(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    params = await body_params(request)
    changed = await actions.change(
        request.app[DB], who.account_id, path_id(request),
        title=text_param(params, "title") if "title" in params else None,
        contexts=_contexts(params),
        action=text_param(params, "filter_action") if "filter_action" in params else None,
        expires_in=_expires_in(params),
        keywords=_keyword_changes(params),
        now=time.time(),
    )  # fmt: skip
    _changed(request, who)
    return json_answer(filter_json(changed))


async def delete_filter(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    await actions.remove(request.app[DB], who.account_id, path_id(request))
    _changed(request, who)
    return json_answer({})


async def list_keywords(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    found = await actions.own(request.app[DB], who.account_id, path_id(request))
    return json_answer([filter_keyword_json(k) for k in found.keywords])


async def add_keyword(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    params = await body_params(request)
    db = request.app[DB]
    filter_id = path_id(request)
    keyword_id = await actions.add_keyword(
        db, who.account_id, filter_id, text_param(params, "keyword"),
        _truthy(params.get("whole_word"), False),
    )  # fmt: skip
    found = await actions.own(db, who.account_id, filter_id)
    _changed(request, who)
    return json_answer(filter_keyword_json(next(k for k in found.keywords if k.id == keyword_id)))


async def _keyword_of(request: web.Request, who: SignedIn) -> tuple[FilterRow, KeywordRow]:
    keyword_id = path_id(request)
    found = await actions.keyword_filter(request.app[DB], who.account_id, keyword_id)
    return found, next(k for k in found.keywords if k.id == keyword_id)


async def show_keyword(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    _, keyword = await _keyword_of(request, who)
    return json_answer(filter_keyword_json(keyword))


async def change_keyword(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    found, keyword = await _keyword_of(request, who)
    params = await body_params(request)
    whole = params.get("whole_word")
    change = KeywordChange(
        keyword.id,
        text_param(params, "keyword") if "keyword" in params else None,
        None if whole in (None, "") else _truthy(whole, True),
    )
    updated = await actions.change_keywords(
        request.app[DB], who.account_id, found.id, [change], time.time()
    )
    _changed(request, who)
    return json_answer(filter_keyword_json(next(k for k in updated.keywords if k.id == keyword.id)))


async def delete_keyword(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    found, keyword = await _keyword_of(request, who)
    await actions.change_keywords(
        request.app[DB], who.account_id, found.id,
        [KeywordChange(keyword.id, None, None, destroy=True)], time.time(),
    )  # fmt: skip
    _changed(request, who)
    return json_answer({})


async def list_statuses(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    found = await actions.own(request.app[DB], who.account_id, path_id(request))
    return json_answer([filter_status_json(s) for s in found.statuses])


async def add_status(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    params = await body_params(request)
    status_id = as_id(params.get("status_id"))
    if status_id is None:
        raise UnprocessableEntity("Validation failed: status_id is missing")
    db = request.app[DB]
    post = await readable_status(db, status_id, who.actor_uri)
    row_id = await actions.add_status(db, who.account_id, path_id(request), post.uri)
    row = await db.read(lambda c: store.status_row(c, row_id))
    assert row is not None
    _changed(request, who)
    return json_answer(filter_status_json(row))


async def _status_of(request: web.Request, who: SignedIn) -> int:
    row_id = path_id(request)
    await actions.status_filter(request.app[DB], who.account_id, row_id)
    return row_id


async def show_status(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    row_id = await _status_of(request, who)
    row = await request.app[DB].read(lambda c: store.status_row(c, row_id))
    if row is None:
        raise NotFound("Record not found")
    return json_answer(filter_status_json(row))


async def delete_status(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    row_id = await _status_of(request, who)
    await request.app[DB].write(lambda c: store.delete_status(c, row_id))
    _changed(request, who)
    return json_answer({})


# -- v1: one keyword, one filter ------------------------------------------------------


def _v1(f: FilterRow, k: KeywordRow) -> dict[str, Any]:
    return {
        "id": str(k.id),
        "phrase": k.keyword,
        "context": list(f.contexts),
        "whole_word": k.whole_word,
        "expires_at": iso(f.expires_at),
        "irreversible": f.action == "hide",
    }


async def v1_list(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    rows = await request.app[DB].read(lambda c: store.filters_of(c, who.account_id))
    return json_answer([_v1(f, k) for f in rows for k in f.keywords])


async def v1_show(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:filters")
    found, keyword = await _keyword_of(request, who)
    return json_answer(_v1(found, keyword))


def _v1_fields(params: dict[str, Any]) -> tuple[str, bool, str]:
    phrase = text_param(params, "phrase")
    whole = _truthy(params.get("whole_word"), True)
    action = "hide" if _truthy(params.get("irreversible"), False) else "warn"
    return phrase, whole, action


async def v1_create(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    params = await body_params(request)
    phrase, whole, action = _v1_fields(params)
    expires = _expires_in(params)
    made = await actions.create(
        request.app[DB], who.account_id, title=phrase, contexts=_contexts(params) or [],
        action=action, expires_in=None if expires == "keep" else expires,  # type: ignore[arg-type]
        keywords=[(phrase, whole)], now=time.time(),
    )  # fmt: skip
    _changed(request, who)
    return json_answer(_v1(made, made.keywords[0]))


async def v1_change(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    found, keyword = await _keyword_of(request, who)
    params = await body_params(request)
    phrase, whole, action = _v1_fields(params)
    updated = await actions.change(
        request.app[DB], who.account_id, found.id, title=phrase, contexts=_contexts(params),
        action=action, expires_in=_expires_in(params),
        keywords=[KeywordChange(keyword.id, phrase, whole)], now=time.time(),
    )  # fmt: skip
    _changed(request, who)
    return json_answer(_v1(updated, next(k for k in updated.keywords if k.id == keyword.id)))


async def v1_delete(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:filters")
    found, keyword = await _keyword_of(request, who)
    if len(found.keywords) == 1:
        await actions.remove(request.app[DB], who.account_id, found.id)
    else:
        await actions.change_keywords(
            request.app[DB], who.account_id, found.id,
            [KeywordChange(keyword.id, None, None, destroy=True)], time.time(),
        )  # fmt: skip
    _changed(request, who)
    return json_answer({})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v2/filters", list_filters),
        web.post("/api/v2/filters", create_filter),
        web.get("/api/v2/filters/keywords/{id}", show_keyword),
        web.put("/api/v2/filters/keywords/{id}", change_keyword),
        web.delete("/api/v2/filters/keywords/{id}", delete_keyword),
        web.get("/api/v2/filters/statuses/{id}", show_status),
        web.delete("/api/v2/filters/statuses/{id}", delete_status),
        web.get("/api/v2/filters/{id}", show_filter),
        web.put("/api/v2/filters/{id}", change_filter),
        web.delete("/api/v2/filters/{id}", delete_filter),
        web.get("/api/v2/filters/{id}/keywords", list_keywords),
        web.post("/api/v2/filters/{id}/keywords", add_keyword),
        web.get("/api/v2/filters/{id}/statuses", list_statuses),
        web.post("/api/v2/filters/{id}/statuses", add_status),
        web.get("/api/v1/filters", v1_list),
        web.post("/api/v1/filters", v1_create),
        web.get("/api/v1/filters/{id}", v1_show),
        web.put("/api/v1/filters/{id}", v1_change),
        web.delete("/api/v1/filters/{id}", v1_delete),
    ]
