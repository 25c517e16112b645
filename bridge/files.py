"""Writing files whole or not at all: write to a temporary name beside the target, then rename.

Every file Barlight writes for a user (exports, analyses, screenshots, devices, models' data)
goes through :func:`atomic_output` or :func:`write_atomic`, so a crash or Ctrl-C leaves the
old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from bridge.errors import InputError


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, once it is clear it can be written: :class:`InputError` when its folder is missing.
    Commands call it before long work, so a typo fails at once rather than after the analysis."""
    target = Path(os.fspath(path))
    if not target.parent.is_dir():
        raise InputError(target, f"folder {str(target.parent)!r} does not exist")
    return target


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path (same folder and suffix) to write; on success it replaces ``path``.

    ``mode`` (e.g. ``0o644``) sets the file's permissions whatever the umask; by default it gets
    those a plain ``open()`` would. On error the temporary file is removed and ``path`` is left as it was.
    """
    target = check_output_path(path)
    folder = target.parent
    tmp = folder / f".{target.stem}.{uuid.uuid4().hex[:12]}{target.suffix}"
    # Created like a plain open() would (the kernel applies the umask), never reading or
    # changing the process-wide umask, which other threads may be creating files under.
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_atomic(path: str | os.PathLike[str], data: bytes | str, mode: int | None = None) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through :func:`atomic_output`; returns the path."""
    with atomic_output(path, mode) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
