"""Settings: a frozen dataclass tree loaded from TOML with strict checking.

Every key is declared once here, with its type and default; the loader
refuses unknown keys, wrong types and impossible values with a message that
names the offending key (``federation.connect_timeout: must be > 0``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agora_node.errors import ConfigError

REGISTRATION_MODES = ("closed", "open", "approval", "invite")
SIGNATURE_SCHEMES = ("cavage", "rfc9421")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
WORKER_MODES = ("process", "inline", "off")
_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@dataclass(frozen=True)
class InstanceSettings:
    domain: str = "localhost:8080"
    base_url: str = "http://localhost:8080"
    name: str = "Agora"
    description: str = "A small federated town square."
    registration: str = "closed"
    admin_contact: str = ""
    # Where the node's source code can be had (the AGPL asks that users can get
    # it); apps link to it. Empty: the node's own front page.
    source_url: str = ""
    # The instance's rules, one sentence each, in order (shown to apps and on pages).
    rules: tuple[str, ...] = ()
    # The pages' accent colour (links, buttons), as #rgb or #rrggbb.
    accent_color: str = "#3a4fb8"


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    log_json: bool = False
    workers: str = "process"
    # Diagnostics: write event-loop lag (and, with callbacks, the slowest
    # callbacks) to this JSON file on shutdown (loopmon.py); empty is off.
    loop_monitor: str = ""
    loop_monitor_callbacks: bool = False


@dataclass(frozen=True)
class DatabaseSettings:
    path: str = "agora-data/agora.db"
    read_threads: int = 2


SHOW_DOMAIN_BLOCKS = ("off", "users", "all")


@dataclass(frozen=True)
class FederationSettings:
    plain_http_hosts: tuple[str, ...] = ()
    allowed_networks: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    # Limited federation: only the domains allowed here (and by the admin's
    # domain allows) federate with this node; everything else is refused.
    allowlist_mode: bool = False
    allowed_domains: tuple[str, ...] = ()
    # Who may read the instance's domain blocks at /api/v1/instance/domain_blocks:
    # "off", "users" (signed-in people) or "all"; and whether the public
    # comments are shown with them.
    show_domain_blocks: str = "off"
    show_domain_block_comments: bool = False
    # How often the block lists subscribed to are fetched again, in hours.
    blocklist_refresh_hours: int = 24
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_fetch_bytes: int = 1024 * 1024
    max_inbox_bytes: int = 1024 * 1024
    max_redirects: int = 3
    signature_scheme: str = "cavage"
    rfc9421_hosts: tuple[str, ...] = ()
    signature_max_age: int = 3900
    signature_max_future: int = 3600
    authorized_fetch: bool = False
    key_refetch_after: int = 300
    thread_fetch_depth: int = 20


@dataclass(frozen=True)
class DeliverySettings:
    concurrency: int = 32
    per_host_concurrency: int = 4
    max_attempts: int = 16
    max_retry_after: int = 6 * 3600
    unavailable_after_days: int = 7
    circuit_failures: int = 5
    circuit_open_seconds: int = 300
    backoff_scale: float = 1.0


@dataclass(frozen=True)
class MediaSettings:
    # Where uploads and the remote media cache live; empty: a folder beside the
    # database (``agora.db-media``). Relative paths are relative to the config file.
    path: str = ""
    # The largest upload of each kind, in bytes (Mastodon's defaults).
    max_image_bytes: int = 16 * 1024 * 1024
    max_video_bytes: int = 99 * 1024 * 1024
    max_audio_bytes: int = 99 * 1024 * 1024
    # What an upload may hold in all; 0 is no limit.
    max_bytes_per_account: int = 0
    # An image with more pixels than this is refused (a decompression bomb guard).
    max_image_pixels: int = 33_177_600
    # Images larger than this many pixels are scaled down to it (1920x1080's area).
    image_area: int = 1920 * 1080
    # The longest side of the preview shown in timelines.
    preview_size: int = 400
    # The longest alt text.
    max_description: int = 1500
    # Refuse a post whose images have no description (alt text), on every surface.
    require_alt_text: bool = False
    # Uploads never attached to a post are removed after this many seconds.
    orphan_after: int = 24 * 3600
    # Keep copies of remote attachments, avatars and headers (fetched when first
    # shown, served from here), up to this many bytes in all; 0 turns it off.
    remote_cache_bytes: int = 1024 * 1024 * 1024
    # The largest remote file kept, and how long one is kept after its last use.
    remote_max_bytes: int = 16 * 1024 * 1024
    remote_keep_days: int = 30


@dataclass(frozen=True)
class ModerationSettings:
    # What a suspended account leaves is deleted this many days after its
    # suspension (Mastodon keeps it 30 days, so a mistake can be undone); 0 keeps it.
    suspension_purge_days: int = 30


@dataclass(frozen=True)
class RateLimitSettings:
    enabled: bool = True
    # Every limit counts requests in windows of this many seconds.
    window: int = 300
    api_per_token: int = 300
    api_per_ip: int = 300
    sign_in_per_ip: int = 25
    sign_up_per_ip: int = 25
    discovery_per_ip: int = 300
    inbox_per_host: int = 6000
    # Proxies whose X-Forwarded-For is believed (networks): by default a proxy on
    # this machine (nginx or Caddy in front, as in examples/), so the limits count
    # people and not the proxy; [] believes no one.
    trusted_proxies: tuple[str, ...] = ("127.0.0.0/8", "::1/128")


@dataclass(frozen=True)
class Settings:
    instance: InstanceSettings = field(default_factory=InstanceSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    moderation: ModerationSettings = field(default_factory=ModerationSettings)
    # The inbound policies, in order: each a table with ``name`` (built in) or
    # ``class`` (module:Class) and its options (processing/policies.py).
    policies: tuple[dict[str, Any], ...] = ()
    source: str = ""

    @property
    def media_root(self) -> str:
        """The folder of uploads and cached remote media."""
        return self.media.path or f"{self.database.path}-media"

    @property
    def base_url(self) -> str:
        return self.instance.base_url.rstrip("/")

    @property
    def domain(self) -> str:
        return self.instance.domain.lower()

    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(n, strict=False) for n in self.federation.allowed_networks
        )


_SECTIONS: dict[str, type[Any]] = {
    "instance": InstanceSettings,
    "server": ServerSettings,
    "database": DatabaseSettings,
    "federation": FederationSettings,
    "delivery": DeliverySettings,
    "media": MediaSettings,
    "rate_limits": RateLimitSettings,
    "moderation": ModerationSettings,
}


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Check one value against its declared type; lists become tuples."""
    origin = typing.get_origin(annotation)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(annotation, types.UnionType):  # pragma: no cover - not used yet
        return value
    raise ConfigError(f"{key}: unsupported setting type")  # pragma: no cover


def _build_section(name: str, cls: type[Any], raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{name}.{key}: unknown setting")
    values = {key: _coerce(f"{name}.{key}", raw[key], hints[key]) for key in raw}
    return cls(**values)


def _check(settings: Settings) -> None:
    """Cross-field and range checks: each message names the key."""
    inst = settings.instance
    parts = urlsplit(inst.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("instance.base_url: must be an absolute http(s) URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("instance.base_url: must not have a path, query or fragment")
    if parts.netloc.lower() != inst.domain.lower():
        raise ConfigError(
            f"instance.domain: must equal the host of instance.base_url ({parts.netloc})"
        )
    if not inst.domain or any(c in inst.domain for c in "/@ "):
        raise ConfigError("instance.domain: must be a host name (with an optional port)")
    if inst.registration not in REGISTRATION_MODES:
        raise ConfigError(f"instance.registration: must be one of {', '.join(REGISTRATION_MODES)}")
    if not _COLOUR.fullmatch(inst.accent_color):
        raise ConfigError("instance.accent_color: must be a colour like #3a4fb8")
    srv = settings.server
    if not 0 <= srv.port <= 65535:
        raise ConfigError("server.port: must be between 0 and 65535")
    if srv.workers not in WORKER_MODES:
        raise ConfigError(f"server.workers: must be one of {', '.join(WORKER_MODES)}")
    if srv.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"server.log_level: must be one of {', '.join(LOG_LEVELS)}")
    if not settings.database.path:
        raise ConfigError("database.path: must not be empty")
    if settings.database.read_threads < 1:
        raise ConfigError("database.read_threads: must be >= 1")
    fed = settings.federation
    for key in ("connect_timeout", "total_timeout"):
        if getattr(fed, key) <= 0:
            raise ConfigError(f"federation.{key}: must be > 0")
    for key in ("max_fetch_bytes", "max_inbox_bytes"):
        if getattr(fed, key) < 1024:
            raise ConfigError(f"federation.{key}: must be at least 1024")
    if not 0 <= fed.max_redirects <= 10:
        raise ConfigError("federation.max_redirects: must be between 0 and 10")
    if fed.signature_scheme not in SIGNATURE_SCHEMES:
        raise ConfigError(
            f"federation.signature_scheme: must be one of {', '.join(SIGNATURE_SCHEMES)}"
        )
    if fed.blocklist_refresh_hours < 1:
        raise ConfigError("federation.blocklist_refresh_hours: must be at least 1")
    if fed.show_domain_blocks not in SHOW_DOMAIN_BLOCKS:
        raise ConfigError(
            f"federation.show_domain_blocks: must be one of {', '.join(SHOW_DOMAIN_BLOCKS)}"
        )
    if fed.signature_max_age < 60 or fed.signature_max_future < 0:
        raise ConfigError("federation.signature_max_age: must be >= 60 (and max_future >= 0)")
    for net in fed.allowed_networks:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(f"federation.allowed_networks: {net!r} is not a network") from None
    if settings.moderation.suspension_purge_days < 0:
        raise ConfigError("moderation.suspension_purge_days: must be 0 (keep) or more")
    rl = settings.rate_limits
    if rl.window < 1:
        raise ConfigError("rate_limits.window: must be at least 1 second")
    for key in ("api_per_token", "api_per_ip", "sign_in_per_ip", "sign_up_per_ip",
                "discovery_per_ip", "inbox_per_host"):  # fmt: skip
        if getattr(rl, key) < 1:
            raise ConfigError(f"rate_limits.{key}: must be at least 1")
    for net in rl.trusted_proxies:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(f"rate_limits.trusted_proxies: {net!r} is not a network") from None
    md = settings.media
    for key in ("max_image_bytes", "max_video_bytes", "max_audio_bytes", "max_image_pixels",
                "image_area", "preview_size", "max_description", "orphan_after"):  # fmt: skip
        if getattr(md, key) < 1:
            raise ConfigError(f"media.{key}: must be >= 1")
    if md.image_area > md.max_image_pixels:
        raise ConfigError("media.image_area: must not exceed media.max_image_pixels")
    for key in ("max_bytes_per_account", "remote_cache_bytes", "remote_max_bytes",
                "remote_keep_days"):  # fmt: skip
        if getattr(md, key) < 0:
            raise ConfigError(f"media.{key}: must be >= 0")
    dl = settings.delivery
    if not 0 < dl.backoff_scale <= 10:
        raise ConfigError("delivery.backoff_scale: must be > 0 and <= 10")
    for key in ("concurrency", "per_host_concurrency", "max_attempts", "unavailable_after_days"):
        if getattr(dl, key) < 1:
            raise ConfigError(f"delivery.{key}: must be >= 1")


# What the admin pages may change of [instance] (kept in the database, laid
# over the config file's values), and how long each text may be.
EDITABLE_INSTANCE = {
    "name": 60,
    "description": 2000,
    "admin_contact": 200,
    "registration": 10,
    "accent_color": 7,
    "rules": 300,  # each rule
}
MAX_RULES = 30


def instance_with(base: InstanceSettings, changes: typing.Mapping[str, Any]) -> InstanceSettings:
    """``base`` with the admin's ``changes``, checked as the config file's are."""
    hints = typing.get_type_hints(InstanceSettings)
    values: dict[str, Any] = {}
    for key, raw in changes.items():
        if key not in EDITABLE_INSTANCE:
            raise ConfigError(f"instance.{key}: cannot be changed here")
        value = _coerce(f"instance.{key}", list(raw) if isinstance(raw, tuple) else raw,
                        hints[key])  # fmt: skip
        limit = EDITABLE_INSTANCE[key]
        texts = value if isinstance(value, tuple) else (value,)
        if any(len(t) > limit for t in texts):
            raise ConfigError(f"instance.{key}: longer than {limit} characters")
        values[key] = value
    if len(values.get("rules", ())) > MAX_RULES:
        raise ConfigError(f"instance.rules: at most {MAX_RULES} rules")
    if not str(values.get("name", base.name)).strip():
        raise ConfigError("instance.name: must not be empty")
    changed = dataclasses.replace(base, **values)
    if changed.registration not in REGISTRATION_MODES:
        raise ConfigError(f"instance.registration: must be one of {', '.join(REGISTRATION_MODES)}")
    if not _COLOUR.fullmatch(changed.accent_color):
        raise ConfigError("instance.accent_color: must be a colour like #3a4fb8")
    return changed


# Keys an environment variable may set, over the file: the benchmarks turn
# the loop monitor on in a node they start without rewriting its config.
ENV_TWINS: dict[str, tuple[str, str]] = {
    "AGORA_LOOP_MONITOR": ("server", "loop_monitor"),
    "AGORA_LOOP_MONITOR_CALLBACKS": ("server", "loop_monitor_callbacks"),
}


def apply_environment(settings: Settings, environ: typing.Mapping[str, str]) -> Settings:
    """``settings`` with the ``ENV_TWINS`` found in ``environ`` applied (checked the same way)."""
    for var, (section, key) in ENV_TWINS.items():
        if var not in environ:
            continue
        part = getattr(settings, section)
        annotation = typing.get_type_hints(type(part))[key]
        value: Any = environ[var]
        if annotation is bool:
            if value.lower() not in ("1", "true", "0", "false", ""):
                raise ConfigError(f"{var}: must be 1, true, 0 or false")
            value = value.lower() in ("1", "true")
        part = dataclasses.replace(part, **{key: _coerce(f"{section}.{key}", value, annotation)})
        settings = dataclasses.replace(settings, **{section: part})
    return settings


def _policies(raw: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise ConfigError("policies: expected [[policies]] tables")
    for n, spec in enumerate(raw, start=1):
        if ("name" in spec) == ("class" in spec):
            raise ConfigError(f"policies: policy {n} needs a name (built in) or a class, not both")
    return tuple(dict(p) for p in raw)


def settings_from_dict(raw: dict[str, Any], source: str = "") -> Settings:
    for key in raw:
        if key not in _SECTIONS and key != "policies":
            raise ConfigError(f"{key}: unknown section")
    sections = {
        name: _build_section(name, cls, raw.get(name, {})) for name, cls in _SECTIONS.items()
    }
    settings = Settings(**sections, policies=_policies(raw.get("policies", [])), source=source)
    _check(settings)
    return settings


def load_settings(path: str | Path) -> Settings:
    """Read and check a TOML file; raises ConfigError naming the problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc.__class__.__name__})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    settings = apply_environment(settings_from_dict(raw, source=str(p)), os.environ)
    db_path = Path(settings.database.path)
    if not db_path.is_absolute():
        # Relative database paths are relative to the config file, so a node
        # started from another working directory finds the same data.
        db_path = (p.parent / db_path).resolve()
        settings = dataclasses.replace(
            settings, database=dataclasses.replace(settings.database, path=str(db_path))
        )
    media_path = settings.media.path
    if media_path and not Path(media_path).is_absolute():
        settings = dataclasses.replace(
            settings,
            media=dataclasses.replace(settings.media, path=str((p.parent / media_path).resolve())),
        )
    # A policy class in a file ("my_policies.py:Class") is looked for beside the config.
    policies = []
    for spec in settings.policies:
        target = spec.get("class")
        file, sep, attr = str(target).rpartition(":") if isinstance(target, str) else ("", "", "")
        if sep and file.endswith(".py") and not Path(file).is_absolute():
            spec = {**spec, "class": f"{(p.parent / file).resolve()}:{attr}"}
        policies.append(spec)
    return dataclasses.replace(settings, policies=tuple(policies))


def render_config(
    domain: str, base_url: str, db_path: str, host: str, port: int, **extra: Any
) -> str:
    """A minimal config file for ``agora-node init``."""
    lines = [
        "# Agora node configuration (see config.example.toml for every key)",
        "[instance]",
        f'domain = "{domain}"',
        f'base_url = "{base_url}"',
        f'name = "{extra.get("name", "Agora")}"',
        f'registration = "{extra.get("registration", "closed")}"',
        "",
        "[server]",
        f'host = "{host}"',
        f"port = {port}",
        "",
        "[database]",
        f'path = "{db_path}"',
        "",
        "[federation]",
    ]
    for key in ("plain_http_hosts", "allowed_networks"):
        vals = extra.get(key, ())
        lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in vals)}]")
    lines.append("")
    return "\n".join(lines)
