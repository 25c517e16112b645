"""Syphon output (macOS): every frame published as a Metal texture to Syphon clients (VDMX, Resolume, MadMapper, OBS).

A thin adapter over ``syphon-python`` (``pip install 'barlight[syphon]'``, macOS 11+): a
``SyphonMetalServer`` named ``target`` (default "Barlight"), one RGBA Metal texture of the frame's
size (made again when the size changes), filled from the frame and published. Tested against a
fake of those library calls only (tests/sinks/test_syphon_spout.py): untested on a real Mac.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from typing import Any

import numpy as np

from bridge.errors import BarlightError
from renderer.sinks.base import FramePosition, FrameSink, load_library, rgbx

#: The server name clients list without ``syphon:NAME``.
DEFAULT_NAME = "Barlight"
INSTALL_HINT = "Syphon output needs the syphon-python package (macOS 11+): pip install 'barlight[syphon]'"


class SyphonSink(FrameSink):
    """Publishes every frame on a Syphon Metal server. Not thread-safe: one thread sends.

    ``fps`` is accepted like every video output's; Syphon has no frame rate (clients take each frame)."""

    name = "syphon"
    video_out = True

    def __init__(self, target: str | None = None, fps: float | Fraction = 60, latency_seconds: float = 0.0) -> None:
        super().__init__(latency_seconds)
        if sys.platform != "darwin":
            raise BarlightError("Syphon output runs on macOS only (on Windows use spout, anywhere ndi)")
        syphon = load_library("syphon", INSTALL_HINT)
        self._copy = load_library("syphon.utils.numpy", INSTALL_HINT).copy_image_to_mtl_texture
        self._create_texture = load_library("syphon.utils.raw", INSTALL_HINT).create_mtl_texture
        self.server_name = target or DEFAULT_NAME
        self._server = syphon.SyphonMetalServer(self.server_name)
        self._texture: Any = None
        self._size: tuple[int, int] | None = None
        self.sent = 0

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
