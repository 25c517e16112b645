"""The output rule: every path a command will write is resolved and checked before any work starts.

A command names what it reads (its inputs) and what it will write (its :class:`Output` s: a file,
or a folder that receives a set of files) and calls :func:`check_outputs` once, before it reads
audio, loads a model or renders. An output is refused with one line naming the option and the path
when

- it is, or would replace, one of the command's inputs (the same name, or a link to the same file):
  ``analyze X.wav --json X.wav`` and ``export DIR/mix.mp4 --out DIR`` never destroy the input;
- a file is to be written where a folder is, or a folder where a file is;
- its folder is missing, or cannot be written (read-only, no permission): the command fails at
  once, not after minutes of work.

Files are then written whole through :mod:`bridge.files`. docs/safety.md lists what each command refuses.
"""

from __future__ import annotations

import fnmatch
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bridge.errors import InputError
from bridge.files import file_written_for


@dataclass(frozen=True)
class Output:
    """A path a command writes, named by its ``option`` (``--json``, ``--out``). ``names`` is None for a
    file; for a folder it holds glob patterns (relative, ``/``-separated) of the files written into it."""

    option: str
    path: Path
    names: tuple[str, ...] | None = None

    @classmethod
    def file(cls, option: str, path: str | os.PathLike[str]) -> Output:
        return cls(option, Path(os.fspath(path)))

    @classmethod
    def folder(cls, option: str, path: str | os.PathLike[str], names: Iterable[str]) -> Output:
        return cls(option, Path(os.fspath(path)), tuple(names))

    @property
    def is_folder(self) -> bool:
        return self.names is not None

    def replaces(self, path: str | os.PathLike[str]) -> bool:
        """Whether writing this output would replace ``path`` (or, for a folder input, something in it)."""
        candidates = {_entry(path), os.path.realpath(path)}
        if not self.is_folder:
            return bool(candidates & {_entry(self.path), os.path.realpath(self.path)})
        base = Path(os.path.realpath(self.path))
        for candidate in candidates:
            try:
                relative = PurePosixPath(Path(candidate).relative_to(base).as_posix())
            except ValueError:
                continue
            if any(_covers(relative, pattern) for pattern in self.names or ()):
                return True
        return False


def check_outputs(outputs: Iterable[Output], inputs: Mapping[str, str | os.PathLike[str] | None] | None = None) -> None:
    """Refuse, with an :class:`InputError` naming the path and the option, any output that cannot be
    written or would replace one of ``inputs`` (what -> path; None entries are skipped). Writes nothing
    the user can see: a folder's writability is tried with a hidden file that is removed at once."""
    files: dict[str, str] = {}  # the file each file output writes -> its option
    for output in outputs:
        if not output.is_folder:
            written = os.path.realpath(output.path)
            if written in files:
                raise InputError(output.path, f"{files[written]} and {output.option} would write the same file; "
                                              "give each its own")
            files[written] = output.option
        for what, path in (inputs or {}).items():
            if path is not None and os.fspath(path) != "" and output.replaces(path):
                raise InputError(path, f"{output.option} would overwrite this input ({what}); write elsewhere")
        if output.is_folder:
            _check_folder(output)
        else:
            _check_file(output)


def _entry(path: str | os.PathLike[str]) -> str:
    """The directory entry ``path`` names: its folder resolved, its own name kept (a link is not followed)."""
    path = Path(os.path.abspath(os.fspath(path)))
    return os.path.join(os.path.realpath(path.parent), path.name)


def _covers(relative: PurePosixPath, pattern: str) -> bool:
    """Whether the set pattern ``pattern`` names ``relative``, or a file inside the folder ``relative``."""
    text = relative.as_posix()
    return fnmatch.fnmatchcase(text, pattern) or pattern.startswith(text.rstrip("/") + "/")


def _check_file(output: Output) -> None:
    target = file_written_for(output.path, output.option)
    if target.is_dir():
        raise InputError(target, f"{output.option} is a folder; give a file name")
    folder = target.parent
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, f"not a folder, so {output.option} cannot go in it")
    if not folder.is_dir():
        raise InputError(folder, f"no such folder: create it first (e.g. mkdir -p), or pick another {output.option}")
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(target, f"{output.option} is read-only; make it writable or write elsewhere")
    _try_writing_in(folder, output.option)


def _check_folder(output: Output) -> None:
    folder = output.path
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, f"{output.option} must be a folder, and this is a file")
    for pattern in output.names or ():
        parent = PurePosixPath(pattern).parent
        if str(parent) != "." and (folder / parent).exists() and not (folder / parent).is_dir():
            raise InputError(folder / parent, f"{output.option}: a file stands where the folder {parent}/ goes")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(folder, f"{output.option}: {str(existing)!r} is not a folder")
    _try_writing_in(existing, output.option)


def _try_writing_in(folder: Path, option: str) -> None:
    """Create and remove a hidden file in ``folder``: the one test of writability that holds for read-only
    mounts, ACLs and any user (``os.access`` says yes to root on a read-only folder)."""
    probe = folder / f".barlight-probe-{uuid.uuid4().hex[:12]}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except OSError as err:
        raise InputError(folder, f"{option}: cannot write in this folder ({err.strerror or err})") from None
    os.unlink(probe)
