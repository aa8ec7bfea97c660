"""A person's relations as CSV files, in the shapes Mastodon exports and imports.

Exports: the accounts one follows (``Account address,Show boosts,Notify on
new posts,Languages``), one's followers (``Account address``), blocks (one
address a line, no header, as Mastodon writes them) and mutes (``Account
address,Hide notifications``). An import of follows reads Mastodon's file
(with or without its header line: then the first column is the address) and
names the first line it cannot read; a file is read whole or not at all.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agora_node.errors import UnprocessableEntity

EXPORT_KINDS = ("following", "followers", "blocks", "mutes")
# Mastodon's names for the files, so a person finds what they know.
EXPORT_FILES = {
    "following": "following_accounts.csv",
    "followers": "followers.csv",
    "blocks": "blocked_accounts.csv",
    "mutes": "muted_accounts.csv",
}
_HEADERS: dict[str, tuple[str, ...]] = {
    "following": ("Account address", "Show boosts", "Notify on new posts", "Languages"),
    "followers": ("Account address",),
    "blocks": (),
    "mutes": ("Account address", "Hide notifications"),
}
# What one import may hold (Mastodon takes up to 20,000 rows a file).
MAX_IMPORT_ROWS = 20_000
# A request body is at most 1 MB (aiohttp's client_max_size, federation.max_inbox_bytes).
MAX_IMPORT_BYTES = 1024 * 1024
_ADDRESS = re.compile(r"@?([^@\s/:]+)@([^@\s/]+)")


def _flag(value: Any) -> str:
    return "true" if value else "false"


def export_csv(kind: str, rows: Sequence[tuple[Any, ...]]) -> str:
    """The CSV text of ``rows`` (from ``store.relationships.exported_relations``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if _HEADERS[kind]:
        writer.writerow(_HEADERS[kind])
    for row in rows:
        address = f"{row[0]}@{row[1]}"
        if kind == "following":
            writer.writerow([address, _flag(row[2]), _flag(row[3]), ""])
        elif kind == "mutes":
            writer.writerow([address, _flag(row[2])])
        else:
            writer.writerow([address])
    return out.getvalue()


@dataclass(frozen=True)
class FollowToImport:
    address: str  # name@server, without the leading @
    show_reblogs: bool | None
    notify: bool | None


def _bool(cell: str, line: int, column: str) -> bool | None:
    value = cell.strip().lower()
    if not value:
        return None
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise UnprocessableEntity(f"line {line}: {column} must be true or false, not {cell!r}")


def read_follows_csv(data: bytes) -> list[FollowToImport]:
    """The follows a Mastodon export lists, each address once, in file order."""
    if len(data) > MAX_IMPORT_BYTES:
        raise UnprocessableEntity(f"the file is over {MAX_IMPORT_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnprocessableEntity("the file is not UTF-8 text (a CSV export)") from None
    try:
        lines = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    except csv.Error as exc:
        raise UnprocessableEntity(f"the file is not CSV: {exc}") from None
    header = [c.strip() for c in lines[0]] if lines else []
    has_header = bool(header) and header[0] == "Account address"
    columns = {name: i for i, name in enumerate(header)} if has_header else {}
    body = lines[1:] if has_header else lines
    if not body:
        raise UnprocessableEntity("the file lists no accounts")
    if len(body) > MAX_IMPORT_ROWS:
        raise UnprocessableEntity(f"the file lists more than {MAX_IMPORT_ROWS} accounts")
    found: dict[str, FollowToImport] = {}
    for number, row in enumerate(body, start=2 if has_header else 1):
        match = _ADDRESS.fullmatch(row[0].strip())
        if match is None:
            raise UnprocessableEntity(
                f"line {number}: {row[0].strip()!r} is not an account address (name@server)"
            )

        def cell(name: str, row: list[str] = row) -> str:
            i = columns.get(name)
            return row[i] if i is not None and i < len(row) else ""

        address = f"{match[1]}@{match[2].lower()}"
        found.setdefault(
            address,
            FollowToImport(
                address,
                _bool(cell("Show boosts"), number, "Show boosts"),
                _bool(cell("Notify on new posts"), number, "Notify on new posts"),
            ),
        )
    return list(found.values())
