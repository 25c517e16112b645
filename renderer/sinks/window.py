"""The preview window's sink: each frame becomes the picture the window paints at its next refresh.

The window's session hands frames over at its display ticks, on the GUI thread, so converting
to a ``QImage`` here is the only work; painting stays in :mod:`renderer.preview.window`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from renderer.sinks.base import FramePosition, FrameSink


def to_qimage(image: np.ndarray) -> QImage:
    """An HxWx3 uint8 RGB array of any memory layout as a QImage (its own copy: the array may go away).

    The QImage is 0xffRRGGBB words (``Format_RGB32``), the raster backing store's own format: the
    window scales it onto the screen at every paint without converting it first (from RGB888 Qt
    converts on each paint, on worker threads of its own). A renderer in the GUI process hands over
    torch's channels-last view (``permute(1, 2, 0)``), not C-ordered rows: any layout is read here.
    """
    height, width = image.shape[:2]
    words = np.full((height, width), 0xFF000000, np.uint32)
    words |= image[..., 0].astype(np.uint32) << 16
    words |= image[..., 1].astype(np.uint32) << 8
    words |= image[..., 2]
    return QImage(words.data, width, height, 4 * width, QImage.Format.Format_RGB32).copy()


class WindowSink(FrameSink):
    """Sets ``view.image`` (a QImage) to each frame; ``latency_seconds`` is the screen's or projector's own.
    ``shown`` counts the frames and ``position`` is the last one's."""

    name = "window"

    def __init__(self, view: Any, latency_seconds: float = 0.0) -> None:
        super().__init__(latency_seconds)
        self.view = view
        self.shown = 0
        self.position: FramePosition | None = None

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        self.view.image = to_qimage(frame)
        self.position = position
        self.shown += 1
