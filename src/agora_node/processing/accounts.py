"""Local account rules: usernames, password hashing, the new actor's record.

Passwords are hashed with scrypt (memory-hard, in the standard library).
Stored form: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from agora_node.errors import BadRequest
from agora_node.protocol.keys import KeyPair, generate_ed25519_keypair, generate_rsa_keypair
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$", re.IGNORECASE)
RESERVED_USERNAMES = frozenset(
    {
        "actor",
        "inbox",
        "outbox",
        "api",
        "oauth",
        "users",
        "well-known",
        "nodeinfo",
        "instance",
        "root",
        "system",
        "support",
        "webmaster",
        "postmaster",
        "abuse",
        "security",
        "admin",
        "administrator",
        "moderator",
        "about",
        "auth",
        "home",
        "public",
        "search",
        "settings",
        "statuses",
        "static",
        "explore",
        "tags",
        "notifications",
        "directory",
        "web",
    }
)
_SCRYPT_LOG_N = 14
_SCRYPT_R = 8
_SCRYPT_P = 1
MIN_PASSWORD_LENGTH = 8


def check_username(username: str, *, allow_reserved: bool = False) -> str:
    """Mastodon's rule: letters, digits and underscores, at most 30."""
    if not USERNAME_RE.match(username):
        raise BadRequest("username must be 1-30 characters of letters, digits and underscores")
    if not allow_reserved and username.lower() in RESERVED_USERNAMES:
        raise BadRequest(f"username {username!r} is reserved")
    return username


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=2**_SCRYPT_LOG_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=32,
    )
    b64 = base64.b64encode
    params = f"{_SCRYPT_LOG_N}${_SCRYPT_R}${_SCRYPT_P}"
    return f"scrypt${params}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log_n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(hash_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=2 ** int(log_n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True)
class NewAccount:
    """Everything ``store.accounts.insert_account`` needs for a new account."""

    username: str
    password_hash: str
    is_admin: bool
    rsa: KeyPair
    ed25519: KeyPair
    actor: dict[str, Any]
    public_keys: list[tuple[str, str, str]]


def new_local_account(
    urls: LocalUrls,
    domain: str,
    username: str,
    password: str,
    *,
    now: float,
    is_admin: bool = False,
    locked: bool = False,
    password_hash: str | None = None,
) -> NewAccount:
    """Validate and build a new account (generates both key pairs); a sign-up
    approved later brings the ``password_hash`` it was made with."""
    check_username(username)
    password_hash = password_hash or hash_password(password)
    rsa_pair = generate_rsa_keypair()
    ed_pair = generate_ed25519_keypair()
    uri = urls.actor(username)
    actor = {
        "uri": uri,
        "local": 1,
        "type": "Person",
        "username": username,
        "host": domain,
        "display_name": username,
        "summary": "",
        "url": urls.profile_page(username),
        "inbox": urls.inbox(username),
        "outbox": urls.outbox(username),
        "shared_inbox": urls.shared_inbox,
        "followers_uri": urls.followers(username),
        "following_uri": urls.following(username),
        "featured_uri": urls.featured(username),
        "manually_approves": int(locked),
        "published": now,
    }
    keys = [
        (urls.main_key(username), rsa_pair.public_pem, "rsa"),
        (urls.ed25519_key(username), ed_pair.public_pem, "ed25519"),
    ]
    return NewAccount(username, password_hash, is_admin, rsa_pair, ed_pair, actor, keys)


def store_new_account(db: sqlite_utils.Database, new: NewAccount) -> int:
    """Write a built account (actor, keys, account row); returns the account id."""
    return accounts_store.insert_account(
        db,
        actor=new.actor,
        username=new.username,
        password_hash=new.password_hash,
        is_admin=new.is_admin,
        rsa_private_pem=new.rsa.private_pem,
        ed25519_private_pem=new.ed25519.private_pem,
        public_keys=new.public_keys,
    )
