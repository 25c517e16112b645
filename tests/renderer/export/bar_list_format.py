"""A test-only keyframe format: one file and one registry row, as a new real format would be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bridge.files import write_atomic
from renderer.export.keyframes import KeyframeSheet

ROW = "tests.renderer.export.bar_list_format:write"
WRITES = ("bars.txt",)


def write(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> tuple[Path, ...]:
    lines = [f"{kf.bar} {kf.frame} {frame_image(kf.frame).name}\n" for kf in sheet.bars]
    return (write_atomic(out_dir / "bars.txt", "".join(lines)),)
