"""A folder nobody can write into, for the tests of "an unwritable destination fails at once".

``chmod 555`` stops a normal user but not root (tests often run as root in containers), so as
root the folder is made immutable with ``chattr +i`` (ext4, xfs, btrfs ...), and failing that
sysfs is used, which refuses new files to everyone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path


def can_create_in(folder: Path) -> bool:
    probe = folder / f".probe-{uuid.uuid4().hex[:8]}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError:
        return False
    os.unlink(probe)
    return True


@contextlib.contextmanager
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """Yield an existing folder that cannot be written into; restored afterwards."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "kept.txt").write_text("the user's")
    folder.chmod(0o555)
    immutable = False
    if can_create_in(folder) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if can_create_in(folder):
            folder = Path("/sys")
            if not folder.is_dir() or can_create_in(folder):
                raise RuntimeError("no unwritable folder on this machine (not root-proof: chmod, chattr, sysfs)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(tmp_path / "read-only")], capture_output=True)
        (tmp_path / "read-only").chmod(0o755)
