"""``keyframes.json``: the :class:`~renderer.export.keyframes.KeyframeSheet` as it is (``to_dict``), the
source of truth that ``barlight export --keyframes`` reads back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bridge.files import write_atomic
from renderer.export.keyframes import JSON_NAME, KeyframeSheet


def keyframes_json(sheet: KeyframeSheet) -> str:
    return json.dumps(sheet.to_dict(), indent=2, ensure_ascii=False) + "\n"


#: What :func:`write` writes (relative to the export folder).
WRITES = (JSON_NAME,)


def write(sheet: KeyframeSheet, out_dir: Path, frame_image: Callable[[int], Path]) -> tuple[Path, ...]:
    return (write_atomic(out_dir / JSON_NAME, keyframes_json(sheet)),)
