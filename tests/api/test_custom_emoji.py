"""Remote custom emoji: taken from actors and posts, checked, and shown by the client API."""

from __future__ import annotations

from typing import Any

from agora_node.processing.remote import actor_record, emojis_of
from agora_node.store import accounts as accounts_store
from tests.api.c2s_rig import Node


def _emoji(name: str, url: Any) -> dict[str, Any]:
    return {"type": "Emoji", "name": name, "icon": {"type": "Image", "url": url}}


def test_only_well_formed_emoji_are_kept() -> None:
    doc = {
        "tag": [
            _emoji(":blobcat:", "https://files.example/blobcat.png"),
            _emoji("plain_name", "https://files.example/plain.png"),
            _emoji(":blobcat:", "https://files.example/second.png"),  # first one wins
            _emoji(":bad name:", "https://files.example/x.png"),
            _emoji(":<script>:", "https://files.example/x.png"),
            _emoji(":js:", "javascript:alert(1)"),
            _emoji(":noicon:", None),
            {"type": "Hashtag", "name": "#blobcat"},
            "not a tag",
        ]
    }
    assert emojis_of(doc) == [
        ("blobcat", "https://files.example/blobcat.png"),
        ("plain_name", "https://files.example/plain.png"),
    ]


async def test_an_actors_emoji_show_in_its_account(node: Node) -> None:
    doc = {
        "id": "https://far.example/users/zoe", "type": "Person", "preferredUsername": "zoe",
        "name": "Zoe :sparkle:", "inbox": "https://far.example/users/zoe/inbox",
        "tag": [_emoji(":sparkle:", "https://far.example/emoji/sparkle.png")],
    }  # fmt: skip
    record = actor_record(doc, 0.0)
    node.db.write_sync(lambda c: accounts_store.upsert_actor(c, record.values))
    (row,) = await node.rows("SELECT id FROM actors WHERE uri = ?", doc["id"])
    body = await (await node.client.get(f"/api/v1/accounts/{row[0]}")).json()
    assert body["display_name"] == "Zoe :sparkle:"
    assert body["emojis"] == [
        {
            "shortcode": "sparkle",
            "url": "https://far.example/emoji/sparkle.png",
            "static_url": "https://far.example/emoji/sparkle.png",
            "visible_in_picker": False,
        }
    ]
