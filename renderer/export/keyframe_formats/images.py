"""Keyframe images: ``keyframes/bar_NNNN.png``, each bar's ``image_frame`` (the video frame nearest its start), as a PNG."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from bridge.files import atomic_output
from renderer.export.keyframes import IMAGE_DIR, KeyframeSheet


#: What :func:`write` writes: one image per bar (an earlier export's images of bars this one lacks are
#: removed when the new set is swapped in, by :func:`bridge.files.commit_set`).
WRITES = (f"{IMAGE_DIR}/bar_[0-9]*.png",)


def write(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> tuple[Path, ...]:
    """Copy each bar's frame into ``out_dir/keyframes/``."""
    folder = out_dir / IMAGE_DIR
    folder.mkdir(exist_ok=True)
    written = []
    for kf in sheet.bars:
        with atomic_output(out_dir / kf.image) as tmp:
            shutil.copyfile(frame_image(kf.image_frame), tmp)
        written.append(out_dir / kf.image)
    return tuple(written)
