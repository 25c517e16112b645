"""Keyframe images: ``keyframes/bar_NNNN.png``, each bar's ``image_frame`` (the video frame nearest its start), as a PNG."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from bridge.files import atomic_output
from renderer.export.keyframes import IMAGE_DIR, KeyframeSheet


def write(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> tuple[Path, ...]:
    """Copy each bar's frame into ``out_dir/keyframes/``; images of bars an earlier export into the same
    folder had and this one has not are removed."""
    folder = out_dir / IMAGE_DIR
    folder.mkdir(exist_ok=True)
    written = []
    for kf in sheet.bars:
        with atomic_output(out_dir / kf.image) as tmp:
            shutil.copyfile(frame_image(kf.image_frame), tmp)
        written.append(out_dir / kf.image)
    for stale in folder.glob("bar_[0-9][0-9][0-9][0-9].png"):
        if stale not in written:
            stale.unlink(missing_ok=True)
    return tuple(written)
