"""The one way this project writes a file: whole or not at all, private to its owner.

``atomic_write(path)`` yields a binary file handle on a temporary file made by ``mkstemp``
in the target's own directory (so the final rename stays on one file system and the name
cannot be guessed or pre-created by someone else). A clean exit flushes and fsyncs the
file, sets its mode (0600 unless told otherwise), renames it over ``path`` with
``os.replace`` and fsyncs the directory so the rename itself survives a power cut. Any
exception removes the temporary file and leaves ``path`` as it was.

``exclusive=True`` publishes with ``os.link`` instead of ``os.replace``: the first writer
wins and later ones get ``FileExistsError`` (how two processes agree on one signing key).

``move_into_place(src, path)`` publishes a file written elsewhere on the same file system
(a streamed upload staged while it was hashed) with the same fsync, mode and rename.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

PRIVATE = 0o600


@contextmanager
def atomic_write(path, *, mode: int = PRIVATE, exclusive: bool = False):
    """``with atomic_write(p) as fh: fh.write(b"...")`` - ``p`` appears only when complete."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _chmod(tmp, mode)
        if exclusive:
            os.link(tmp, path)            # FileExistsError when another writer won
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def move_into_place(src, path, *, mode: int = PRIVATE) -> Path:
    """Publish the finished file ``src`` as ``path`` (same file system), durably."""
    with open(src, "rb+") as fh:
        os.fsync(fh.fileno())
    _chmod(src, mode)
    os.replace(src, path)
    fsync_dir(Path(path).parent)
    return Path(path)


def write_bytes(path, data: bytes, **options) -> Path:
    with atomic_write(path, **options) as fh:
        fh.write(data)
    return Path(path)


def write_text(path, text: str, **options) -> Path:
    return write_bytes(path, text.encode("utf-8"), **options)


def fsync_dir(directory) -> None:
    """Make a rename in ``directory`` durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _chmod(path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:      # a file system without POSIX modes: its default applies
        pass
