"""Image encodings: what platforms serve, and lossy round trips.

Encoders are called with fixed settings (no EXIF, no timestamps, fixed
WebP method), so the same pixels always give the same bytes.
"""

from __future__ import annotations

import io

from PIL import Image

from omniplug.errors import InvalidInputError

__all__ = ["IMAGE_FORMATS", "decode", "encode", "media_type_of", "reencode"]

#: Formats :func:`encode` writes, with their MIME types.
IMAGE_FORMATS = {"JPEG": "image/jpeg", "WEBP": "image/webp", "PNG": "image/png"}


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """Encode ``img`` as ``fmt`` (``JPEG``, ``WEBP`` or ``PNG``); ``quality`` 1-100 for the lossy two.

    JPEG uses 4:2:0 chroma subsampling below quality 90 and 4:4:4 from 90 up,
    as image servers commonly do.
    """
    fmt = fmt.upper()
    if fmt not in IMAGE_FORMATS:
        raise InvalidInputError(f"image format {fmt!r} must be one of {', '.join(IMAGE_FORMATS)}")
    if not 1 <= quality <= 100:
        raise InvalidInputError(f"quality {quality} must be 1-100")
    buf = io.BytesIO()
    rgb = img.convert("RGB")
    if fmt == "JPEG":
        rgb.save(buf, "JPEG", quality=quality, subsampling=0 if quality >= 90 else 2, optimize=False)
    elif fmt == "WEBP":
        rgb.save(buf, "WEBP", quality=quality, method=2)
    else:
        rgb.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def decode(data: bytes) -> Image.Image:
    """Decode image bytes into an RGB image (raises ``InvalidInputError`` if they are not one)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"not a decodable image ({len(data)} bytes): {exc}") from exc


def reencode(img: Image.Image, fmt: str = "JPEG", quality: int = 75) -> Image.Image:
    """``img`` after a lossy round trip through ``fmt`` at ``quality`` (a re-upload)."""
    return decode(encode(img, fmt, quality))


def media_type_of(data: bytes) -> str:
    """The MIME type of encoded media, from its magic bytes.

    Knows JPEG, PNG, WebP, GIF, BMP and MP4/MOV (``video/mp4``, ``video/quicktime``);
    anything else is ``application/octet-stream``.
    """
    head = bytes(data[:16])
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:2] == b"BM":
        return "image/bmp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    return "application/octet-stream"
