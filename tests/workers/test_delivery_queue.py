"""``agora-node queue``: the delivery queue per host, retry and purge."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from agora_node.config import load_settings
from agora_node.store import deliveries as deliveries_store
from agora_node.store.db import Database

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
