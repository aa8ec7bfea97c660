"""What we keep of remote media: attachments' size and focus, actors' pictures."""

from __future__ import annotations

from typing import Any

from agora_node.processing.remote import actor_record, note_record

ACTOR = "https://far.example/users/eve"


def _actor(**extra: Any) -> dict[str, Any]:
    return {
        "id": ACTOR, "type": "Person", "preferredUsername": "eve",
        "inbox": f"{ACTOR}/inbox", **extra,
    }  # fmt: skip


def test_avatar_and_header_come_from_icon_and_image() -> None:
    record = actor_record(
        _actor(
            icon={"type": "Image", "mediaType": "image/png", "url": "https://far.example/a.png"},
            image=[{"type": "Image", "url": {"href": "https://far.example/h.jpg"}}],
        ),
        0.0,
    )
    assert record.values["avatar_url"] == "https://far.example/a.png"
    assert record.values["header_url"] == "https://far.example/h.jpg"
    bare = actor_record(_actor(icon="javascript:alert(1)", image=7), 0.0)
    assert bare.values["avatar_url"] is None and bare.values["header_url"] is None


def test_attachments_keep_size_focus_and_alt_text() -> None:
    note = {
        "id": "https://far.example/notes/1", "type": "Note", "attributedTo": ACTOR,
        "content": "<p>look</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "attachment": [
            {"type": "Document", "mediaType": "image/jpeg", "url": "https://far.example/1.jpg",
             "name": "A <b>red</b> boat", "width": 1200, "height": 800,
             "blurhash": "LEHV6nWB2yk8", "focalPoint": [0.5, -0.25]},
            {"type": "Document", "mediaType": "image/png", "url": "https://far.example/2.png",
             "width": "huge", "height": -1, "focalPoint": [3, 0]},
        ],
    }  # fmt: skip
    record = note_record(note, author_uri=ACTOR, followers_uri=None, activity_uri=None, now=0.0)
    first, second = record.values["data"]["attachments"]
    assert first["width"] == 1200 and first["height"] == 800
    assert first["focalPoint"] == [0.5, -0.25] and first["name"] == "A red boat"
    assert "width" not in second and "focalPoint" not in second
