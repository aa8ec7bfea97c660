"""Where media files live: a small storage interface and its local-folder form.

Files are content-addressed: a file's key is the SHA-256 of its bytes and
its extension (``ab/cd/abcd...ef.jpg``), so the same picture uploaded twice
is stored once, a key never changes meaning, and a key is safe in a URL and
on disk (hex digits and a known extension only). A file is written to a
temporary name in the same folder and renamed into place, so a reader never
sees half a file and a crash leaves no half-written one under a key.

Another store (S3-compatible) can take the place of ``LocalFiles`` by
offering the same four methods. The calls block (disk I/O): callers run
them on a worker thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{2,5}")


def is_key(key: str) -> bool:
    return _KEY.fullmatch(key) is not None


def key_for(data: bytes, ext: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{ext}"


class FileStore(Protocol):
    def put(self, data: bytes, ext: str) -> str: ...
    def put_path(self, path: Path, ext: str) -> str: ...
    def path_of(self, key: str) -> Path | None: ...
    def delete(self, key: str) -> None: ...
    def size_of(self, key: str) -> int | None: ...


class LocalFiles:
    """Files under one folder, two levels of sub-folders by key."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _where(self, key: str) -> Path:
        if not is_key(key):
            raise ValueError("not a file key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes, ext: str) -> str:
        key = key_for(data, ext)
        final = self._where(key)
        if final.exists():
            return key
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def put_path(self, path: Path, ext: str) -> str:
        """Take the file at ``path`` (moved, not copied: it must be on this store's
        file system, as ``upload_dir`` is) under its key."""
        digest = hashlib.sha256()
        with path.open("rb") as src:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                digest.update(chunk)
        key = f"{digest.hexdigest()}.{ext}"
        final = self._where(key)
        if final.exists():
            path.unlink(missing_ok=True)
            return key
        final.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as src:
            os.fsync(src.fileno())
        os.replace(path, final)
        return key

    @property
    def upload_dir(self) -> Path:
        """Where uploads are received before they are processed (same file system)."""
        folder = self.root / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def path_of(self, key: str) -> Path | None:
        """The file of ``key`` if it is stored (None for a malformed key too)."""
        if not is_key(key):
            return None
        path = self._where(key)
        return path if path.is_file() else None

    def delete(self, key: str) -> None:
        if is_key(key):
            self._where(key).unlink(missing_ok=True)

    def size_of(self, key: str) -> int | None:
        path = self.path_of(key)
        return path.stat().st_size if path else None
