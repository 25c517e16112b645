"""Syphon output (macOS): every frame published as a Metal texture to Syphon clients (VDMX, Resolume, MadMapper, OBS).

A thin adapter over ``syphon-python`` (``pip install 'barlight[syphon]'``, macOS 11+): a
``SyphonMetalServer`` named after the output, one RGBA Metal texture of the frame's size (made
again when the size changes), filled from the frame and published. Syphon has no frame rate:
clients take each frame. Tested against a fake of those library calls only
(tests/renderer/sinks/test_syphon_spout.py): untested on a real Mac.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from renderer.sinks.base import FramePosition, VideoOut, rgbx

class SyphonSink(VideoOut):
    """Publishes every frame on a Syphon Metal server. Not thread-safe: one thread sends."""

    name = "syphon"
    library = ("syphon", "syphon-python", "syphon")
    platform = ("darwin", "macOS 11+")

    def open(self, library: ModuleType) -> None:
        from syphon.utils.numpy import copy_image_to_mtl_texture
        from syphon.utils.raw import create_mtl_texture

        self._copy, self._create_texture = copy_image_to_mtl_texture, create_mtl_texture
        self._server = library.SyphonMetalServer(self.target)
        self._texture: Any = None
        self._size: tuple[int, int] | None = None

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        height, width = frame.shape[:2]
        if self._size != (width, height):
            self._texture = self._create_texture(self._server.device, width, height)
            self._size = (width, height)
        self._copy(rgbx(frame), self._texture)
        self._server.publish_frame_texture(self._texture)
        self.sent += 1

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server, self._texture = None, None
