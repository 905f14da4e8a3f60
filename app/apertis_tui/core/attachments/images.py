"""Images: read with Pillow, scaled down to the limits, re-encoded only when they must be.

Pillow is imported here, and this module only when an image is attached: never before the
first frame. Everything here is slow (a 12-megapixel JPEG is ~6 MB to decode) and runs in a
thread, never on the event loop.

What is sent:
- an image within the limits, in a format every vision model takes (PNG, JPEG, WebP, a still
  GIF) and upright, is sent byte for byte as it is;
- a larger one is scaled to fit (its long side at most ``image_max_side``), in its own format
  (a GIF becomes PNG), EXIF rotation applied. JPEGs are reduced while decoding (to 1/2, 1/4 or
  1/8) when that lands within 10 % under the limit: 4032×3024 becomes 2016×1512 in ~60 ms,
  where resampling the full image took ~200 ms more;
- still over ``image_max_mb``: JPEG at lower quality, then smaller, until it fits;
- other formats Pillow reads (BMP, TIFF, ICO...) are sent as PNG; an animated image as its
  first frame (most models refuse animations).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Attachment, AttachmentError, AttachmentLimits, human_size, make

if TYPE_CHECKING:
    from PIL.Image import Image

#: Leading bytes of the formats sent as they are, and their MIME types.
SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
#: Suffixes of other image formats: read with Pillow, sent as PNG.
OTHER_IMAGE_SUFFIXES = frozenset(".bmp .tif .tiff .ico .ppm .pgm .pbm .tga .heic .heif .avif .jp2 .jxl".split())
_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
_QUALITY = 85
DRAFT_SLACK = 0.9  # a JPEG reduced while decoding may land this far under the limit


def sniff(head: bytes) -> str | None:
    """The MIME type of an image sent as is (PNG, JPEG, GIF, WebP), from its first bytes."""
    for signature, mime in SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_image(head: bytes, name: str) -> bool:
    return sniff(head) is not None or Path(name).suffix.lower() in OTHER_IMAGE_SUFFIXES


def _open(data: bytes, name: str) -> "Image":
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = 200_000_000  # a decompression bomb is refused, a 100-megapixel scan is not
    try:
        image = Image.open(io.BytesIO(data))
        image.size  # noqa: B018 - the header is read: a broken file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError) as error:
        suffix = Path(name).suffix.lower()
        if suffix in (".heic", ".heif", ".avif", ".jxl"):
            raise AttachmentError(f"{name} is a {suffix[1:].upper()} image, which this app cannot read: "
                                  "save it as JPEG or PNG and attach that.") from None
        raise AttachmentError(f"{name} is not an image that can be read ({_reason(error)}).") from None
    return image


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.split("\n")[0][:120]


def _orientation(image: "Image") -> int:
    try:
        return int(image.getexif().get(0x0112, 1) or 1)  # EXIF Orientation
    except Exception:  # a broken EXIF block: take the image as it is
        return 1


def _encode(image: "Image", fmt: str, quality: int = _QUALITY) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=quality)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=quality)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
            image = image.convert("RGBA")
        image.save(out, "PNG")
    return out.getvalue()


def _has_alpha(image: "Image") -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def prepare_image(data: bytes, name: str, limits: AttachmentLimits) -> Attachment:
    """``data`` (an image file's bytes) as an attachment within ``limits``."""
    mime = sniff(data[:16])
    image = _open(data, name)
    try:
        return _prepare(image, data, mime, name, limits)
    except AttachmentError:
        raise
    except (OSError, ValueError, SyntaxError, MemoryError) as error:  # the pixels are broken, not the header
        raise AttachmentError(f"{name} is not an image that can be read ({_reason(error)}).") from None
    finally:
        image.close()


def _prepare(image: "Image", data: bytes, mime: str | None, name: str, limits: AttachmentLimits) -> Attachment:
    from PIL import ImageOps

    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    orientation = _orientation(image)
    if orientation in (5, 6, 7, 8):  # the picture is turned a quarter: it is shown the other way round
        width, height = height, width
    max_side, max_bytes = limits.image_max_side, limits.image_max_bytes
    fits = max(width, height) <= max_side and len(data) <= max_bytes
    if mime is not None and fits and orientation == 1 and frames == 1:
        return make("image", mime, name, data, width=width, height=height)

    notes = []
    if frames > 1:
        notes.append(f"first frame of {frames}")
    fmt = _FORMATS.get(mime or "", "PNG")
    if fmt == "GIF":
        fmt = "PNG"  # a still frame: PNG keeps every colour a GIF has
    if mime is None:
        notes.append(f"sent as PNG ({(image.format or Path(name).suffix[1:] or 'unknown').upper()} file)")
    scale = min(1.0, max_side / max(width, height))
    if fmt == "JPEG" and scale < 1 and orientation == 1:
        # Reduced in the decoder: much cheaper than resampling all of a big photo.
        image.draft("RGB", (int(image.size[0] * scale * DRAFT_SLACK), int(image.size[1] * scale * DRAFT_SLACK)))
    image.seek(0)
    image.load()
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side))
    out = _encode(image, fmt)
    quality = _QUALITY
    while len(out) > max_bytes:  # over the size limit even so: JPEG, lower quality, then smaller
        if fmt != "JPEG" and not _has_alpha(image):
            fmt = "JPEG"
        elif fmt == "JPEG" and quality > 60:
            quality -= 15
        elif min(image.size) > 64:
            image = image.resize((max(1, int(image.size[0] * 0.75)), max(1, int(image.size[1] * 0.75))))
        else:
            raise AttachmentError(f"{name} could not be brought under {human_size(max_bytes)} "
                                  "(Settings, f2: Attachments).")
        out = _encode(image, fmt, quality)
    sent_mime = {"JPEG": "image/jpeg", "WEBP": "image/webp"}.get(fmt, "image/png")
    if (width, height) != image.size:
        notes.insert(0, f"{width}×{height} → {image.size[0]}×{image.size[1]}")
    else:
        notes.insert(0, f"{width}×{height}")
    if sent_mime != mime and mime is not None:
        notes.append(f"sent as {fmt}")
    return make("image", sent_mime, name, out, width=image.size[0], height=image.size[1], note=", ".join(notes))
