"""The limits on attachments (``[attachments]`` in the settings). Apart from ``model``: the
settings read them at start-up, and nothing else of attachments is needed then."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024
KB = 1024
DEFAULT_IMAGE_MAX_SIDE = 2048
DEFAULT_IMAGE_MAX_MB = 4.0
DEFAULT_TEXT_MAX_KB = 200


@dataclass(frozen=True)
class AttachmentLimits:
    """An image larger than ``image_max_side`` pixels on its long side or ``image_max_mb``
    megabytes (MiB) is scaled down; a text file, or a folder's listing and texts together, may
    hold ``text_max_kb`` kilobytes (KiB)."""

    image_max_side: int = DEFAULT_IMAGE_MAX_SIDE
    image_max_mb: float = DEFAULT_IMAGE_MAX_MB
    text_max_kb: int = DEFAULT_TEXT_MAX_KB

    @property
    def image_max_bytes(self) -> int:
        return int(self.image_max_mb * MB)

    @property
    def text_max_bytes(self) -> int:
        return self.text_max_kb * KB
