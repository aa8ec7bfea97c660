"""Acting across servers from a web page.

- ``/authorize_interaction?uri=…`` is where other servers send their people
  back to us (our WebFinger subscribe template): a person here, signed in,
  lands on the profile or post the URI names, looked up on its server, to
  follow, reply or boost it.
- ``/remote_follow?uri=…`` is the "follow from your server" form for a
  visitor from elsewhere: they give their own handle, we find their server's
  subscribe template by WebFinger (through the guarded fetcher) and send them
  there with the account's or post's URI.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aiohttp import web

from agora_node.actions import search as finding
from agora_node.context import DB, SETTINGS, URLS
from agora_node.errors import BadRequest, UnprocessableEntity
from agora_node.federation.resolve import Resolver, split_handle
from agora_node.federation.services import FETCHER
from agora_node.web.rendering import page
from agora_node.web.session import content_security_policy, form, required_visitor, text_field
from agora_node.web.views import caller_for

_MAX_URI = 2000


def _uri(value: str) -> str:
    uri = value.strip()
    if not uri:
        raise BadRequest("uri is missing: the account or post to act on")
    if len(uri) > _MAX_URI:
        raise BadRequest(f"uri is longer than {_MAX_URI} characters")
    return uri


async def authorize_interaction(request: web.Request) -> web.Response:
    uri = _uri(request.query.get("uri", "") or request.query.get("acct", ""))
    who = await required_visitor(request)
    found = await finding.search(
        request.app[DB], caller_for(request, who), uri.removeprefix("acct:"),
        limit=1, resolve=True,
    )  # fmt: skip
    if found.accounts:
        actor = found.accounts[0]
        raise web.HTTPSeeOther(f"/@{actor.username if actor.local else actor.acct}")
    if found.posts:
        raise web.HTTPSeeOther(f"/statuses/{found.posts[0].id}")
    raise web.HTTPSeeOther("/search?" + urlencode({"q": uri}))


async def _form(
    request: web.Request, uri: str, *, handle: str = "", error: str = "", status: int = 200
) -> web.Response:
    resp = await page(
        request,
        "remote_follow.html",
        {"uri": uri, "handle": handle, "error": error},
        title="Follow or reply from your server",
        status=status,
    )
    # The form's answer sends the browser on to the visitor's own server.
    resp.headers["Content-Security-Policy"] = content_security_policy(request, forms_leave=True)
    return resp


async def remote_follow_form(request: web.Request) -> web.Response:
    return await _form(request, _uri(request.query.get("uri", "")))


async def remote_follow(request: web.Request) -> web.Response:
    body = await form(request)
    uri = _uri(text_field(body, "uri"))
    handle = text_field(body, "handle").strip()
    settings = request.app[SETTINGS]
    try:
        if "@" not in handle.removeprefix("@") or " " in handle:
            raise BadRequest("not a handle")
        _, host = split_handle(handle, settings.domain)
    except BadRequest:
        return await _form(
            request, uri, handle=handle, status=422,
            error="Give your handle as name@your.server, as it shows on your profile.",
        )  # fmt: skip
    if host == settings.domain:
        raise web.HTTPSeeOther("/authorize_interaction?" + urlencode({"uri": uri}))
    resolver = Resolver(request.app[DB], request.app[FETCHER], request.app[URLS], settings.domain)
    try:
        template = await resolver.interaction_template(handle)
    except UnprocessableEntity as exc:
        return await _form(request, uri, handle=handle, error=exc.public_message, status=422)
    raise web.HTTPSeeOther(template.replace("{uri}", quote(uri, safe="")))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/authorize_interaction", authorize_interaction),
        web.get("/remote_follow", remote_follow_form),
        web.post("/remote_follow", remote_follow),
    ]
