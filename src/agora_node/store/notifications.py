"""An account's notifications, as the client API lists them.

A notification is shown while its sender is known and not blocked, and,
when it is about a post (a mention, a reply, a favourite, a boost), while
that post is alive; paging is the timelines' (``store.timelines.Page``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.store.moderation import SUSPENDED_ACTORS, domain_blocked_by, silenced_for
from agora_node.store.mutes import conversation_key, muted_by
from agora_node.store.timelines import Page, in_page_order


@dataclass(frozen=True)
class NotificationRow:
    id: int
    type: str
    from_actor_uri: str
    object_uri: str | None
    created_at: float


# Kinds whose object is a post: shown only while that post is alive.
_ABOUT_A_POST = ("mention", "reply", "favourite", "reblog", "status", "poll")
NOTIFICATION_COLUMNS = "n.id, n.type, n.from_actor_uri, n.object_uri, n.created_at"


def notification_from_row(row: tuple[Any, ...]) -> NotificationRow:
    """A row read with ``NOTIFICATION_COLUMNS``."""
    return NotificationRow(int(row[0]), str(row[1]), str(row[2]), row[3], float(row[4]))


def shown_notification(me: str = ":me") -> str:
    """From a known actor the account neither blocks nor mutes (for notifications),
    not suspended, and not silenced unless the account follows it;
    about a live post, if any, of a conversation the account has not muted.
    ``me`` is the SQL naming the account's actor uri."""
    kinds = ", ".join(f"'{k}'" for k in _ABOUT_A_POST)
    return f"""EXISTS (SELECT 1 FROM actors x WHERE x.uri = n.from_actor_uri)
      AND n.from_actor_uri NOT IN (SELECT target_uri FROM blocks WHERE actor_uri = {me})
      AND n.from_actor_uri NOT IN ({muted_by(me, notifications=True)})
      AND n.from_actor_uri NOT IN ({SUSPENDED_ACTORS})
      AND n.from_actor_uri NOT IN ({silenced_for(me)})
      AND n.from_actor_uri NOT IN ({domain_blocked_by(me)})
      AND (n.type NOT IN ({kinds}) OR EXISTS (
           SELECT 1 FROM objects s WHERE s.uri = n.object_uri AND s.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM conversation_mutes cm WHERE cm.actor_uri = {me}
                           AND cm.conversation = {conversation_key("s")})))"""


def notifications_sql(page: Page, kinds: str) -> str:
    """``kinds`` is extra ``AND n.type ...`` text made of placeholders only."""
    return f"""SELECT {NOTIFICATION_COLUMNS} FROM notifications n
        WHERE n.account_id = :account AND n.id > :lower AND n.id < :upper{kinds}
          AND {shown_notification()}
        ORDER BY n.id {"ASC" if page.ascending else "DESC"} LIMIT :limit"""


def notifications(
    db: sqlite_utils.Database,
    account_id: int,
    actor_uri: str,
    page: Page,
    *,
    types: Sequence[str] | None = None,
    exclude_types: Sequence[str] = (),
    from_actor: str | None = None,
) -> list[NotificationRow]:
    """An account's notifications; ``types`` keeps only those kinds (stored names),
    ``from_actor`` only those from that actor."""
    params: dict[str, Any] = {"account": account_id, "me": actor_uri, **page.bounds()}
    kinds = ""
    if from_actor is not None:
        kinds += " AND n.from_actor_uri = :sender"
        params["sender"] = from_actor
    if types is not None:
        names = {f"t{i}": t for i, t in enumerate(types)}
        kinds += f" AND n.type IN ({', '.join(':' + k for k in names) or 'NULL'})"
        params.update(names)
    if exclude_types:
        names = {f"x{i}": t for i, t in enumerate(exclude_types)}
        kinds += f" AND n.type NOT IN ({', '.join(':' + k for k in names)})"
        params.update(names)
    rows = db.execute(notifications_sql(page, kinds), params).fetchall()
    return in_page_order([notification_from_row(r) for r in rows], page)


def get_notification(
    db: sqlite_utils.Database, account_id: int, actor_uri: str, notification_id: int
) -> NotificationRow | None:
    row = db.execute(
        f"""SELECT {NOTIFICATION_COLUMNS} FROM notifications n
        WHERE n.id = :id AND n.account_id = :account AND {shown_notification()}""",
        {"id": notification_id, "account": account_id, "me": actor_uri},
    ).fetchone()
    return notification_from_row(row) if row else None


def dismiss_notification(db: sqlite_utils.Database, account_id: int, notification_id: int) -> bool:
    cur = db.execute(
        "DELETE FROM notifications WHERE id = ? AND account_id = ?", [notification_id, account_id]
    )
    return cur.rowcount == 1


def clear_notifications(db: sqlite_utils.Database, account_id: int) -> int:
    return db.execute("DELETE FROM notifications WHERE account_id = ?", [account_id]).rowcount


def count_unread(
    db: sqlite_utils.Database, account_id: int, actor_uri: str, after_id: int, most: int
) -> int:
    """Shown notifications newer than ``after_id`` (the read marker), up to ``most``."""
    row = db.execute(
        f"""SELECT count(*) FROM (SELECT 1 FROM notifications n
        WHERE n.account_id = :account AND n.id > :after AND {shown_notification()}
        LIMIT :most)""",
        {"account": account_id, "me": actor_uri, "after": after_id, "most": most},
    ).fetchone()
    return int(row[0])
