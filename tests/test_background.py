"""The worker process beside the serving one (``server.workers = "process"``).

Given a node started with ``agora-node serve``, it runs its inbox and delivery
workers in a child process; that child is restarted when it dies, stops when
the node is stopped, and does not outlive a serving process killed with
SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from agora_node.background import DELIVERY_BYTE, INBOX_BYTE, PipeWake, WorkerProcess
from agora_node.config import ConfigError, load_settings
from agora_node.devnet import LocalNode, run_cli

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it

WAIT = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc; Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ')'
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def worker_pids(node: LocalNode) -> list[int]:
    assert node.process is not None
    return [p for p in children_of(node.process.pid) if "agora_node.background" in cmdline(p)]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[LocalNode]:
    node = LocalNode("A", tmp_path / "node", "127.0.0.1", free_port())
    node.folder.mkdir()
    node.init()
    node.start()
    try:
        async with aiohttp.ClientSession() as session:
            await node.wait_ready(session)
        yield node
    finally:
        if node.process is not None:
            pgid = node.process.pid
            node.stop()
            try:  # nothing of the node may be left running
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


async def test_serve_runs_its_workers_in_one_child_process(node: LocalNode) -> None:
    await wait_for(lambda: len(worker_pids(node)) == 1, "the worker process")
    await asyncio.sleep(0.5)
    assert len(worker_pids(node)) == 1


async def test_a_killed_worker_process_is_restarted(node: LocalNode) -> None:
    await wait_for(lambda: len(worker_pids(node)) == 1, "the worker process")
    (first,) = worker_pids(node)
    os.kill(first, signal.SIGKILL)
    await wait_for(lambda: worker_pids(node) not in ([], [first]), "a new worker process")
    assert node.process is not None and node.process.poll() is None
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{node.base_url}/.well-known/nodeinfo") as resp:
            assert resp.status == 200


async def test_sigterm_stops_both_processes(node: LocalNode) -> None:
    await wait_for(lambda: len(worker_pids(node)) == 1, "the worker process")
    (worker,) = worker_pids(node)
    assert node.process is not None
    proc = node.process
    proc.send_signal(signal.SIGTERM)
    await asyncio.to_thread(proc.wait, WAIT)
    assert proc.returncode == 0
    await wait_for(lambda: not alive(worker), "the worker process to exit")


async def test_worker_does_not_outlive_a_killed_serving_process(node: LocalNode) -> None:
    await wait_for(lambda: len(worker_pids(node)) == 1, "the worker process")
    (worker,) = worker_pids(node)
    assert node.process is not None
    os.kill(node.process.pid, signal.SIGKILL)  # the serving process only
    node.process.wait(timeout=WAIT)
    await wait_for(lambda: not alive(worker), "the orphaned worker process to exit")
    log = (node.folder / "node.log").read_text()
    assert "serving process gone; worker stopping" in log
    assert "worker process stopped" in log


class RecordingWorker(WorkerProcess):
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def notify(self, what: bytes) -> None:
        self.sent.append(what)


async def test_a_burst_of_wake_ups_is_one_byte_per_loop_turn() -> None:
    worker = RecordingWorker()
    inbox_wake = PipeWake(worker, INBOX_BYTE)
    delivery_wake = PipeWake(worker, DELIVERY_BYTE)
    for _ in range(100):
        inbox_wake.set()
    delivery_wake.set()
    assert worker.sent == []  # written after this turn, not in the request's path
    await asyncio.sleep(0)
    assert sorted(worker.sent) == sorted([INBOX_BYTE, DELIVERY_BYTE])
    inbox_wake.set()
    await asyncio.sleep(0)
    assert worker.sent.count(INBOX_BYTE) == 2


async def test_wake_up_reaches_a_worker_process_through_its_pipe(tmp_path: Path) -> None:
    # A real pipe: the bytes written are the ones the worker process reads.
    worker = WorkerProcess.__new__(WorkerProcess)
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    worker._wake_fd = write_fd
    try:
        PipeWake(worker, INBOX_BYTE).set()
        await asyncio.sleep(0)
        assert os.read(read_fd, 16) == INBOX_BYTE
        # A full pipe (a worker that has not read yet) never blocks the sender.
        for _ in range(100_000):
            worker.notify(INBOX_BYTE)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_worker_mode_is_checked(tmp_path: Path) -> None:
    config = tmp_path / "agora.toml"
    run_cli(config, "init", "--domain", "example.test", "--base-url", "https://example.test")
    text = config.read_text()
    config.write_text(text.replace("[server]\n", '[server]\nworkers = "threads"\n'))
    with pytest.raises(ConfigError, match=r"server\.workers: must be one of process, inline, off"):
        load_settings(config)
    config.write_text(text.replace("[server]\n", '[server]\nworkers = "inline"\n'))
    assert load_settings(config).server.workers == "inline"
