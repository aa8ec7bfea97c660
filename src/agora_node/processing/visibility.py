"""Who may see a post: one pure decision, values in and verdict out.

Every surface asks the same question, whether it serves a note at its id
(ActivityPub), a status to an app (the Mastodon API) or a page (the web), and
gets the same answer from here. The lists (timelines, outboxes) are SQL in
``store/``; they bind the visibility tuples of ``protocol.vocab`` and encode
exactly these rules, and tests check that the two agree. Rules that narrow
what someone sees (blocks, mutes, suspensions, silences, filters) are added
here as fields of ``Viewer`` or ``Audience`` and terms of ``may_see``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from agora_node.protocol.vocab import OPEN_VISIBILITIES, VISIBILITIES


@dataclass(frozen=True)
class Audience:
    """A post as far as its readers are concerned."""

    author_uri: str
    visibility: str
    # Everyone the post addresses by name (its ``to`` and ``cc``).
    addressed: Collection[str] = ()
    # An admin suspended the author: nobody sees the post while that lasts. (A
    # silenced author's posts stay readable; only public listings leave them
    # out for non-followers: ``store/moderation.py``.)
    author_suspended: bool = False


@dataclass(frozen=True)
class Viewer:
    """Who asks: ``uri`` is None for an anonymous reader."""

    uri: str | None = None
    # Whether the viewer is an accepted follower of the post's author.
    follows_author: bool = False


ANONYMOUS = Viewer()


def is_open(visibility: str) -> bool:
    """Public and unlisted posts: anyone may read them, and they can be boosted."""
    return visibility in OPEN_VISIBILITIES


def needs_follow_check(audience: Audience, viewer: Viewer) -> bool:
    """Whether ``may_see`` depends on ``viewer.follows_author`` (so it is worth a read)."""
    return (
        audience.visibility == "private"
        and not audience.author_suspended
        and viewer.uri is not None
        and viewer.uri != audience.author_uri
        and viewer.uri not in audience.addressed
    )


def may_see(audience: Audience, viewer: Viewer) -> bool:
    """Open posts to anyone; others to their author and whoever they address by
    name; followers-only posts also to accepted followers of the author. No
    post of a suspended author to anyone."""
    if audience.author_suspended:
        return False
    if is_open(audience.visibility):
        return True
    if viewer.uri is None:
        return False
    if viewer.uri == audience.author_uri or viewer.uri in audience.addressed:
        return True
    return audience.visibility == "private" and viewer.follows_author


def may_list_relations(owner_uri: str, viewer_uri: str | None, hidden: bool) -> bool:
    """Whom an account follows and who follows it are listed to anyone, unless
    it hides them: then to itself alone (the counts stay public, as on Mastodon)."""
    return not hidden or viewer_uri == owner_uri


def outbox_visibilities(*, owner: bool, follower: bool) -> tuple[str, ...]:
    """What an actor's outbox lists: all to its owner, followers-only posts
    to a follower, open posts to everyone else (the same rule as ``may_see``
    for posts that address nobody by name)."""
    if owner:
        return VISIBILITIES
    if follower:
        return (*OPEN_VISIBILITIES, "private")
    return OPEN_VISIBILITIES
