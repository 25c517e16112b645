"""Writing user files whole or not at all: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bridge.errors import InputError


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path (same folder and suffix) to write; on success it replaces ``path``.

    On error the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(os.fspath(path))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(target, f"folder {str(folder)!r} does not exist")
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
