"""A custom inbound policy for Agora: refuse posts written in capitals.

Name it in the config, beside the built-in ones (a path is taken relative to
the config file)::

    [[policies]]
    class = "policies.py:NoShouting"
    min_letters = 20

A policy has a ``name`` and one method, ``decide(activity, ctx)``, that
answers ``Accept()``, ``Reject(reason)`` or ``Rewrite(activity, reason)``
(``agora_node.processing.policies``). Try it with
``agora-node policy test activity.json``.
"""

from __future__ import annotations

from typing import Any

from agora_node.processing.policies import (
    Accept,
    PolicyContext,
    Reject,
    Verdict,
    object_of,
    text_of,
)


class NoShouting:
    name = "no_shouting"

    def __init__(self, min_letters: int = 20) -> None:
        self.min_letters = int(min_letters)

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict:
        obj = object_of(activity, ctx)
        if activity.get("type") != "Create" or obj is None:
            return Accept()
        letters = [c for c in text_of(obj) if c.isalpha()]
        if len(letters) >= self.min_letters and all(c.isupper() for c in letters):
            return Reject("the whole post is in capitals")
        return Accept()
