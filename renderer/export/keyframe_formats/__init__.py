"""Keyframe formats: one writer per kind of file an export leaves beside its video (docs/export.md).

- :mod:`~renderer.export.keyframe_formats.images` — ``keyframes/bar_NNNN.png``, the frame of each bar.
- :mod:`~renderer.export.keyframe_formats.json_file` — ``keyframes.json``, the source of truth
  (what ``barlight export --keyframes`` reads back, :func:`renderer.export.keyframes.read_keyframes`).
- :mod:`~renderer.export.keyframe_formats.csv_file` — ``keyframes.csv``, one row per bar for spreadsheets.
- :mod:`~renderer.export.keyframe_formats.parseq_file` — ``keyframes.parseq.json`` for Parseq/Deforum.

A writer is a module with a function ``write(sheet, out_dir, frame_image) -> paths``: it writes its
files for the :class:`~renderer.export.keyframes.KeyframeSheet` into ``out_dir``, each whole (write,
then rename); ``frame_image(k)`` is the lossless PNG of video frame ``k`` for those that need
pictures. Its ``WRITES`` names those files (glob patterns relative to ``out_dir``): the output rule
refuses an export whose inputs they would overwrite, and an export's files of an earlier one that
the new one lacks are removed when the new set is swapped in. Adding a format is one file here
plus one row in :data:`KEYFRAME_FORMATS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from bridge.registry import load_entry
from renderer.export.keyframes import KeyframeSheet

#: Format name -> "module:function", written in this order (the video file follows them all).
KEYFRAME_FORMATS: dict[str, str] = {
    "images": "renderer.export.keyframe_formats.images:write",
    "json": "renderer.export.keyframe_formats.json_file:write",
    "csv": "renderer.export.keyframe_formats.csv_file:write",
    "parseq": "renderer.export.keyframe_formats.parseq_file:write",
}


def write_keyframes(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> dict[str, tuple[Path, ...]]:
    """Every format's files for ``sheet`` in ``out_dir``, in table order; format name -> the paths written."""
    return {name: tuple(load_entry(KEYFRAME_FORMATS, name, "keyframe format", "keyframes")(sheet, Path(out_dir),
                                                                                           frame_image))
            for name in KEYFRAME_FORMATS}


def keyframe_names() -> tuple[str, ...]:
    """Every registered format's ``WRITES``: glob patterns, relative to the export folder, of what it writes."""
    return tuple(name for entry in KEYFRAME_FORMATS.values()
                 for name in importlib.import_module(entry.partition(":")[0]).WRITES)
