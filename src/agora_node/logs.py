"""Log output for every process of a node: plain lines, or one JSON object a line.

Its own module so that the serving process, the worker process and the CLI
set logging up the same way without importing one another.
"""

from __future__ import annotations

import json
import logging

from agora_node.config import Settings


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(settings: Settings | None) -> None:
    level = settings.server.log_level.upper() if settings else "INFO"
    handler = logging.StreamHandler()
    if settings and settings.server.log_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
