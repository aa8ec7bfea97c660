"""Following hashtags, from any surface: their public posts join one's home timeline."""

from __future__ import annotations

from agora_node.actions.caller import Caller
from agora_node.store import hashtags


async def follow_tag(caller: Caller, name: str) -> None:
    me, now = caller.actor_uri, caller.now
    await caller.db.write(lambda c: hashtags.follow_tag(c, me, name, now))


async def unfollow_tag(caller: Caller, name: str) -> None:
    me = caller.actor_uri
    await caller.db.write(lambda c: hashtags.unfollow_tag(c, me, name))
