"""Signing outgoing requests with the right local key, at send time.

Private keys are parsed once per account and kept in memory; signing a
request never parses PEM. One RSA-2048 PKCS#1 v1.5 signature is cheap enough
to run on the event loop per request (bench/signatures.py measures it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import sqlite_utils

from agora_node.federation.http import Signer
from agora_node.protocol.httpsig import SigningKey, sign_request
from agora_node.protocol.keys import load_private_key
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store.db import Database


class Signers:
    """Cache of loaded signing keys: the instance actor and each local account."""

    def __init__(self, db: Database, urls: LocalUrls) -> None:
        self._db = db
        self._urls = urls
        self._keys: dict[int | None, asyncio.Future[SigningKey]] = {}

    async def key_for(self, account_id: int | None) -> SigningKey:
        """The account's RSA key (or the instance actor's for ``None``).

        Loaded once per account; concurrent first callers share one load.
        """
        pending = self._keys.get(account_id)
        if pending is None:
            pending = asyncio.ensure_future(self._db.read(lambda db: self._load(db, account_id)))
            self._keys[account_id] = pending
            try:
                await pending
            except Exception:
                del self._keys[account_id]
                raise
        return await pending

    def _load(self, db: sqlite_utils.Database, account_id: int | None) -> SigningKey:
        if account_id is not None:
            account = accounts_store.get_account_by_id(db, account_id)
            if account is not None:
                return SigningKey(
                    self._urls.main_key(account.username),
                    load_private_key(account.rsa_private_pem, trusted=True),
                )
        pem = accounts_store.get_instance_value(db, "instance_rsa_private_pem")
        if pem is None:
            raise RuntimeError("instance key missing")
        return SigningKey(self._urls.instance_key, load_private_key(pem, trusted=True))

    async def signer(self, account_id: int | None, scheme: str = "cavage") -> Signer:
        key = await self.key_for(account_id)
        return make_signer(key, scheme)


def make_signer(key: SigningKey, scheme: str) -> Signer:
    """A ``Signer`` for the HTTP client: signs with a fresh Date each call."""

    def sign(
        method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Mapping[str, str]:
        return sign_request(method, url, headers, body, key, scheme=scheme)

    return sign
