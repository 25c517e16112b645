"""Writing files whole or not at all: write to a temporary name beside the target, then rename.

Every file Barlight writes for a user (exports, analyses, screenshots, devices, models' data)
goes through :func:`atomic_output` or :func:`write_atomic`, so a crash or Ctrl-C leaves the
old file or the new one, never half of one. Files that belong together (an export's video,
keyframe files and images) are written as a set with :func:`staged_set`: all of them are
made in a hidden staging folder first and swapped in together, so a crash leaves the old set
or the new one (see :func:`commit_set`). What a command may write at all is decided before
it starts by :mod:`bridge.outputs`.

Files written as a stream for as long as a command runs keep the same rule with a name of their own,
because their unfinished state means something: a recording is ``NAME.jsonl.part`` (and its audio
``NAME.pcmN.flac.part``) until it closes, and a crashed one is read from that name
(:mod:`bridge.recording`, :mod:`bridge.session_audio`); a video being encoded is
``.NAME.incomplete.mp4`` until :class:`renderer.sinks.video_file.VideoWriter` closes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bridge.errors import InputError

#: The hidden folder a set is written into, beside its final names.
STAGE_NAME = ".barlight-stage"
#: The staging folder renamed at the commit point: while it exists, its files are being swapped in.
COMMIT_NAME = ".barlight-commit"
#: In the commit folder: the old set's files that the new set supersedes (deleted after the swap).
SUPERSEDED_NAME = ".superseded.json"


def file_written_for(path: str | os.PathLike[str], option: str = "") -> Path:
    """The file that writing ``path`` replaces: a link is followed (the file it points to is written, the link
    stays a link). :class:`InputError` when that is not a regular file (a device, pipe or socket): renaming
    a new file over ``/dev/null`` would replace the device. ``option`` (``--json``) is named in the error."""
    target = Path(os.fspath(path))
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.exists() and not target.is_file() and not target.is_dir():
        what = f"{option} is" if option else "it is"
        raise InputError(path, f"{what} not a regular file (a device, pipe or socket), which writing a whole "
                               "file by renaming would replace; give a file name")
    return target


def check_output_path(path: str | os.PathLike[str]) -> Path:
    """The file to write for ``path`` (:func:`file_written_for`), once it is clear it can be written:
    :class:`InputError` when its folder is missing or it is a device, pipe or socket. Commands check their
    outputs up front with :func:`bridge.outputs.check_outputs`; this is the last guard."""
    target = file_written_for(path)
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
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as err:
        raise InputError(target, f"cannot write ({err.strerror or err})") from None
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


# -- sets of files ------------------------------------------------------------------------------

@contextlib.contextmanager
def staged_set(folder: str | os.PathLike[str], replaces: Iterable[str] = (),
               on_step: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Yield an empty staging folder inside ``folder``; write the new set there under the relative names it
    will have in ``folder``. When the block ends normally the set is committed (:func:`commit_set`, with
    ``replaces``); on an error or Ctrl-C the staging folder is deleted and ``folder`` is left as it was.

    An interrupted commit found in ``folder`` is finished first (:func:`recover_set`)."""
    folder = Path(os.fspath(folder))
    recover_set(folder)
    stage = folder / STAGE_NAME
    shutil.rmtree(stage, ignore_errors=True)  # what a crash before an earlier commit left
    stage.mkdir()
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    commit_set(folder, replaces, on_step)


def commit_set(folder: Path, replaces: Iterable[str] = (), on_step: Callable[[str], None] | None = None) -> list[Path]:
    """Swap the staged set into ``folder``; returns the final paths. ``replaces`` are glob patterns (relative
    to ``folder``) of the set's files: those of the old set that the new one lacks are deleted.

    The commit point is one rename (staging folder -> :data:`COMMIT_NAME`): a crash before it leaves
    the old set untouched; after it, the files are moved into place one by one, and whatever a crash
    interrupts, :func:`recover_set` (run by the next :func:`staged_set` in ``folder`` and by readers
    such as ``read_keyframes``) completes. ``on_step(name)`` runs before each step (tests kill there)."""
    step = on_step or (lambda name: None)
    stage = folder / STAGE_NAME
    names = _files_in(stage)
    superseded = sorted({path.relative_to(folder).as_posix() for pattern in replaces for path in folder.glob(pattern)
                         if path.is_file()} - set(names))
    (stage / SUPERSEDED_NAME).write_text(json.dumps(superseded), encoding="utf-8")
    step("commit")
    os.replace(stage, folder / COMMIT_NAME)
    _finish_commit(folder, step)
    return [folder / name for name in names]


def recover_set(folder: str | os.PathLike[str]) -> bool:
    """Finish a commit that a crash interrupted in ``folder`` (True if there was one)."""
    folder = Path(os.fspath(folder))
    if not (folder / COMMIT_NAME).is_dir():
        return False
    _finish_commit(folder, lambda name: None)
    return True


def _finish_commit(folder: Path, step: Callable[[str], None]) -> None:
    commit = folder / COMMIT_NAME
    for name in _files_in(commit):
        step(name)
        final = folder / name
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(commit / name, final)
    try:
        superseded = json.loads((commit / SUPERSEDED_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        superseded = []  # cut before it was written whole: nothing is deleted
    for name in superseded:
        step(f"remove {name}")
        (folder / name).unlink(missing_ok=True)
    step("done")
    shutil.rmtree(commit, ignore_errors=True)


def _files_in(root: Path) -> list[str]:
    """Relative ``/``-separated names of the files under ``root``, sorted, without the commit's own list."""
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*")
                  if path.is_file() and path.name != SUPERSEDED_NAME)


@contextlib.contextmanager
def created_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Make ``path`` (and missing parents) for the block; on an error, remove those of them this call
    created that are still empty, so a failed command leaves no empty ``--out`` folder behind."""
    path = Path(os.fspath(path))
    created = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        created.append(folder)
    path.mkdir(parents=True, exist_ok=True)
    try:
        yield path
    except BaseException:
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


@contextlib.contextmanager
def replaced_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new hidden folder beside ``path`` to fill; on success it replaces ``path`` whole (the old
    folder is renamed aside, the new one renamed in, the old one deleted), so a crash leaves the old
    folder or the new one. On an error the new folder is removed and ``path`` is left as it was."""
    target = Path(os.fspath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old)
        else:
            tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
