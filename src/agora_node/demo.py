"""``agora-node demo``: three local nodes that already talk to each other.

Starts nodes A, B and C on 127.0.0.1, 127.0.0.2 and 127.0.0.3, creates a few
accounts that follow each other, post, reply and boost (all through the same
HTTP APIs an app would use), prints where to look, and stops every node on
Ctrl-C. Everything it writes stays inside the chosen folder.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from pathlib import Path

import aiohttp

from agora_node.devnet import Devnet, NodeClient

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
SETTLE_SECONDS = 20.0


async def _login(session: aiohttp.ClientSession, net: Devnet, node: str, name: str) -> NodeClient:
    target = net[node]
    if name not in target.passwords:
        password_file = target.folder / f"{name}-password.txt"
        if password_file.exists():
            target.passwords[name] = password_file.read_text(encoding="utf-8").strip()
        else:
            password = secrets.token_urlsafe(12)
            await asyncio.to_thread(target.create_account, name, password)
            password_file.write_text(password + "\n", encoding="utf-8")
            password_file.chmod(0o600)
    return await NodeClient(session, target, name).login()


async def _note(client: NodeClient, text: str, **extra: object) -> str:
    location = await client.outbox(
        {
            "type": "Note",
            "content": text,
            "to": [PUBLIC],
            "cc": [f"{client.actor}/followers"],
            **extra,
        }
    )
    activity = await client.get(location.removeprefix(client.node.base_url))
    obj = activity["object"]
    return str(obj["id"] if isinstance(obj, dict) else obj)


async def _wait_for_follows(clients: list[NodeClient], pairs: list[tuple[int, int]]) -> None:
    """Wait (bounded) until each follow is accepted, as seen by the follower's node."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    for a, b in pairs:
        while asyncio.get_running_loop().time() < deadline:
            page = await clients[a].get(f"/users/{clients[a].username}/following", page="true")
            if clients[b].actor in page["orderedItems"]:
                break
            await asyncio.sleep(0.2)


async def populate(net: Devnet, session: aiohttp.ClientSession) -> list[NodeClient]:
    """Sample accounts and a small conversation; safe to run again."""
    alice = await _login(session, net, "A", "alice")
    bob = await _login(session, net, "B", "bob")
    carol = await _login(session, net, "C", "carol")
    clients = [alice, bob, carol]
    follows = [(0, 1), (1, 0), (2, 0), (0, 2), (1, 2)]
    for a, b in follows:
        await clients[a].outbox({"type": "Follow", "object": f"@{clients[b].handle}"})
    await _wait_for_follows(clients, follows)
    hello = await _note(bob, "Hello from node B! Anyone out there in the town square?")
    await alice.outbox(
        {
            "type": "Note",
            "content": f"@{bob.handle} Alice here, on node A. Welcome!",
            "to": [PUBLIC],
            "cc": [bob.actor, f"{alice.actor}/followers"],
            "inReplyTo": hello,
            "tag": [{"type": "Mention", "href": bob.actor, "name": f"@{bob.handle}"}],
        }
    )
    await alice.outbox({"type": "Announce", "object": hello, "to": [PUBLIC]})
    await _note(carol, "Carol on node C: three servers, one conversation.")
    await _wait_for_town_square(clients)
    return clients


async def _wait_for_town_square(clients: list[NodeClient]) -> None:
    """Wait (bounded) until every node's public timeline has posts from all three."""
    deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
    for client in clients:
        while asyncio.get_running_loop().time() < deadline:
            statuses = await client.get("/api/v1/timelines/public", limit=40)
            if len({s["account"]["url"] for s in statuses}) >= len(clients):
                break
            await asyncio.sleep(0.2)


def print_guide(net: Devnet, clients: list[NodeClient]) -> None:
    print("\nThree Agora nodes are running:")
    for node in net.nodes:
        print(f"  node {node.name}: {node.base_url}   (data in {node.folder})")
    print("\nPeople:")
    for client in clients:
        base = client.node.base_url
        print(f"  @{client.handle}")
        print(f"      profile:  {base}/@{client.username}")
        print(f"      actor:    {client.actor}   (Accept: application/activity+json)")
        print(f"      password: {client.node.folder / (client.username + '-password.txt')}")
    print("\nTimelines:")
    for node in net.nodes:
        where = f"{node.base_url}/api/v1/timelines/public"
        print(f"  {where}   (the town square as node {node.name} sees it)")
    print("\nPress Ctrl-C to stop all three nodes.", flush=True)


async def run(folder: Path, port: int) -> None:
    net = Devnet(folder, count=3, port=port)
    net.init()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            await net.start(session)
            clients = await populate(net, session)
        print_guide(net, clients)
        await stop.wait()
    finally:
        print("\nStopping the nodes...", flush=True)
        net.stop()
