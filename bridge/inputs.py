"""Reading what a user hands Barlight, bounded: regular files under a size cap, lines split on ``\\n`` only.

A file a command reads may come from anyone (a shared preset, a downloaded Live set), so no
reader trusts its size or its kind: ``mapping = "/dev/zero"`` in a preset, a FIFO, or a file
of gigabytes is refused with one line before a byte is read. The caps are per kind of file
(:data:`MAX_BYTES`) and documented in docs/safety.md.
"""

from __future__ import annotations

import json
import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bridge.errors import InputError

MiB = 1 << 20

#: The largest file of each kind a reader accepts, in bytes (docs/safety.md says why each is enough).
MAX_BYTES: dict[str, int] = {
    "preset": 1 * MiB,  # a TOML preset: a few KB
    "mapping": 1 * MiB,  # a fitted mapping .json: a few KB
    "midi": 4 * MiB,  # a Standard MIDI File: songs are KBs; mido holds every note as an object
    "live set": 64 * MiB,  # a gzipped .als (its XML is capped separately, see bridge.timeline.als)
    "recording": 512 * MiB,  # a session .jsonl: about 60 MB per hour of streaming
    "keyframes": 64 * MiB,  # keyframes.json: about 8 KB per bar
    "audio": 8192 * MiB,  # an hour of 192 kHz stereo float; bridge.features caps the duration itself
}
#: The longest line of a JSON Lines recording (a /daw/markers list of a whole song is a few KB).
MAX_LINE_BYTES = 1 * MiB


def check_regular_file(path: str | os.PathLike[str], kind: str) -> Path:
    """``path`` as a Path once it is clear it is a regular file within ``MAX_BYTES[kind]``; otherwise an
    :class:`InputError` naming it: missing, a folder, a device or pipe (``/dev/zero``), or too big."""
    path = Path(os.fspath(path))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(path, f"no such {kind} file") from None
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, f"is a directory, not {_a(kind)} file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, f"not a regular file (a device, pipe or socket), refused as {_a(kind)} file")
    if info.st_size > MAX_BYTES[kind]:
        raise InputError(path, f"{info.st_size / MiB:.1f} MB is too big for {_a(kind)} file "
                               f"(at most {MAX_BYTES[kind] // MiB} MB)")
    return path


def read_limited(path: str | os.PathLike[str], kind: str) -> bytes:
    """The bytes of the regular file ``path`` (:func:`check_regular_file`), never more than its cap even
    if it grows while being read."""
    path = check_regular_file(path, kind)
    limit = MAX_BYTES[kind]
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    if len(data) > limit:
        raise InputError(path, f"grew past {limit // MiB} MB while being read")
    return data


def read_text_limited(path: str | os.PathLike[str], kind: str) -> str:
    """:func:`read_limited` decoded as UTF-8; an :class:`InputError` naming the file if it is not UTF-8."""
    data = read_limited(path, kind)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text (byte {err.start}), not {_a(kind)} file") from None


def open_limited(path: str | os.PathLike[str], kind: str) -> BinaryIO:
    """The regular file ``path`` opened for reading in binary, after :func:`check_regular_file`."""
    path = check_regular_file(path, kind)
    try:
        return open(path, "rb")
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None


def json_lines(handle: BinaryIO, where: str | os.PathLike[str]) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, line, ended)`` for each line of a JSON Lines file, split on ``\\n`` only.

    JSON Lines ends a record at ``\\n`` and nowhere else: U+2028, U+2029, U+0085 or a lone
    ``\\r`` inside a string stay in it (``str.splitlines`` would cut there). ``ended`` is False
    for a last line without its ``\\n`` (being written, or cut by a crash). A line longer than
    :data:`MAX_LINE_BYTES` is an :class:`InputError`.
    """
    number = 0
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        ended = line.endswith(b"\n")
        if not ended and len(line) > MAX_LINE_BYTES:
            raise InputError(where, f"line {number} is longer than {MAX_LINE_BYTES // MiB} MB")
        yield number, line[:-1] if ended else line, ended


def parse_json(text: str | bytes) -> Any:
    """``json.loads``, with nesting too deep for Python's parser a :class:`ValueError` like any other malformed
    JSON: 200,000 ``[`` are 200 KB, well under every cap, and would otherwise end in a ``RecursionError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, with nesting too deep for it a ``TOMLDecodeError`` like any other malformed TOML."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("nested too deeply to read") from None


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
