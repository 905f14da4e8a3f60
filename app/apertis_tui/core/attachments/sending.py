"""A user message and its attachments as the OpenAI ``content`` a request carries, and the
refusal of a model that takes no images.

Text files and folders become text: the message's own words first, then each file as a fenced
block headed by its name, as one string (servers that take no content parts at all still
read it). Images make the content a list of parts: that text, then for each image a line naming
it and an ``image_url`` part with a ``data:`` URI.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import Any

from ..text import one_line
from ..types import ApiError, AttachmentInfo
from .texts import decode, fenced_file

_IMAGE_WORDS = re.compile(r"image|vision|multi-?modal", re.I)


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def user_content(text: str, attachments: Sequence[tuple[AttachmentInfo, bytes]]) -> str | list[dict[str, Any]]:
    """The ``content`` of a user message with ``attachments`` (each with its bytes)."""
    texts = [text] if text.strip() else []
    images: list[dict[str, Any]] = []
    for info, data in attachments:
        if info.kind == "image":
            images.append({"type": "text", "text": f"{info.name}:"})
            images.append({"type": "image_url", "image_url": {"url": data_uri(info.mime, data)}})
        elif info.kind == "folder":  # already its tree and fenced files
            texts.append(decode(data).rstrip("\n"))
        else:
            texts.append(fenced_file(info.name, decode(data)))
    joined = "\n\n".join(texts)
    if not images:
        return joined
    return ([{"type": "text", "text": joined}] if joined else []) + images


def has_images(messages: Sequence[dict[str, Any]]) -> bool:
    """Whether any of a request's messages carries an image part."""
    return any(isinstance(m.get("content"), list) and any(
        isinstance(p, dict) and p.get("type") == "image_url" for p in m["content"]) for m in messages)


def refuses_images(error: ApiError | None) -> bool:
    """A refusal that speaks of images, vision or multimodal input: 400 as OpenAI, vLLM and
    DeepSeek say it, 404 as OpenRouter does ("No endpoints found that support image input")."""
    return (error is not None and error.status in (400, 404, 415, 422)
            and bool(_IMAGE_WORDS.search(f"{error.message} {error.detail or ''}")))


def images_refused(model: str, error: ApiError) -> ApiError:
    detail = one_line(error.detail or error.message, 160)
    return ApiError("bad_request", f"{model} does not take images ({error.status}: {detail}).",
                    "Pick a model that does with ctrl+o, then ctrl+g; or, to go on without the image (it is sent "
                    "again with every turn), fork the chat from before it (ctrl+up, then f).",
                    status=error.status, detail=error.detail)
