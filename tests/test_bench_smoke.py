"""The HTTP benches run end to end in their tiny smoke mode and keep their output format.

``AGORA_BENCH_SMOKE=1`` makes each phase a few hundred requests; this checks
exit status 0 and that every figure line is ``NAME: ours=X baseline=Y ratio=Z``.
The numbers themselves are not judged here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # starts processes; `pytest -m 'not e2e'` skips it

REPO = Path(__file__).resolve().parents[1]
FIGURE = re.compile(
    r"^(?P<name>[a-z0-9_]+): ours=(?P<ours>[0-9.]+) baseline=(?P<baseline>[0-9.]+) "
    r"ratio=(?P<ratio>[0-9.]+)$"
)
EXPECTED = {
    "api_statuses": ["api_post_status_per_s", "api_post_status_p99_ms_at_80pct"],
    "discovery": ["discovery_actor_rps", "discovery_webfinger_rps"],
    "fanout": [
        "fanout_deliveries_per_s",
        "fanout_time_s",
        "fanout_peak_rss_mb",
        "fanout_actor_p99_ms_during",
        "fanout_inbox_p99_ms_during",
    ],
    "inbox": [
        "inbox_accepted_per_s",
        "inbox_p50_ms",
        "inbox_p99_ms",
        "inbox_p99_ms_at_target_load",
        "inbox_loop_max_block_ms",
        "inbox_loop_max_block_ms_at_target_load",
        "inbox_durable_after_kill9",
    ],
    "media": ["media_upload_12mp_ms", "media_loop_max_block_ms", "media_serve_req_per_s"],
    "moderation": ["moderated_inbox_accepted_per_s", "moderated_inbox_processed_per_s"],
    "streaming": ["streaming_fanout_p99_ms", "streaming_idle_kib_per_conn"],
    "web_pages": ["web_home_p50_ms", "web_front_p50_ms", "web_page_weight_kb"],
}


@pytest.mark.parametrize("bench", sorted(EXPECTED))
def test_bench_smoke(bench: str) -> None:
    env = {**os.environ, "AGORA_BENCH_SMOKE": "1"}
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / f"{bench}.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = {}
    for line in result.stdout.splitlines():
        if line.startswith("#") or not line.strip():
            continue  # informational lines
        match = FIGURE.match(line)
        assert match, f"not a figure line: {line!r}"
        figures[match["name"]] = match
    assert list(figures) == EXPECTED[bench], result.stdout
    for match in figures.values():
        assert float(match["ours"]) > 0 and float(match["baseline"]) > 0, match.string
    if bench == "inbox":
        # every 202 survived the kill -9, even in the smoke run
        assert figures["inbox_durable_after_kill9"]["ratio"] == "1.000", result.stdout
