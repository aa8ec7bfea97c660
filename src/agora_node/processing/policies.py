"""Inbound policies: a pipeline every remote activity passes before it is stored.

The admin lists them in the config, in order (``[[policies]]`` tables, see
``config.example.toml``); each sees the activity (with the object it carries
or that was fetched for it) and answers :class:`Accept`, :class:`Reject`
with a reason, or :class:`Rewrite` with a changed activity that the next
policy then sees. The first rejection ends it: nothing is stored, and the
log says which policy refused what and why.

A policy is a small class with one method::

    class MyPolicy:
        name = "my_policy"

        def __init__(self, **options): ...

        def decide(self, activity: dict, ctx: PolicyContext) -> Verdict: ...

Built in: ``keywords`` (reject, or mark sensitive, on words in the text),
``max_mentions`` (hellthreads), ``account_age`` (new remote accounts may not
mention or write privately to people here), ``max_age`` (old activities),
``media_domains`` (reject or strip media from some servers). Others are
named by ``class = "module:Class"`` (``examples/policies.py`` has one).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol
from urllib.parse import urlsplit

from agora_node.errors import ConfigError
from agora_node.protocol.sanitize import html_to_text
from agora_node.protocol.vocab import as_list, id_of

log = logging.getLogger(__name__)

DAY = 86400.0


@dataclass(frozen=True)
class Accept:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str


@dataclass(frozen=True)
class Rewrite:
    activity: dict[str, Any]
    reason: str


Verdict = Accept | Reject | Rewrite


@dataclass(frozen=True)
class PolicyContext:
    """What a policy may ask beyond the activity."""

    now: float
    is_local: Callable[[str], bool]
    # When the sending account was made (its ``published``), None when unknown.
    actor_published: Callable[[str], float | None]
    # Documents fetched for the activity (the object of a Create by reference).
    fetched: Mapping[str, dict[str, Any]] = field(default_factory=dict)


class Policy(Protocol):
    name: str

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict: ...


# -- what policies look at ----------------------------------------------------------


def object_of(activity: dict[str, Any], ctx: PolicyContext) -> dict[str, Any] | None:
    """The post an activity carries (embedded, or fetched for it)."""
    obj = activity.get("object")
    if isinstance(obj, dict):
        return obj
    uri = id_of(obj)
    found = ctx.fetched.get(uri) if uri else None
    return found if isinstance(found, dict) else None


def text_of(obj: dict[str, Any]) -> str:
    parts = [obj.get("summary"), obj.get("name"), obj.get("content")]
    for att in as_list(obj.get("attachment")):
        if isinstance(att, dict):
            parts.append(att.get("name"))
    return "\n".join(html_to_text(p) for p in parts if isinstance(p, str) and p)


def mentions_of(obj: dict[str, Any]) -> list[str]:
    return [
        str(t.get("href"))
        for t in as_list(obj.get("tag"))
        if isinstance(t, dict) and t.get("type") == "Mention" and t.get("href")
    ]


def _published(doc: dict[str, Any]) -> float | None:
    raw = doc.get("published")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _words(options: Mapping[str, Any], key: str) -> list[str]:
    raw = options.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(w, str) and w.strip() for w in raw):
        raise ConfigError(f"policies: {key} must be a list of words")
    return [w.strip() for w in raw]


def _number(options: Mapping[str, Any], key: str) -> float:
    raw = options.get(key)
    if not isinstance(raw, int | float) or isinstance(raw, bool) or raw <= 0:
        raise ConfigError(f"policies: {key} must be a positive number")
    return float(raw)


def _domains(options: Mapping[str, Any], key: str) -> frozenset[str]:
    return frozenset(d.lower().strip(".") for d in _words(options, key))


def _in_domains(url: str, domains: frozenset[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


# -- the built-in policies ------------------------------------------------------------


class Keywords:
    """``reject`` posts with these words; mark those with ``sensitive`` words so."""

    name = "keywords"

    def __init__(self, **options: Any) -> None:
        self.reject = self._pattern(_words(options, "reject"))
        self.sensitive = self._pattern(_words(options, "sensitive"))
        if self.reject is None and self.sensitive is None:
            raise ConfigError("policies: keywords needs reject or sensitive words")

    @staticmethod
    def _pattern(words: list[str]) -> re.Pattern[str] | None:
        if not words:
            return None
        return re.compile("|".join(rf"\b{re.escape(w)}\b" for w in words), re.IGNORECASE)

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict:
        obj = object_of(activity, ctx)
        if obj is None or activity.get("type") not in ("Create", "Update"):
            return Accept()
        text = text_of(obj)
        if self.reject is not None and (found := self.reject.search(text)):
            return Reject(f"the post has the word {found.group(0)!r}")
        if self.sensitive is not None and not obj.get("sensitive"):
            if found := self.sensitive.search(text):
                changed = copy.deepcopy(activity)
                changed["object"] = {**obj, "sensitive": True}
                return Rewrite(changed, f"marked sensitive for the word {found.group(0)!r}")
        return Accept()


class MaxMentions:
    """Reject posts that mention more than ``max`` people (hellthreads)."""

    name = "max_mentions"

    def __init__(self, **options: Any) -> None:
        self.max = int(_number(options, "max"))

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict:
        obj = object_of(activity, ctx)
        if obj is None or activity.get("type") not in ("Create", "Update"):
            return Accept()
        count = len(set(mentions_of(obj)))
        if count > self.max:
            return Reject(f"{count} mentions (more than {self.max})")
        return Accept()


class AccountAge:
    """A remote account younger than ``min_days`` may not mention or write
    privately to people here."""

    name = "account_age"

    def __init__(self, **options: Any) -> None:
        self.min_age = _number(options, "min_days") * DAY

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict:
        obj = object_of(activity, ctx)
        if obj is None or activity.get("type") != "Create":
            return Accept()
        addressed = [*mentions_of(obj), *as_list(obj.get("to")), *as_list(obj.get("cc"))]
        if not any(isinstance(u, str) and ctx.is_local(u) for u in addressed):
            return Accept()
        actor = str(id_of(activity.get("actor")))
        made = ctx.actor_published(actor)
        if made is None or ctx.now - made >= self.min_age:
            return Accept()
        days = (ctx.now - made) / DAY
        return Reject(f"the account is {days:.1f} days old and addresses people here")


class MaxAge:
    """Reject posts and boosts published more than ``days`` days ago."""

    name = "max_age"

    def __init__(self, **options: Any) -> None:
        self.max_age = _number(options, "days") * DAY

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict:
        if activity.get("type") not in ("Create", "Announce"):
            return Accept()
        obj = object_of(activity, ctx) if activity.get("type") == "Create" else None
        when = _published(activity) or (_published(obj) if obj else None)
        if when is not None and ctx.now - when > self.max_age:
            return Reject(f"published {(ctx.now - when) / DAY:.0f} days ago")
        return Accept()


class MediaDomains:
    """Reject posts with media from the ``reject`` domains; take out the
    media from the ``strip`` domains (the post stays)."""

    name = "media_domains"

    def __init__(self, **options: Any) -> None:
        self.reject = _domains(options, "reject") if "reject" in options else frozenset()
        self.strip = _domains(options, "strip") if "strip" in options else frozenset()
        if not self.reject and not self.strip:
            raise ConfigError("policies: media_domains needs reject or strip domains")

    def decide(self, activity: dict[str, Any], ctx: PolicyContext) -> Verdict:
        obj = object_of(activity, ctx)
        if obj is None or activity.get("type") not in ("Create", "Update"):
            return Accept()
        media = [a for a in as_list(obj.get("attachment")) if isinstance(a, dict)]
        urls = [str(a.get("url") if isinstance(a.get("url"), str) else id_of(a.get("url")) or "")
                for a in media]  # fmt: skip
        if any(_in_domains(u, self.reject) for u in urls):
            return Reject("media from a rejected domain")
        kept = [a for a, u in zip(media, urls, strict=True) if not _in_domains(u, self.strip)]
        if len(kept) == len(media):
            return Accept()
        changed = copy.deepcopy(activity)
        changed["object"] = {**obj, "attachment": kept}
        return Rewrite(changed, f"{len(media) - len(kept)} attachments taken out")


BUILT_IN: dict[str, Callable[..., Policy]] = {
    cls.name: cls for cls in (Keywords, MaxMentions, AccountAge, MaxAge, MediaDomains)
}


# -- the pipeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    policy: str
    verdict: Verdict


@dataclass(frozen=True)
class Outcome:
    activity: dict[str, Any]
    steps: tuple[Step, ...]

    @property
    def rejected(self) -> Reject | None:
        last = self.steps[-1].verdict if self.steps else None
        return last if isinstance(last, Reject) else None

    @property
    def by(self) -> str:
        return self.steps[-1].policy if self.steps else ""


class Pipeline:
    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = list(policies)

    def __bool__(self) -> bool:
        return bool(self.policies)

    @classmethod
    def from_specs(cls, specs: Sequence[Mapping[str, Any]]) -> Pipeline:
        """From the config's ``[[policies]]`` tables; ConfigError names what is wrong."""
        return cls([_build(dict(spec)) for spec in specs])

    def run(self, activity: dict[str, Any], ctx: PolicyContext) -> Outcome:
        steps = []
        current = activity
        for policy in self.policies:
            try:
                verdict = policy.decide(current, ctx)
            except Exception:  # a broken policy must not take the inbox down
                log.exception("policy %s failed; the activity goes on", policy.name)
                verdict = Accept()
            steps.append(Step(policy.name, verdict))
            if isinstance(verdict, Reject):
                log.info(
                    "policy rejected activity_id=%s policy=%s reason=%s",
                    activity.get("id"), policy.name, verdict.reason,
                )  # fmt: skip
                break
            if isinstance(verdict, Rewrite):
                log.info(
                    "policy rewrote activity_id=%s policy=%s reason=%s",
                    activity.get("id"), policy.name, verdict.reason,
                )  # fmt: skip
                current = verdict.activity
        return Outcome(current, tuple(steps))


def _module(name: str) -> ModuleType:
    """An importable module, or a Python file by its path (``.../my_policies.py``)."""
    if not name.endswith(".py"):
        return importlib.import_module(name)
    spec = importlib.util.spec_from_file_location(f"agora_policy_{Path(name).stem}", name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module at {name}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(spec: dict[str, Any]) -> Policy:
    name = spec.pop("name", None)
    target = spec.pop("class", None)
    if (name is None) == (target is None):
        raise ConfigError("policies: each policy has a name (built in) or a class (module:Class)")
    if name is not None:
        make = BUILT_IN.get(str(name))
        if make is None:
            raise ConfigError(f"policies: no policy named {name!r} ({', '.join(BUILT_IN)})")
        return make(**spec)
    module_name, _, attr = str(target).rpartition(":")
    try:
        made = getattr(_module(module_name), attr)(**spec)
    except (ImportError, AttributeError, ValueError, TypeError, OSError) as exc:
        raise ConfigError(f"policies: cannot load {target!r}: {exc}") from None
    if not callable(getattr(made, "decide", None)) or not isinstance(
        getattr(made, "name", None), str
    ):
        raise ConfigError(f"policies: {target!r} has no name and decide(activity, ctx)")
    return made  # type: ignore[no-any-return]
