"""Media: processing a photograph upload, the event loop meanwhile, and serving files.

Run: ``.venv/bin/python bench/media.py``. Prints:

- media_upload_12mp_ms: one 12-megapixel JPEG (4000x3000, EXIF with GPS
  and an orientation, as a phone writes it) uploaded to a node process with
  ``POST /api/v1/media`` until its answer: the HTTP transfer, the type check,
  decoding, orientation, scaling to 1920x1080's area, the preview, the
  BlurHash, and both files written. ``baseline`` is Pillow alone in this
  process doing the same resize+strip+encode on the same bytes (open, the
  same reduced-scale decode, orientation, the same LANCZOS resize, JPEG at
  the same quality, without EXIF), run in turn with the uploads; medians.
  Ratio is baseline/ours; target at least 0.8.
- media_loop_max_block_ms: the longest event-loop stall the node's loop
  monitor (``AGORA_LOOP_MONITOR``) saw while 8 such uploads ran at once,
  against the 20 ms limit (ratio limit/ours: at least 1 is within it).
- media_serve_req_per_s: ``GET /media/{key}`` of the stored 1920x1440 image
  (about 300 KB) by 16 connections for a fixed number of requests, against a
  bare aiohttp ``FileResponse`` of the same file in its own process. Ratio
  ours/baseline; target at least 0.5.

``AGORA_BENCH_SMOKE=1`` makes a smaller photograph and does fewer runs.
"""

from __future__ import annotations

import asyncio
import io
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aiohttp
from _common import (
    SMOKE,
    NodeProcess,
    figure,
    free_port,
    info,
    read_lag_file,
    temp_workdir,
    wait_ready,
)
from aiohttp import web
from PIL import Image, ImageOps

SIZE = (1600, 1200) if SMOKE else (4000, 3000)
RUNS = 2 if SMOKE else 12
PARALLEL = 8
SERVE_REQUESTS = 200 if SMOKE else 5000
CONNECTIONS = 16
LOOP_LIMIT_MS = 20.0
AREA = 1920 * 1080


def photograph() -> bytes:
    """A photograph-like JPEG: smooth gradients with noise (so it compresses like
    one), EXIF with a GPS position and orientation 6."""
    width, height = SIZE
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    im = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180)))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.0)})
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def pillow_alone(data: bytes) -> bytes:
    """The same resize+strip+encode as the node, with nothing around it."""
    im = Image.open(io.BytesIO(data))
    factor = math.sqrt(AREA / (im.width * im.height))
    target = (int(im.width * factor), int(im.height * factor))
    im.draft("RGB", target)
    im.load()
    upright = ImageOps.exif_transpose(im)
    factor = math.sqrt(AREA / (upright.width * upright.height))
    size = (int(upright.width * factor), int(upright.height * factor))
    out = io.BytesIO()
    upright.resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=85)
    return out.getvalue()


async def upload(session: aiohttp.ClientSession, base: str, token: str, data: bytes) -> dict:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="photo.jpg", content_type="image/jpeg")
    async with session.post(
        f"{base}/api/v1/media", data=form, headers={"Authorization": f"Bearer {token}"}
    ) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return dict(body)


async def serve_rate(session: aiohttp.ClientSession, url: str) -> float:
    left = SERVE_REQUESTS

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async with session.get(url) as resp:
                await resp.read()
                assert resp.status == 200

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return SERVE_REQUESTS / (time.perf_counter() - started)


def bare_file_server(path: str, port: int) -> None:
    async def get(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/file", get)
    app.router.add_get("/ready", ready)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def main() -> int:
    started = time.perf_counter()
    data = photograph()
    info(f"photograph: {SIZE[0]}x{SIZE[1]}, {len(data) / 1024:.0f} KB")
    alone: list[float] = []
    with temp_workdir("agora-bench-media-") as tmp:
        work = Path(tmp)
        lag_file = work / "loop.json"
        node = NodeProcess.create(work / "node", accounts=("alice",))
        node.env["AGORA_LOOP_MONITOR"] = str(lag_file)
        token = node.cli("token", "create", "alice", "--scope", "write").splitlines()[0].strip()
        await node.start()
        bare = None
        try:
            connector = aiohttp.TCPConnector(limit=CONNECTIONS)
            async with aiohttp.ClientSession(connector=connector) as session:
                await upload(session, node.base, token, data)  # warm: imports, threads
                pillow_alone(data)
                ours = []
                for _ in range(RUNS):  # one of each in turn, so drift hits both alike
                    t = time.perf_counter()
                    pillow_alone(data)
                    alone.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    media = await upload(session, node.base, token, data)
                    ours.append((time.perf_counter() - t) * 1000)
                burst_start = time.time()
                await asyncio.gather(
                    *(upload(session, node.base, token, data) for _ in range(PARALLEL))
                )
                burst_end = time.time()
                url = media["url"]
                key = url.rsplit("/", 1)[-1]
                stored = next((work / "node").rglob(key))
                port = free_port()
                command = [sys.executable, __file__, "bare", str(stored), str(port)]
                bare = await asyncio.to_thread(subprocess.Popen, command)
                await wait_ready(f"http://127.0.0.1:{port}/ready", bare)
                await serve_rate(session, url)  # warm both
                await serve_rate(session, f"http://127.0.0.1:{port}/file")
                ours_rate = await serve_rate(session, url)
                bare_rate = await serve_rate(session, f"http://127.0.0.1:{port}/file")
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait(timeout=10)
            node.stop()
        report = read_lag_file(lag_file) or {}
        burst = [
            ms for second, ms in report.get("seconds", []) if burst_start - 1 < second <= burst_end
        ]
        block = max(burst, default=float(report.get("max_lag_ms", 0.0)))
    info(f"stored {media['meta']['original']['size']}, preview {media['meta']['small']['size']}")
    info(f"{PARALLEL} uploads at once took {burst_end - burst_start:.2f} s")
    p_ours, p_alone = statistics.median(ours), statistics.median(alone)
    figure("media_upload_12mp_ms", p_ours, p_alone, p_alone / p_ours)
    figure("media_loop_max_block_ms", block, LOOP_LIMIT_MS, LOOP_LIMIT_MS / max(block, 1e-3))
    figure("media_serve_req_per_s", ours_rate, bare_rate, ours_rate / bare_rate)
    info(f"total {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "bare":
        bare_file_server(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    sys.exit(asyncio.run(main()))
