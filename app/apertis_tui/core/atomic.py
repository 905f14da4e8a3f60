"""Replacing a file safely: ``atomic_write`` and nothing else.

A reader sees the old file or the new one, never a part of one, and a crash at any moment
leaves one of the two whole. Used for every file the app writes that is not SQLite: the
settings, the session, the model cache and preferences, exports.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int | None = 0o600) -> None:
    """Write ``data`` to a new file beside ``path``, fsync it, rename it over ``path``, then
    fsync the folder so the rename itself survives a crash.

    ``mode``: the file's exact permissions, whatever the umask (0600 by default: the user's
    alone). ``None``: what any new file gets (0666 less the umask), for files the user hands
    on, such as exports. Raises OSError, and then leaves no temp file behind.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)  # the umask may have taken bits away (or left too many)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable; not possible everywhere
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
