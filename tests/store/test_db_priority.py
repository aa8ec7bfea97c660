from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from agora_node.store import accounts as accounts_store
from agora_node.store.db import Database


async def test_urgent_write_commits_before_a_long_bulk_queue(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "p.db"))
    db.open()
    try:
        order: list[str] = []

        def slow(i: int) -> Any:
            def fn(c: Any) -> None:
                time.sleep(0.005)
                accounts_store.put_instance_value(c, f"bulk{i}", "1")
                order.append(f"bulk{i}")

            return fn

        # Given a long queue of slow ordinary writes
        bulk = [asyncio.ensure_future(db.write(slow(i))) for i in range(100)]
        await asyncio.sleep(0.01)  # the writer is busy with the first ones

        def urgent(c: Any) -> None:
            accounts_store.put_instance_value(c, "urgent", "1")
            order.append("urgent")

        # When an urgent write arrives behind them
        await asyncio.wait_for(db.write(urgent, urgent=True), 5)
        # Then it is committed long before the queue is done, and durable already
        assert order.index("urgent") < 20
        assert sum(not f.done() for f in bulk) > 50
        assert await db.read(lambda c: accounts_store.get_instance_value(c, "urgent")) == "1"
        await asyncio.gather(*bulk)
        assert len(order) == 101
    finally:
        db.close()


def test_close_finishes_queued_writes(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "q.db"))
    db.open()
    futures = [
        db.submit_write(lambda c, i=i: accounts_store.put_instance_value(c, f"k{i}", "v"))
        for i in range(50)
    ]
    futures.append(
        db.submit_write(lambda c: accounts_store.put_instance_value(c, "u", "v"), urgent=True)
    )
    db.close()
    assert all(f.done() and f.exception() is None for f in futures)
