"""`agora-node demo` as a newcomer runs it: three nodes, a conversation, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it


def test_demo_runs_three_nodes_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agora_node.cli", "demo", "--dir", str(folder), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    output: list[str] = []
    try:
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(output)
        assert "Press Ctrl-C" in text, text
        for host in ("127.0.0.1", "127.0.0.2", "127.0.0.3"):
            assert f"http://{host}:{port}/@" in text
        # The town square as node A sees it holds posts from B and C.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/timelines/public") as resp:
            statuses = json.load(resp)
        authors = {s["account"]["acct"] for s in statuses}
        assert f"bob@127.0.0.2:{port}" in authors and f"carol@127.0.0.3:{port}" in authors
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            # The nodes run in their own sessions: stop any the demo could not.
            subprocess.run(["pkill", "-f", str(folder)], check=False)
    # Nothing was written outside the chosen folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]
    assert sorted(p.name for p in folder.iterdir()) == ["node-a", "node-b", "node-c"]
    # And no node is left running.
    left = subprocess.run(["pgrep", "-f", str(folder)], capture_output=True, text=True)
    assert left.stdout.strip() == ""
