"""Uploading media, for the client API and the pages alike.

A surface streams the upload into a file of ``MediaService.incoming`` (never
all of it in memory, never over the limit of its kind) and calls ``upload``.
The type is read from the file's first bytes; an image is processed
(``processing.media``) on the media threads, a video or audio file is kept
as it came. Nothing is left behind by an upload that fails: the incoming
file goes, the row is removed (or, for one processed in the background,
marked failed with the reason), and only whole files reach the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import tempfile
from collections.abc import Callable, Collection, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils
from aiohttp import BodyPartReader, MultipartReader, web

from agora_node.actions.caller import Caller
from agora_node.config import MediaSettings
from agora_node.errors import (
    AgoraError,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    UnprocessableEntity,
)
from agora_node.processing import media as rules
from agora_node.processing.media import Sniffed
from agora_node.processing.outbound import Sent
from agora_node.processing.profile import send_profile
from agora_node.store import accounts as accounts_store
from agora_node.store import media as media_store
from agora_node.store.db import Database
from agora_node.store.files import FileStore, LocalFiles
from agora_node.store.media import MediaRow, NewMedia, StoredFiles

log = logging.getLogger(__name__)
T = TypeVar("T")

# Images above this size are processed after the answer (``/api/v2/media``: 202).
SYNC_BYTES = 2 * 1024 * 1024
# Received bytes are written to disk in pieces of about this size.
_WRITE_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Incoming:
    """An upload received into a file: its path, size and first bytes."""

    path: Path
    size: int
    head: bytes


class MediaService:
    """The store, the limits and the threads media work runs on."""

    def __init__(self, files: FileStore, limits: MediaSettings, threads: int = 2) -> None:
        self.files = files
        self.limits = limits
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="media")
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    def local(cls, root: str, limits: MediaSettings) -> MediaService:
        return cls(LocalFiles(root), limits)

    @property
    def incoming(self) -> Path:
        files = self.files
        assert isinstance(files, LocalFiles)
        return files.upload_dir

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` (CPU or disk) on a media thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, work)

    def clear_incoming(self) -> int:
        """Drop what uploads cut short left in the incoming folder (at start)."""
        gone = 0
        for leftover in self.incoming.iterdir():
            if leftover.is_file():
                leftover.unlink(missing_ok=True)
                gone += 1
        return gone

    def limit_for(self, sniffed: Sniffed | None) -> int:
        """The largest upload of this kind (the largest of all when not known yet)."""
        limits = self.limits
        by_kind = {
            "image": limits.max_image_bytes,
            "video": limits.max_video_bytes,
            "audio": limits.max_audio_bytes,
        }
        return by_kind[sniffed.kind] if sniffed else max(by_kind.values())

    def later(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work`` after the answer; ``close`` waits for none of it."""
        task = asyncio.ensure_future(work())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._pool.shutdown(wait=True, cancel_futures=True)


MEDIA = web.AppKey("media_service", MediaService)


async def receive(part: BodyPartReader, service: MediaService) -> Incoming:
    """An uploaded file part, written to a new incoming file as it arrives (the
    writes on a media thread), refused with a 413 as soon as it passes the limit
    of its kind (known from its first bytes)."""
    fd, name = await service.run(lambda: tempfile.mkstemp(dir=service.incoming, prefix="up-"))
    out = os.fdopen(fd, "wb")
    path = Path(name)
    size, head, pending = 0, b"", bytearray()
    limit = service.limit_for(None)

    def write(data: bytes) -> None:
        out.write(data)

    def finish(drop: bool) -> None:
        out.close()
        if drop:
            path.unlink(missing_ok=True)

    try:
        while chunk := await part.read_chunk(64 * 1024):
            if len(head) < 64:
                head = (head + chunk)[:64]
                limit = service.limit_for(rules.sniff(head)) if len(head) >= 16 else limit
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the file is over {limit // (1024 * 1024)} MB")
            pending += chunk
            if len(pending) >= _WRITE_CHUNK:
                await service.run(functools.partial(write, bytes(pending)))
                pending = bytearray()
        await service.run(functools.partial(write, bytes(pending)))
    except BaseException:
        await service.run(lambda: finish(True))
        raise
    await service.run(lambda: finish(False))
    return Incoming(path, size, head)


@dataclass
class ReceivedForm:
    """A multipart form as it arrived: its text fields in order, its files on disk."""

    fields: list[tuple[str, str]]
    files: dict[str, Incoming]

    async def discard(self, service: MediaService) -> None:
        """Remove the files nobody took."""
        for got in self.files.values():
            await service.run(functools.partial(got.path.unlink, missing_ok=True))
        self.files.clear()


async def receive_form(
    reader: MultipartReader,
    service: MediaService,
    file_fields: Collection[str] | None,
    *,
    max_fields: int = 64,
    field_bytes: int = 64 * 1024,
) -> ReceivedForm:
    """Read a multipart body as it arrives (for the client API and the pages alike):
    the text parts (at most ``max_fields``, each at most ``field_bytes``), and the
    file parts named in ``file_fields`` (None: any) each written to an incoming
    file; a file part left empty (no file chosen) and any other file are passed
    over. Nothing stays on disk when it fails."""
    got = ReceivedForm([], {})
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or not part.name:
                raise BadRequest("a multipart body part without a name")
            if part.filename is not None:
                wanted = file_fields is None or part.name in file_fields
                if part.filename and wanted and part.name not in got.files:
                    incoming = await receive(part, service)
                    if incoming.size:
                        got.files[part.name] = incoming
                    else:
                        await service.run(functools.partial(incoming.path.unlink, missing_ok=True))
                else:
                    await part.release()
                continue
            if len(got.fields) >= max_fields:
                raise BadRequest("the form has too many fields")
            raw = await part.read(decode=True)
            if len(raw) > field_bytes:
                raise UnprocessableEntity(f"Validation failed: {part.name} is too long")
            got.fields.append((part.name, raw.decode("utf-8", "replace")))
    except BaseException:
        await got.discard(service)
        raise
    return got


def _checked_focus(raw: str | None) -> tuple[float, float] | None:
    """Mastodon's ``focus``: "x,y", each from -1.0 to 1.0."""
    if raw is None or raw == "":
        return None
    try:
        x, y = (float(part) for part in raw.split(","))
    except ValueError:
        raise UnprocessableEntity("Validation failed: focus must be two numbers, x,y") from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise UnprocessableEntity("Validation failed: focus is from -1.0 to 1.0 on each axis")
    return x, y


def _checked_description(service: MediaService, text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) > service.limits.max_description:
        raise UnprocessableEntity(
            f"Validation failed: the description is over {service.limits.max_description} "
            "characters"
        )
    return text.strip()


def _stored(service: MediaService, path: Path, sniffed: Sniffed) -> StoredFiles:
    """Process (images) and store the file at ``path``; the incoming file goes."""
    files = service.files
    try:
        if sniffed.kind != "image":
            size = path.stat().st_size
            return StoredFiles(sniffed.kind, sniffed.mime, files.put_path(path, sniffed.ext), size)
        done = rules.process_image(path.read_bytes(), service.limits)
        main, small = done.original, done.preview
        return StoredFiles(
            kind="image",
            mime=main.mime,
            file_key=files.put(main.data, main.ext),
            size=len(main.data),
            width=main.width,
            height=main.height,
            preview_key=files.put(small.data, small.ext),
            preview_width=small.width,
            preview_height=small.height,
            blurhash=done.blurhash,
        )
    finally:
        path.unlink(missing_ok=True)


async def upload(
    caller: Caller,
    service: MediaService,
    incoming: Incoming,
    *,
    description: str | None,
    focus: str | None,
    wait: bool,
) -> MediaRow:
    """Store an upload for the caller. With ``wait`` false, a large image is
    processed after this returns (the row says ``processing``)."""
    try:
        sniffed = rules.sniff(incoming.head)
        if sniffed is None:
            raise UnprocessableEntity(
                "Validation failed: the file is not an image, video or audio file of a "
                "supported type"
            )
        if incoming.size > service.limit_for(sniffed):
            raise PayloadTooLarge(
                f"the {sniffed.kind} is over {service.limit_for(sniffed) // (1024 * 1024)} MB"
            )
        text = _checked_description(service, description) or ""
        point = _checked_focus(focus) or (0.0, 0.0)
        await _check_quota(caller.db, service, caller.account.id, incoming.size)
    except AgoraError:
        await service.run(lambda: incoming.path.unlink(missing_ok=True))
        raise
    new = NewMedia(
        caller.account.id, sniffed.kind, sniffed.mime, text, point[0], point[1], caller.now
    )
    media_id = await caller.db.write(lambda c: media_store.insert_media(c, new))
    background = not wait and sniffed.kind == "image" and incoming.size > SYNC_BYTES
    if background:
        service.later(lambda: _finish(caller.db, service, media_id, incoming.path, sniffed))
    else:
        try:
            files = await service.run(lambda: _stored(service, incoming.path, sniffed))
        except BaseException:
            await caller.db.write(lambda c: media_store.delete_media(c, media_id))
            raise
        await caller.db.write(lambda c: media_store.mark_ready(c, media_id, files))
    row = await caller.db.read(lambda c: media_store.get_media(c, media_id))
    assert row is not None
    return row


async def _finish(
    db: Database, service: MediaService, media_id: int, path: Path, sniffed: Sniffed
) -> None:
    try:
        files = await service.run(lambda: _stored(service, path, sniffed))
    except AgoraError as exc:
        reason = exc.public_message
        await db.write(lambda c: media_store.mark_failed(c, media_id, reason))
        return
    except Exception:
        log.exception("processing upload %s failed", media_id)
        await db.write(lambda c: media_store.mark_failed(c, media_id, "internal error"))
        return
    await db.write(lambda c: media_store.mark_ready(c, media_id, files))


async def _check_quota(db: Database, service: MediaService, account_id: int, size: int) -> None:
    allowed = service.limits.max_bytes_per_account
    if not allowed:
        return
    used = await db.read(lambda c: media_store.bytes_of_account(c, account_id))
    if used + size > allowed:
        raise PayloadTooLarge(
            f"the uploads of this account would be over {allowed // (1024 * 1024)} MB"
        )


async def own_media(caller: Caller, media_id: int) -> MediaRow:
    me = caller.account.id
    row = await caller.db.read(lambda c: media_store.get_media(c, media_id))
    if row is None or row.account_id != me:
        raise NotFound("Record not found")
    return row


async def describe(
    caller: Caller,
    service: MediaService,
    media_id: int,
    *,
    description: str | None,
    focus: str | None,
) -> MediaRow:
    """Change an upload's alt text or focus point (Mastodon: until it is posted;
    here also after, as an edit of the post would)."""
    row = await own_media(caller, media_id)
    text = _checked_description(service, description)
    point = _checked_focus(focus)
    await caller.db.write(lambda c: media_store.update_description(c, row.id, text, point))
    return await own_media(caller, media_id)


def _delete_files(files: FileStore, keys: list[str]) -> None:
    for key in keys:
        files.delete(key)


async def remove_unattached(db: Database, service: MediaService, now: float) -> int:
    """Delete uploads no post took within ``orphan_after``, and those of deleted
    posts and deleted accounts (their files stop being served); how many."""
    cutoff = now - service.limits.orphan_after
    rows = await db.read(lambda c: media_store.unattached_before(c, cutoff, 500))
    rows += await db.read(lambda c: media_store.of_deleted(c, 500))
    for row in rows:
        await _delete_upload(db, service, row.id)
    return len(rows)


async def discard(caller: Caller, service: MediaService, media_ids: list[int]) -> None:
    """Delete the caller's uploads that no post took (a post that failed)."""
    for media_id in media_ids:
        row = await caller.db.read(functools.partial(media_store.get_media, media_id=media_id))
        if row is not None and row.account_id == caller.account.id and row.object_uri is None:
            await _delete_upload(caller.db, service, media_id)


async def _delete_upload(db: Database, service: MediaService, media_id: int) -> None:
    unused = await db.write(lambda c: media_store.delete_media(c, media_id))
    await service.run(lambda: _delete_files(service.files, unused))


async def set_picture(
    caller: Caller, service: MediaService, kind: str, incoming: Incoming | None
) -> Sent:
    """Make an upload the caller's avatar or header (``incoming`` None removes
    it); the followers' servers are sent the new actor document."""
    actor = caller.account.actor
    assert actor is not None
    files: StoredFiles | None = None
    if incoming is not None:
        try:
            sniffed = rules.sniff(incoming.head)
            if sniffed is None or sniffed.kind != "image":
                raise UnprocessableEntity(
                    f"Validation failed: the {kind} must be a JPEG, PNG, WebP or GIF image"
                )
            data = await service.run(incoming.path.read_bytes)
            done = await service.run(lambda: rules.process_picture(data, service.limits, kind))
            key = await service.run(lambda: service.files.put(done.data, done.ext))
        finally:
            await service.run(functools.partial(incoming.path.unlink, missing_ok=True))
        files = StoredFiles("image", done.mime, key, len(done.data), done.width, done.height)
    url = caller.urls.media(files.file_key) if files else None

    def write(c: sqlite_utils.Database) -> tuple[list[str], Sent]:
        unused = media_store.replace_picture(
            c, caller.account.id, actor.uri, kind, files, caller.now
        )
        accounts_store.set_actor_picture(c, actor.uri, kind, url)
        return unused, send_profile(c, caller.context(), caller.account, f"{kind} changed")

    unused, sent = await caller.db.write(write)
    await service.run(lambda: _delete_files(service.files, unused))
    return sent
