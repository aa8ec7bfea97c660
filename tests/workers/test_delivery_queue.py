"""``agora-node queue``: the delivery queue per host, retry and purge."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from agora_node.config import load_settings
from agora_node.store import deliveries as deliveries_store
from agora_node.store import jobs as jobs_store
from agora_node.store.db import Database
from agora_node.store.spool import InboxSpool, SpoolReader
from agora_node.workers.inbox import INBOX_JOB

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it

NOW = 1_732_600_000.0


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agora_node.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "node" / "agora.toml"
    result = cli(path, "init", "--domain", "node.test", "--base-url", "https://node.test")
    assert result.returncode == 0, result.stderr
    return path


def fill(config: Path) -> None:
    """a.example: 2 pending, 1 retrying, 1 failed; b.example: 1 failed, 1 done."""
    db = Database(load_settings(config).database.path)
    db.open()

    def write(c: sqlite_utils.Database) -> None:
        for n, (host, state, attempts) in enumerate(
            [
                ("a.example", "pending", 0),
                ("a.example", "pending", 0),
                ("a.example", "pending", 2),
                ("a.example", "failed", 16),
                ("b.example", "failed", 3),
                ("b.example", "done", 1),
            ]
        ):
            activity = f"https://node.test/users/x/activities/{n}"
            deliveries_store.add_deliveries(c, activity, [(f"https://{host}/inbox", host)], 1, NOW)
            c.execute(
                "UPDATE deliveries SET state = ?, attempts = ? WHERE activity_uri = ?",
                [state, attempts, activity],
            )

    db.write_sync(write)
    db.close()


def test_empty_queue(config: Path) -> None:
    result = cli(config, "queue")
    assert result.returncode == 0 and "the delivery queue is empty" in result.stdout
    assert "inbox: 0 spooled, 0 pending, 0 running, 0 failed" in result.stdout


async def test_inbox_line_counts_spooled_queued_and_failed(config: Path) -> None:
    path = load_settings(config).database.path
    db = Database(path)
    db.open()
    spool = InboxSpool(path)
    await asyncio.to_thread(spool.open)
    try:
        for i in range(3):
            await spool.add(f"inbox:https://remote.example/a/{i}", "{}", NOW)
        # Two of them taken by a worker: queued as jobs, one of which has failed for good.
        reader = SpoolReader(path)
        found = await reader.next_rows({}, set(), 2)
        reader.close()
        assert found is not None
        generation, rows, _ = found
        await db.write(lambda c: jobs_store.move_spooled(c, INBOX_JOB, generation, rows))
        job_id = (await db.read(lambda c: c.execute("SELECT min(id) FROM jobs").fetchone()))[0]
        await db.write(lambda c: jobs_store.fail_job(c, job_id, "ValueError: broken"))
    finally:
        await asyncio.to_thread(spool.close)
        db.close()
    result = await asyncio.to_thread(cli, config, "queue")
    assert result.returncode == 0, result.stderr
    assert "inbox: 1 spooled, 1 pending, 0 running, 1 failed" in result.stdout


def test_summary_retry_and_purge(config: Path) -> None:
    fill(config)
    shown = cli(config, "queue")
    assert shown.returncode == 0, shown.stderr
    lines = [line.split() for line in shown.stdout.splitlines()]
    assert lines[0] == ["host", "pending", "retrying", "sending", "failed"]
    assert ["a.example", "2", "1", "0", "1"] in lines
    assert ["b.example", "0", "0", "0", "1"] in lines

    retried = cli(config, "queue", "retry", "--host", "B.Example")
    assert (
        retried.returncode == 0 and "requeued 1 failed deliveries for b.example" in retried.stdout
    )
    assert ["b.example", "1", "0", "0", "0"] in [
        line.split() for line in cli(config, "queue").stdout.splitlines()
    ]

    purged = cli(config, "queue", "purge")
    assert purged.returncode == 0 and "purged 1 failed deliveries" in purged.stdout
    purged = cli(config, "queue", "purge", "--host", "a.example", "--state", "pending")
    assert "purged 3 pending deliveries for a.example" in purged.stdout
    rest = cli(config, "queue").stdout
    assert "a.example" not in rest and "b.example" in rest


def test_errors_exit_2(config: Path) -> None:
    bad_host = cli(config, "queue", "retry", "--host", "not a host")
    assert bad_host.returncode == 2 and "not a host name" in bad_host.stderr
    bad_state = cli(config, "queue", "purge", "--state", "everything")
    assert bad_state.returncode == 2 and "invalid choice" in bad_state.stderr
    missing = cli(config.parent / "nope.toml", "queue")
    assert missing.returncode == 2 and "error" in missing.stderr
