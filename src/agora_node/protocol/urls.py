"""The URIs of this node's own things, derived from the base URL in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocalUrls:
    """Every local id is built here so views, builders and the store agree."""

    base_url: str

    def actor(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    def profile_page(self, username: str) -> str:
        return f"{self.base_url}/@{username}"

    def main_key(self, username: str) -> str:
        return f"{self.actor(username)}#main-key"

    def ed25519_key(self, username: str) -> str:
        return f"{self.actor(username)}#ed25519-key"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    @property
    def instance_actor(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def instance_key(self) -> str:
        return f"{self.instance_actor}#main-key"

    def object(self, username: str, object_id: str) -> str:
        return f"{self.actor(username)}/statuses/{object_id}"

    def activity(self, username: str, activity_id: str) -> str:
        return f"{self.actor(username)}/activities/{activity_id}"

    def media(self, key: str) -> str:
        """A stored media file (``store/files.py`` key)."""
        return f"{self.base_url}/media/{key}"

    def is_local(self, uri: str) -> bool:
        return uri == self.base_url or uri.startswith(self.base_url + "/")

    def local_username(self, uri: str) -> str | None:
        """The username of a local actor URI, or None if it is not one."""
        prefix = f"{self.base_url}/users/"
        if not uri.startswith(prefix):
            return None
        rest = uri[len(prefix) :]
        if not rest or "/" in rest or "#" in rest or "?" in rest:
            return None
        return rest
