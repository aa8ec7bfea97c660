"""Several local nodes as separate processes on loopback: the demo and the
end-to-end tests both stand on this.

Each node gets its own folder, config, SQLite file and loopback address
(127.0.0.1, 127.0.0.2, ...), so they are distinct hosts to each other and
talk over real HTTP with real signatures.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from agora_node.errors import ServiceUnavailable

READY_TIMEOUT = 30.0


class DevnetError(ServiceUnavailable):
    """A node could not be set up or did not answer."""


def run_cli(config: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "agora_node.cli", "--config", str(config), *args],
        capture_output=True, text=True, timeout=120, input=stdin, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise DevnetError(f"agora-node {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


@dataclass
class LocalNode:
    """One node: its folder, address and process."""

    name: str
    folder: Path
    host: str
    port: int
    peers: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    registration: str = "closed"

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    @property
    def config(self) -> Path:
        return self.folder / "agora.toml"

    @property
    def db_path(self) -> Path:
        return self.folder / "agora.db"

    def init(self) -> None:
        if self.config.exists():
            return
        args = ["init", "--domain", self.netloc, "--base-url", self.base_url,
                "--host", self.host, "--port", str(self.port), "--name", f"Agora {self.name}",
                "--allow-network", "127.0.0.0/8",
                "--registration", self.registration]  # fmt: skip
        for peer in self.peers:
            args += ["--plain-http-host", peer]
        run_cli(self.config, *args)
        with self.config.open("a", encoding="utf-8") as f:
            # Everyone on a local network signs in and browses from the same few
            # addresses: the per-address limits would count them as one person.
            f.write(
                "\n[rate_limits]\nsign_in_per_ip = 10000\nsign_up_per_ip = 10000\n"
                "api_per_ip = 10000\ndiscovery_per_ip = 10000\n"
            )

    def create_account(
        self, username: str, password: str, *, admin: bool = False, locked: bool = False
    ) -> None:
        pw_file = self.folder / f".{username}.pw"
        pw_file.write_text(password + "\n", encoding="utf-8")
        pw_file.chmod(0o600)
        try:
            flags = [*(["--admin"] if admin else []), *(["--locked"] if locked else [])]
            run_cli(
                self.config, "account", "create", username, "--password-file", str(pw_file), *flags
            )
        finally:
            pw_file.unlink()
        self.passwords[username] = password

    def start(self, log_path: Path | None = None) -> None:
        log = open(log_path or self.folder / "node.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agora_node.cli", "--config", str(self.config), "serve"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise DevnetError(f"node {self.name} exited (see {self.folder / 'node.log'})")
            try:
                async with session.get(f"{self.base_url}/.well-known/nodeinfo") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise DevnetError(f"node {self.name} did not start in time")
            await asyncio.sleep(0.1)

    def stop(self, *, hard: bool = False) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            self.process = None
            return
        if hard:  # the whole node dies at once: serving and worker process
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        else:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.process = None


class Devnet:
    """N nodes on 127.0.0.1 .. 127.0.0.N, all on the same port."""

    def __init__(self, root: Path, count: int = 3, port: int = 8080) -> None:
        names = "ABCDEFGH"
        hosts = [f"127.0.0.{i + 1}" for i in range(count)]
        netlocs = [f"{h}:{port}" for h in hosts]
        self.nodes = [
            LocalNode(
                names[i],
                root / f"node-{names[i].lower()}",
                hosts[i],
                port,
                [n for n in netlocs if n != netlocs[i]],
            )
            for i in range(count)
        ]

    def __getitem__(self, name: str) -> LocalNode:
        return next(n for n in self.nodes if n.name == name)

    def init(self) -> None:
        for node in self.nodes:
            node.folder.mkdir(parents=True, exist_ok=True)
            node.init()

    async def start(self, session: aiohttp.ClientSession) -> None:
        for node in self.nodes:
            if node.process is None:
                node.start()
        for node in self.nodes:
            await node.wait_ready(session)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class NodeClient:
    """What a person's app does against one node: OAuth, then API calls."""

    def __init__(self, session: aiohttp.ClientSession, node: LocalNode, username: str) -> None:
        self.session = session
        self.node = node
        self.username = username
        self.token = ""

    @property
    def actor(self) -> str:
        return f"{self.node.base_url}/users/{self.username}"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.node.netloc}"

    async def login(self) -> NodeClient:
        """Register an app and get a token with the password grant."""
        base = self.node.base_url
        async with self.session.post(
            f"{base}/api/v1/apps",
            json={
                "client_name": "devnet",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            },
        ) as resp:
            app = await self._json(resp, 200)
        async with self.session.post(
            f"{base}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": self.username,
                "password": self.node.passwords[self.username],
                "scope": "read write follow",
            },
        ) as resp:
            self.token = (await self._json(resp, 200))["access_token"]
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def _json(self, resp: aiohttp.ClientResponse, *expected: int) -> Any:
        text = await resp.text()
        if resp.status not in expected:
            raise DevnetError(f"{resp.method} {resp.url} -> {resp.status}: {text[:500]}")
        return json.loads(text) if text else None

    async def get(self, path: str, **params: Any) -> Any:
        async with self.session.get(
            f"{self.node.base_url}{path}", params=params or None, headers=self.headers
        ) as resp:
            return await self._json(resp, 200)

    async def outbox(self, activity: dict[str, Any]) -> str:
        """POST a C2S activity; returns the id the server gave it."""
        async with self.session.post(
            f"{self.actor}/outbox",
            json={"@context": "https://www.w3.org/ns/activitystreams", **activity},
            headers={**self.headers, "Content-Type": "application/activity+json"},
        ) as resp:
            await self._json(resp, 201)
            return resp.headers["Location"]

    async def webfinger(self, handle: str) -> str:
        """Resolve ``user@host`` to an actor id, as a client would."""
        user, host = handle.lstrip("@").split("@", 1)
        async with self.session.get(
            f"http://{host}/.well-known/webfinger", params={"resource": f"acct:{user}@{host}"}
        ) as resp:
            jrd = await self._json(resp, 200)
        return str(next(link["href"] for link in jrd["links"] if link["rel"] == "self"))
