"""Discovery endpoints: WebFinger, host-meta and NodeInfo 2.0 / 2.1."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from aiohttp import web

from agora_node import SOFTWARE_NAME, __version__
from agora_node.context import DB, INSTANCE, SETTINGS, URLS
from agora_node.errors import BadRequest, Gone, NotFound
from agora_node.federation.actor_cache import ACTOR_CACHE, WEBFINGER
from agora_node.protocol.vocab import SUBSCRIBE_REL
from agora_node.store import accounts as accounts_store

CORS = {"Access-Control-Allow-Origin": "*"}
NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/{v}"


def _parse_resource(resource: str, domain: str, base_url: str) -> str:
    """The local username a WebFinger resource names (400 when malformed or foreign)."""
    resource = unquote(resource.strip())
    if not resource:
        raise BadRequest("resource parameter is required")
    if resource.startswith(("http://", "https://")):
        for prefix in (f"{base_url}/users/", f"{base_url}/@"):
            if resource.startswith(prefix):
                name = resource[len(prefix) :].rstrip("/")
                if name and "/" not in name:
                    return name
        raise BadRequest("resource is not an account on this server")
    acct = resource[5:] if resource.lower().startswith("acct:") else resource
    acct = acct.lstrip("@")
    user, sep, host = acct.rpartition("@")
    if not sep or not user or not host:
        raise BadRequest("resource must be acct:user@domain or an actor URL")
    if host.lower().rstrip(".") != domain:
        raise BadRequest("resource is not on this server's domain")
    return user


async def webfinger(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    urls = request.app[URLS]
    username = _parse_resource(
        request.query.get("resource", ""), settings.domain, settings.base_url
    )
    if username.lower() == settings.domain.split(":")[0] or username == "actor":
        # The instance actor, as Mastodon resolves it.
        return _jrd(f"acct:{settings.domain}@{settings.domain}", urls.instance_actor, None)

    async def render() -> bytes:
        account = await request.app[DB].read(
            lambda db: accounts_store.get_account_by_username(db, username)
        )
        if account is None or account.actor is None:
            raise NotFound("no such account")
        if account.deleted_at is not None:
            raise Gone("this account has been deleted")
        actor = account.actor
        subscribe = f"{settings.base_url}/authorize_interaction?uri={{uri}}"
        return _jrd_body(
            f"acct:{account.username}@{settings.domain}", actor.uri, actor.url, subscribe
        )

    body = await request.app[ACTOR_CACHE].get_or_render(WEBFINGER, username, render)
    return web.Response(body=body, content_type="application/jrd+json", headers=CORS)


def _jrd(subject: str, actor_uri: str, profile_url: str | None) -> web.Response:
    body = _jrd_body(subject, actor_uri, profile_url)
    return web.Response(body=body, content_type="application/jrd+json", headers=CORS)


def _jrd_body(
    subject: str, actor_uri: str, profile_url: str | None, subscribe: str | None = None
) -> bytes:
    """``subscribe``: where a person here acts on a remote account or post (the
    OStatus subscribe template, which Mastodon's "follow from your server" uses)."""
    links: list[dict[str, Any]] = [
        {"rel": "self", "type": "application/activity+json", "href": actor_uri},
    ]
    if subscribe:
        links.append({"rel": SUBSCRIBE_REL, "template": subscribe})
    aliases = [actor_uri]
    if profile_url:
        aliases.append(profile_url)
        links.insert(
            0,
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": profile_url,
            },
        )
    body = {"subject": subject, "aliases": aliases, "links": links}
    return json.dumps(body).encode()


async def host_meta(request: web.Request) -> web.Response:
    template = f"{request.app[SETTINGS].base_url}/.well-known/webfinger?resource={{uri}}"
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{escape(template, {chr(34): "&quot;"})}"/>\n'
        "</XRD>\n"
    )
    return web.Response(text=xml, content_type="application/xrd+xml", headers=CORS)


async def host_meta_json(request: web.Request) -> web.Response:
    template = f"{request.app[SETTINGS].base_url}/.well-known/webfinger?resource={{uri}}"
    return web.json_response({"links": [{"rel": "lrdd", "template": template}]}, headers=CORS)


async def nodeinfo_index(request: web.Request) -> web.Response:
    base = request.app[SETTINGS].base_url
    links = [
        {"rel": NODEINFO_REL.format(v=v), "href": f"{base}/nodeinfo/{v}"} for v in ("2.0", "2.1")
    ]
    return web.json_response({"links": links}, headers=CORS)


async def nodeinfo(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in ("2.0", "2.1"):
        raise NotFound("unknown NodeInfo version")
    settings, inst = request.app[SETTINGS], request.app[INSTANCE].current
    usage = await request.app[DB].read(lambda db: accounts_store.usage_counts(db, time.time()))
    software: dict[str, Any] = {"name": SOFTWARE_NAME, "version": __version__}
    if version == "2.1":
        software["homepage"] = settings.base_url
    body = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": inst.registration in ("open", "approval"),
        "usage": {
            "users": {
                "total": usage["total"],
                "activeMonth": usage["month"],
                "activeHalfyear": usage["half"],
            },
            "localPosts": usage["posts"],
        },
        "metadata": {
            "nodeName": inst.name,
            "nodeDescription": inst.description,
            "registrationMode": inst.registration,
        },
    }
    ctype = f'application/json; profile="{NODEINFO_REL.format(v=version)}#"'
    return web.Response(body=json.dumps(body).encode(), headers={**CORS, "Content-Type": ctype})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/.well-known/webfinger", webfinger),
        web.get("/.well-known/host-meta", host_meta),
        web.get("/.well-known/host-meta.json", host_meta_json),
        web.get("/.well-known/nodeinfo", nodeinfo_index),
        web.get("/nodeinfo/{version}", nodeinfo),
    ]
