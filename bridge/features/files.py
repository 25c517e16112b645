"""Writing user files whole or not at all: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
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
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path (same folder and suffix) to write; on success it replaces ``path``.

    On error the temporary file is removed and ``path`` is left as it was.
    """
    target = check_output_path(path)
    folder = target.parent
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=folder)
    os.close(fd)
    tmp = Path(name)
    mask = os.umask(0)  # mkstemp makes 0600; give the file the mode a plain open() would
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
