"""Lists of followed accounts, from any surface: making, changing, filling them.

The rules: a list has a title (at most ``MAX_TITLE`` characters), a replies
policy of ``REPLIES_POLICIES``, and holds only accounts its owner follows;
one has at most ``MAX_LISTS`` lists. A list that is not the caller's is not
found, whoever asks.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from agora_node.actions.caller import Caller
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.store import lists as lists_store
from agora_node.store import relationships
from agora_node.store.lists import REPLIES_POLICIES, ListRow

MAX_TITLE = 255
MAX_LISTS = 100


def _checked(title: str, policy: str) -> None:
    if not title.strip():
        raise UnprocessableEntity("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise UnprocessableEntity(f"Validation failed: a title is at most {MAX_TITLE} characters")
    if policy not in REPLIES_POLICIES:
        raise UnprocessableEntity(
            f"Validation failed: replies_policy must be one of {', '.join(REPLIES_POLICIES)}"
        )


async def own_list(caller: Caller, list_id: int) -> ListRow:
    me = caller.actor_uri
    found = await caller.db.read(lambda c: lists_store.get_list(c, me, list_id))
    if found is None:
        raise NotFound("Record not found")
    return found


async def create_list(caller: Caller, title: str, policy: str, exclusive: bool) -> ListRow:
    _checked(title, policy)
    me, now = caller.actor_uri, caller.now

    def write(c: sqlite_utils.Database) -> ListRow:
        if len(lists_store.lists_of(c, me)) >= MAX_LISTS:
            raise UnprocessableEntity(f"Validation failed: at most {MAX_LISTS} lists")
        return lists_store.create_list(c, me, title.strip(), policy, exclusive, now)

    return await caller.db.write(write)


async def update_list(
    caller: Caller, list_id: int, title: str | None, policy: str | None, exclusive: bool | None
) -> ListRow:
    current = await own_list(caller, list_id)
    new = ListRow(
        list_id,
        current.title if title is None else title.strip(),
        policy or current.replies_policy,
        current.exclusive if exclusive is None else exclusive,
    )
    _checked(new.title, new.replies_policy)
    me = caller.actor_uri
    await caller.db.write(
        lambda c: lists_store.update_list(
            c, me, list_id, new.title, new.replies_policy, new.exclusive
        )
    )
    return new


async def delete_list(caller: Caller, list_id: int) -> None:
    me = caller.actor_uri
    if not await caller.db.write(lambda c: lists_store.delete_list(c, me, list_id)):
        raise NotFound("Record not found")


async def add_members(caller: Caller, list_id: int, accounts: Sequence[str]) -> None:
    """Add followed accounts (by actor id); any one not followed is a 422 and adds nothing."""
    await own_list(caller, list_id)
    me = caller.actor_uri
    standing = await caller.db.read(lambda c: relationships.standings(c, me, list(accounts)))
    if any(not standing[a].following for a in accounts):
        raise UnprocessableEntity("Validation failed: you can only list accounts you follow")
    await caller.db.write(lambda c: lists_store.add_members(c, list_id, list(accounts)))


async def remove_members(caller: Caller, list_id: int, accounts: Sequence[str]) -> None:
    await own_list(caller, list_id)
    await caller.db.write(lambda c: lists_store.remove_members(c, list_id, list(accounts)))
