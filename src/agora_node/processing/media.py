"""What an uploaded file is, and the image we keep of it.

The type comes from the file's first bytes, never from its name or the
Content-Type a client sent. Images (JPEG, PNG, WebP, GIF, animated GIF too)
are decoded by Pillow and written anew: no metadata block of the upload
(EXIF with its GPS position, XMP, comments) survives, because only pixels,
the colour profile and (for GIF) the frame timings are carried into the new
file. The EXIF orientation is applied to the pixels first. An image over
``max_image_pixels`` (or an animation over that many pixels in all its
frames) is refused before it is decoded: a decompression bomb never gets
to allocate. A file that is also something a browser would run (markup or
script in it, or a ZIP archive at its end, the "GIFAR" kind of polyglot) is
refused outright, even though the re-encoded copy would not carry it.

Video and audio are recognised by their container's signature and kept as
uploaded (no transcoding).

These functions are CPU-bound and synchronous: callers run them on a worker
thread (``actions.media``).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageOps, UnidentifiedImageError

from agora_node.config import MediaSettings
from agora_node.errors import UnprocessableEntity

# kind, MIME type and file extension by signature
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm")
AUDIO_TYPES = ("audio/mpeg", "audio/ogg", "audio/wav", "audio/flac", "audio/mp4")
# What apps may upload (``/api/v2/instance`` announces it).
SUPPORTED_TYPES = (*(m for m, _ in IMAGE_FORMATS.values()), *VIDEO_TYPES, *AUDIO_TYPES)
_EXTENSIONS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "audio/flac": "flac",
    "audio/mp4": "m4a",
}
# Markup or script a browser might run if it sniffed the file: looked for in
# the first bytes (where browsers sniff), and PHP or script tags anywhere.
_MARKUP_HEAD = re.compile(rb"<(?:script|html|svg|body|iframe|!doctype|\?php)", re.I)
_SCRIPT_ANYWHERE = re.compile(rb"<(?:script|\?php)", re.I)
_ZIP_END = b"PK\x05\x06"
# The BlurHash is computed on a thumbnail this large (its 4x3 components need no more).
_BLURHASH_SIZE = 20
_JPEG_QUALITY = 85


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image | video | audio
    mime: str
    ext: str


def sniff(head: bytes) -> Sniffed | None:
    """The type the first bytes (at least 16) name, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png", "png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "image/gif", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Sniffed("audio", "audio/wav", "wav")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio", "audio/mp4", "m4a")
        if brand == b"qt  ":
            return Sniffed("video", "video/quicktime", "mov")
        return Sniffed("video", "video/mp4", "mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video", "video/webm", "webm")
    if head.startswith(b"OggS"):
        return Sniffed("audio", "audio/ogg", "ogg")
    if head.startswith(b"fLaC"):
        return Sniffed("audio", "audio/flac", "flac")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return Sniffed("audio", "audio/mpeg", "mp3")
    return None


def extension_of(mime: str) -> str:
    for known, ext in IMAGE_FORMATS.values():
        if known == mime:
            return ext
    return _EXTENSIONS.get(mime, "bin")


def refuse_polyglot(data: bytes) -> None:
    """422 for a file that is also markup, script or a ZIP archive."""
    if _MARKUP_HEAD.search(data[:4096]) or _SCRIPT_ANYWHERE.search(data):
        raise UnprocessableEntity("Validation failed: the file holds markup or script")
    if _ZIP_END in data[-(65536 + 22) :]:
        raise UnprocessableEntity("Validation failed: the file is also an archive")


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mime: str
    ext: str
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    original: Encoded
    preview: Encoded
    blurhash: str
    animated: bool


def _scaled(width: int, height: int, area: int) -> tuple[int, int]:
    """The size of ``width`` x ``height`` brought down to at most ``area`` pixels."""
    if width * height <= area:
        return width, height
    factor = math.sqrt(area / (width * height))
    return max(1, int(width * factor)), max(1, int(height * factor))


def _encode(im: Image.Image, fmt: str, icc: bytes | None) -> bytes:
    im.info = {}  # the encoders would carry a comment or text over from here
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=_JPEG_QUALITY, **extra)
    elif fmt == "WEBP":
        im.save(out, "WEBP", quality=_JPEG_QUALITY, **extra)
    else:
        im.save(out, "PNG", **extra)
    return out.getvalue()


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)


def _flat(im: Image.Image, keep_alpha: bool) -> Image.Image:
    """``im`` in a mode the encoders take: RGB, or RGBA when it has transparency."""
    if keep_alpha:
        return im if im.mode == "RGBA" else im.convert("RGBA")
    return im if im.mode == "RGB" else im.convert("RGB")


def _blurhash_of(im: Image.Image) -> str:
    small = im.convert("RGB")
    small.thumbnail((_BLURHASH_SIZE, _BLURHASH_SIZE))
    w, h = small.size
    rows = [[small.getpixel((x, y)) for x in range(w)] for y in range(h)]
    x_components, y_components = (4, 3) if w >= h else (3, 4)
    return str(blurhash.encode(rows, x_components, y_components))


def _small(im: Image.Image, size: int) -> Image.Image:
    small = im.copy()
    small.thumbnail((size, size), Image.Resampling.LANCZOS)
    return small


def _encoded_preview(small: Image.Image, alpha: bool, icc: bytes | None) -> Encoded:
    fmt, mime, ext = ("PNG", "image/png", "png") if alpha else ("JPEG", "image/jpeg", "jpg")
    return Encoded(_encode(small, fmt, icc), mime, ext, small.width, small.height)


def _preview(im: Image.Image, size: int, alpha: bool, icc: bytes | None) -> Encoded:
    return _encoded_preview(_small(im, size), alpha, icc)


def _animated_gif(im: Image.Image, limits: MediaSettings) -> ProcessedImage:
    """Every frame written anew (sizes, timings and loop kept; comments and
    application blocks gone), scaled down frame by frame when too large."""
    size = _scaled(im.width, im.height, limits.image_area)
    frames, durations = [], []
    for index in range(int(getattr(im, "n_frames", 1))):
        im.seek(index)
        frame = im.convert("RGBA")
        frame = frame if frame.size == size else frame.resize(size, Image.Resampling.LANCZOS)
        frame.info = {}
        frames.append(frame)
        durations.append(int(im.info.get("duration", 100)))
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=int(im.info.get("loop", 0)),
        disposal=2,
        optimize=False,
    )
    first = frames[0]
    original = Encoded(out.getvalue(), "image/gif", "gif", size[0], size[1])
    return ProcessedImage(
        original, _preview(first, limits.preview_size, True, None), _blurhash_of(first), True
    )


def _unreadable(exc: Exception, limits: MediaSettings) -> UnprocessableEntity:
    """What to tell of an image Pillow could not (or would not) read."""
    if isinstance(exc, UnprocessableEntity):
        return exc
    if isinstance(exc, Image.DecompressionBombError):
        return UnprocessableEntity(
            f"Validation failed: the image has more than {limits.max_image_pixels} pixels"
        )
    if isinstance(exc, UnidentifiedImageError | OSError | ValueError | SyntaxError | EOFError):
        return UnprocessableEntity("Validation failed: the image could not be read")
    raise exc


def process_image(data: bytes, limits: MediaSettings) -> ProcessedImage:
    """The image we keep of an upload, its preview and its BlurHash; 422 with the
    reason for anything that is not a whole, safe image within the limits."""
    refuse_polyglot(data)
    try:
        im = Image.open(io.BytesIO(data))
        fmt = im.format or ""
        if fmt not in IMAGE_FORMATS:
            raise UnprocessableEntity("Validation failed: not an image of a supported type")
        frames = getattr(im, "n_frames", 1) if fmt in ("GIF", "WEBP") else 1
        if im.width * im.height * frames > limits.max_image_pixels:
            raise UnprocessableEntity(
                f"Validation failed: the image has more than {limits.max_image_pixels} pixels"
            )
        icc = im.info.get("icc_profile") if isinstance(im.info.get("icc_profile"), bytes) else None
        if fmt == "GIF" and frames > 1:
            return _animated_gif(im, limits)
        if fmt == "WEBP" and frames > 1:
            raise UnprocessableEntity("Validation failed: animated WebP is not supported")
        target = _scaled(im.width, im.height, limits.image_area)
        if fmt == "JPEG":
            im.draft("RGB", target)  # decode at a reduced scale when that is enough
        im.load()
        upright = ImageOps.exif_transpose(im)
        alpha = _has_alpha(upright)
        pixels = _flat(upright, alpha)
        size = _scaled(pixels.width, pixels.height, limits.image_area)
        if size != pixels.size:
            pixels = pixels.resize(size, Image.Resampling.LANCZOS)
    except Exception as exc:
        raise _unreadable(exc, limits) from None
    out_fmt = {"GIF": "PNG", "PNG": "PNG", "JPEG": "JPEG", "WEBP": "WEBP"}[fmt]
    if out_fmt == "JPEG" and alpha:
        out_fmt = "PNG"
    mime, ext = IMAGE_FORMATS[out_fmt]
    original = Encoded(_encode(pixels, out_fmt, icc), mime, ext, pixels.width, pixels.height)
    small = _small(pixels, limits.preview_size)
    preview = _encoded_preview(small, alpha, icc)
    return ProcessedImage(original, preview, _blurhash_of(small), False)


# Profile pictures as Mastodon keeps them: a square avatar, a 3:1 header.
PICTURE_SIZES = {"avatar": (400, 400), "header": (1500, 500)}


def process_picture(data: bytes, limits: MediaSettings, kind: str) -> Encoded:
    """An avatar or header: read as safely as any image, upright, cropped about
    its centre to its shape and scaled down to its size (an animation keeps its
    first frame)."""
    refuse_polyglot(data)
    width, height = PICTURE_SIZES[kind]
    try:
        im = Image.open(io.BytesIO(data))
        fmt = im.format or ""
        if fmt not in IMAGE_FORMATS:
            raise UnprocessableEntity("Validation failed: not an image of a supported type")
        if im.width * im.height > limits.max_image_pixels:
            raise UnprocessableEntity(
                f"Validation failed: the image has more than {limits.max_image_pixels} pixels"
            )
        icc = im.info.get("icc_profile") if isinstance(im.info.get("icc_profile"), bytes) else None
        im.seek(0)
        im.load()
        upright = ImageOps.exif_transpose(im)
        alpha = _has_alpha(upright)
        pixels = _flat(upright, alpha)
        side = min(1.0, pixels.width / width, pixels.height / height)
        fitted = ImageOps.fit(
            pixels,
            (max(1, round(width * side)), max(1, round(height * side))),
            Image.Resampling.LANCZOS,
        )
    except Exception as exc:
        raise _unreadable(exc, limits) from None
    out_fmt, mime, ext = ("PNG", "image/png", "png") if alpha else ("JPEG", "image/jpeg", "jpg")
    return Encoded(_encode(fitted, out_fmt, icc), mime, ext, fitted.width, fitted.height)
