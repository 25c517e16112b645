"""The Barlight Max for Live device, built from readable sources (docs/m4l.md).

- ``barlight.maxpat.json`` — the patcher, pretty-printed JSON; its script box (varname
  ``barlight_js``) is left empty in the source.
- ``barlight.js`` — the device logic; the build embeds it in that ``v8`` box, so the device is
  one self-contained file (Live 12.2+ / Max 9). ``external_js=True`` instead writes a classic
  ``js barlight.js`` box and the script next to the device, for Live 10-12.1 (Max 8).
- ``Barlight.amxd`` — the built device, committed for users without Python; a test keeps it
  equal to a fresh build.

An unfrozen ``.amxd`` is a list of chunks (4-byte ASCII tag, little-endian uint32 size, data):
``ampf`` holds the device type (``aaaa`` = audio effect), ``meta`` four flag bytes and ``ptch``
the patcher as NUL-terminated UTF-8 JSON.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from bridge.errors import InputError
from bridge.files import write_atomic

PACKAGE_DIR = Path(__file__).resolve().parent
PATCHER_SOURCE = PACKAGE_DIR / "barlight.maxpat.json"
SCRIPT_SOURCE = PACKAGE_DIR / "barlight.js"
BUILT_DEVICE = PACKAGE_DIR / "Barlight.amxd"
SCRIPT_VARNAME = "barlight_js"
SCRIPT_FILENAME = "barlight.js"
AUDIO_EFFECT = b"aaaa"
META_FLAGS = struct.pack("<I", 1)


def load_patcher(path: Path = PATCHER_SOURCE) -> dict[str, Any]:
    """The patcher source as a dict (``{"patcher": {...}}``)."""
    try:
        patcher = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(patcher, dict) or not isinstance(patcher.get("patcher"), dict):
        raise InputError(path, 'expected an object with a "patcher" object')
    return patcher


def script_box(patcher: dict[str, Any]) -> dict[str, Any]:
    """The box that runs barlight.js, found by its varname."""
    for entry in patcher["patcher"]["boxes"]:
        if entry["box"].get("varname") == SCRIPT_VARNAME:
            return entry["box"]
    raise InputError(PATCHER_SOURCE, f"no box with varname {SCRIPT_VARNAME!r}")


def build_patcher(*, external_js: bool = False, script_path: Path = SCRIPT_SOURCE) -> dict[str, Any]:
    """The device patcher with barlight.js embedded (or referenced, with ``external_js``)."""
    patcher = load_patcher()
    box = script_box(patcher)
    if external_js:
        # as Max saves a js box that loads a file: the name in the text and in saved_object_attributes
        box["text"] = f"js {SCRIPT_FILENAME}"
        box["saved_object_attributes"] = {"filename": SCRIPT_FILENAME, "parameter_enable": 0}
        del box["filename"], box["textfile"]
    else:
        box["textfile"] = dict(box["textfile"], text=script_path.read_text(encoding="utf-8"))
    return patcher


def amxd_bytes(patcher: dict[str, Any], device_type: bytes = AUDIO_EFFECT) -> bytes:
    """An unfrozen .amxd holding ``patcher``; byte-for-byte reproducible."""
    text = json.dumps(patcher, indent="\t", ensure_ascii=False, sort_keys=False) + "\n"
    ptch = text.encode("utf-8") + b"\0"
    return b"".join(_chunk(tag, data) for tag, data in ((b"ampf", device_type), (b"meta", META_FLAGS), (b"ptch", ptch)))


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack("<I", len(data)) + data


def read_chunks(data: bytes, where: str = "device") -> list[tuple[str, bytes]]:
    """Split an .amxd into ``(tag, data)`` chunks, checking every size."""
    chunks: list[tuple[str, bytes]] = []
    offset = 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise InputError(where, f"truncated chunk header at byte {offset}")
        tag = data[offset : offset + 4].decode("ascii", errors="replace")
        (size,) = struct.unpack_from("<I", data, offset + 4)
        if offset + 8 + size > len(data):
            raise InputError(where, f"chunk {tag!r} at byte {offset} claims {size} bytes, file ends first")
        chunks.append((tag, data[offset + 8 : offset + 8 + size]))
        offset += 8 + size
    return chunks


def read_patcher(data: bytes, where: str = "device") -> dict[str, Any]:
    """The patcher JSON inside an unfrozen .amxd."""
    ptch = dict(read_chunks(data, where)).get("ptch")
    if ptch is None:
        raise InputError(where, "no 'ptch' chunk")
    if ptch[:4] == b"mx@c":
        raise InputError(where, "frozen device; unfreeze it in Max first")
    return json.loads(ptch.rstrip(b"\0").decode("utf-8"))


def write_device(out: Path, *, external_js: bool = False) -> list[Path]:
    """Write the device to ``out`` (and barlight.js beside it with ``external_js``); returns the paths."""
    out = Path(out)
    if out.suffix.lower() != ".amxd":
        raise InputError(out, "the device file name must end in .amxd")
    if not out.parent.is_dir():
        raise InputError(out.parent, "no such folder: create it first (e.g. mkdir -p), or pick another --out")
    # 0644 whatever the umask: Live (maybe another user) must read the device and its script
    written = [write_atomic(out, amxd_bytes(build_patcher(external_js=external_js)), mode=0o644)]
    if external_js:
        written.append(write_atomic(out.parent / SCRIPT_FILENAME, SCRIPT_SOURCE.read_bytes(), mode=0o644))
    return written
