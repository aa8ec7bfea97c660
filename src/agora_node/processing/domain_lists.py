"""Domain block lists as admins trade them: Mastodon's CSV, plain lists, JSON.

Pure functions: parse a list into :class:`BlockSpec` values, say what
applying them would change (:func:`plan`), and write the instance's blocks
back out in Mastodon's export format, which Mastodon, GoToSocial and Akkoma
all read::

    #domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
    spam.example,suspend,true,true,Spam,false

A list without that header is read one domain per line (the first column),
as Mastodon reads a plain list. A JSON list is an array of objects with
``domain`` and optionally ``severity``, ``public_comment`` (or ``comment``),
``reject_media``, ``reject_reports`` and ``obfuscate`` (GoToSocial's and
Mastodon's JSON shapes).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from agora_node.errors import UnprocessableEntity

SEVERITIES = ("suspend", "silence", "noop")
CSV_HEADER = (
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class BlockSpec:
    domain: str
    severity: str = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    obfuscate: bool = False
    private_comment: str = ""

    def same_as(self, other: BlockSpec) -> bool:
        """Equal in what a list carries (the private comment stays the admin's)."""
        return replace(self, private_comment="") == replace(other, private_comment="")


@dataclass(frozen=True)
class Change:
    action: str  # "add", "change" or "remove"
    spec: BlockSpec
    before: BlockSpec | None = None

    def describe(self) -> str:
        flags = [
            name
            for name, on in (
                ("reject_media", self.spec.reject_media),
                ("reject_reports", self.spec.reject_reports),
                ("obfuscate", self.spec.obfuscate),
            )
            if on
        ]
        what = self.spec.severity + "".join(f", {f}" for f in flags)
        if self.action == "change" and self.before is not None:
            return f"change {self.spec.domain}: {self.before.severity} -> {what}"
        return f"{self.action} {self.spec.domain} ({what})"


def normal_domain(text: str) -> str:
    """A domain as blocks store it: lower case, IDNA (punycode), no ``*.``
    prefix, no trailing dot; anything else (a URL, a port, spaces) is refused."""
    raw = text.strip().lower()
    if raw.startswith("*."):
        raw = raw[2:]
    raw = raw.rstrip(".")
    try:
        domain = raw.encode("idna").decode("ascii")
    except UnicodeError:
        raise UnprocessableEntity(f"{text!r} is not a domain") from None
    labels = domain.split(".")
    if not domain or len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise UnprocessableEntity(f"{text!r} is not a domain")
    return domain


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "t")


def _severity(value: object) -> str:
    text = str(value or "suspend").strip().lower()
    if text == "limit":  # Mastodon's word for silence in its interface
        text = "silence"
    if text not in SEVERITIES:
        raise UnprocessableEntity(f"unknown severity {value!r} (one of {', '.join(SEVERITIES)})")
    return text


def parse_list(text: str) -> list[BlockSpec]:
    """Blocks from a CSV export, a plain list or a JSON array (see above);
    the same domain twice keeps the last. Raises with the line at fault."""
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith(("[", "{")):
        return _dedupe(_parse_json(stripped))
    return _dedupe(_parse_csv(stripped))


def _parse_json(text: str) -> list[BlockSpec]:
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise UnprocessableEntity(f"the JSON list does not parse: {exc}") from None
    if not isinstance(items, list):
        raise UnprocessableEntity("a JSON block list is an array of objects")
    specs = []
    for n, item in enumerate(items[: MAX_ENTRIES + 1], start=1):
        if n > MAX_ENTRIES:
            raise UnprocessableEntity(f"more than {MAX_ENTRIES} entries")
        if not isinstance(item, dict) or not isinstance(item.get("domain"), str):
            raise UnprocessableEntity(f'entry {n}: an object with a "domain" string is needed')
        try:
            specs.append(
                BlockSpec(
                    domain=normal_domain(item["domain"]),
                    severity=_severity(item.get("severity")),
                    reject_media=_flag(item.get("reject_media", False)),
                    reject_reports=_flag(item.get("reject_reports", False)),
                    public_comment=str(item.get("public_comment") or item.get("comment") or ""),
                    obfuscate=_flag(item.get("obfuscate", False)),
                )
            )
        except UnprocessableEntity as exc:
            raise UnprocessableEntity(f"entry {n}: {exc.public_message}") from None
    return specs


def _parse_csv(text: str) -> list[BlockSpec]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    named = header[:1] == ["domain"] or (len(header) > 1 and all(h.startswith("#") for h in header))
    columns = [h.lstrip("#") for h in header] if named else ["domain"]
    if named and "domain" not in columns:
        raise UnprocessableEntity("line 1: the header has no #domain column")
    body = rows[1:] if named else rows
    if len(body) > MAX_ENTRIES:
        raise UnprocessableEntity(f"more than {MAX_ENTRIES} entries")
    specs = []
    for n, row in enumerate(body, start=2 if named else 1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        values = dict(zip(columns, row, strict=False))
        try:
            specs.append(
                BlockSpec(
                    domain=normal_domain(values.get("domain", "")),
                    severity=_severity(values.get("severity")),
                    reject_media=_flag(values.get("reject_media", "")),
                    reject_reports=_flag(values.get("reject_reports", "")),
                    public_comment=values.get("public_comment", "").strip(),
                    obfuscate=_flag(values.get("obfuscate", "")),
                )
            )
        except UnprocessableEntity as exc:
            raise UnprocessableEntity(f"line {n}: {exc.public_message}") from None
    return specs


def _dedupe(specs: Iterable[BlockSpec]) -> list[BlockSpec]:
    return list({s.domain: s for s in specs}.values())


def plan(
    current: Sequence[BlockSpec], wanted: Sequence[BlockSpec], *, remove_missing: bool = False
) -> list[Change]:
    """What makes ``current`` match ``wanted``: adds and changes, and with
    ``remove_missing`` the removal of blocks ``wanted`` no longer lists."""
    have = {s.domain: s for s in current}
    changes = []
    for spec in wanted:
        before = have.get(spec.domain)
        if before is None:
            changes.append(Change("add", spec))
        elif not spec.same_as(before):
            changes.append(
                Change("change", replace(spec, private_comment=before.private_comment), before)
            )
    if remove_missing:
        listed = {s.domain for s in wanted}
        changes.extend(Change("remove", s) for s in current if s.domain not in listed)
    return changes


def to_csv(blocks: Iterable[BlockSpec]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for b in blocks:
        writer.writerow(
            [
                b.domain,
                b.severity,
                str(b.reject_media).lower(),
                str(b.reject_reports).lower(),
                b.public_comment,
                str(b.obfuscate).lower(),
            ]
        )
    return out.getvalue()


def obfuscated(domain: str) -> str:
    """A domain with its middle hidden, as Mastodon shows an obfuscated block:
    the first and last quarter stay, dots stay, the rest becomes ``*``
    (``spam.example`` → ``spam.****ple``)."""
    keep = len(domain) // 4
    return "".join(
        c if i <= keep or i >= len(domain) - keep or c == "." else "*" for i, c in enumerate(domain)
    )
