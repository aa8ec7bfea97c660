"""Our posts and activities, served at their ids.

Public and unlisted ones are served to anyone (signed when the node wants
signed fetches). Followers-only and direct ones exist only for those who may
see them: the author's token, or a token or signed fetch by an actor the
post addresses (or, for followers-only posts, by a follower); to anyone else
they are a 404, the same answer as for a post that never existed. A deleted
post is a 410 with its Tombstone.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from agora_node.actions import posts
from agora_node.api.auth import optional_token
from agora_node.context import DB, URLS
from agora_node.errors import Gone, NotFound
from agora_node.federation.actors import as_response, load_account
from agora_node.federation.fetch_auth import signed_viewer
from agora_node.protocol import builders
from agora_node.protocol.vocab import id_of, visibility_of
from agora_node.store import accounts as accounts_store
from agora_node.store import objects as objects_store
from agora_node.store.accounts import AccountRow
from agora_node.store.objects import ObjectRow


async def viewer_uri(request: web.Request, *, signed: bool) -> str | None:
    """Who is asking: a token's account, else (``signed``) the signer of the request."""
    token = await optional_token(request)
    if token is not None:
        if token.account_id is None or not token.allows("read:statuses"):
            return None
        account_id = token.account_id
        account = await request.app[DB].read(
            lambda db: accounts_store.get_account_by_id(db, account_id)
        )
        return account.actor.uri if account is not None and account.actor else None
    if signed:
        verified = await signed_viewer(request)
        return verified.actor_uri if verified else None
    return None


async def visible_note(request: web.Request, *, signed: bool) -> tuple[AccountRow, ObjectRow]:
    """The note at ``/users/{name}/statuses/{id}`` if the asking viewer may read it."""
    account = await load_account(request)
    viewer = await viewer_uri(request, signed=signed)
    urls, post_id = request.app[URLS], request.match_info["id"]
    return account, await posts.visible_post(request.app[DB], urls, account, post_id, viewer)


async def note_json(request: web.Request) -> web.Response:
    _, note = await visible_note(request, signed=True)
    return as_response(note.data)


async def activity_json(request: web.Request) -> web.Response:
    account = await load_account(request)
    assert account.actor is not None
    actor = account.actor
    uri = request.app[URLS].activity(account.username, request.match_info["id"])

    def load(db: Any) -> tuple[dict[str, Any] | None, ObjectRow | None, bool]:
        doc = objects_store.get_activity(db, uri)
        object_uri = id_of(doc.get("object")) if doc else None
        target = objects_store.get_object(db, object_uri) if object_uri else None
        return doc, target, objects_store.get_object(db, uri) is not None

    doc, target, boost_live = await request.app[DB].read(load)
    if doc is None or doc.get("actor") != actor.uri:
        raise NotFound("no such activity")
    kind = doc.get("type")
    undone = kind == "Announce" and not boost_live
    gone = kind in ("Create", "Update") and (target is None or target.is_tombstone)
    if undone or gone:
        raise Gone("this activity was undone or its post deleted", document=builders.tombstone(uri))
    visibility = visibility_of(doc, actor.followers_uri)
    viewer = await viewer_uri(request, signed=True)
    if not await posts.may_read(request.app[DB], actor, doc, visibility, viewer):
        raise NotFound("no such activity")
    if kind == "Create" and target is not None and target.data:
        doc = {**doc, "object": builders.strip_context(target.data)}
    return as_response(doc)


def routes() -> list[web.RouteDef]:
    """The activity route; notes are negotiated (JSON or HTML) in ``app.py``."""
    return [web.get("/users/{name}/activities/{id}", activity_json)]
