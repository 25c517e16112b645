"""Spout output (Windows): every frame shared with Spout receivers (Resolume, TouchDesigner, OBS with its plugin).

A thin adapter over ``SpoutGL`` (``pip install 'barlight[spout]'``): a ``SpoutSender`` named
``target`` (default "Barlight") with an OpenGL context of its own (``createOpenGL``), each frame
handed over as RGB bytes (``sendImage``) and announced (``setFrameSync``). Tested against a fake of
those library calls only (tests/sinks/test_syphon_spout.py): untested on a real Windows machine.
"""

from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np

from bridge.errors import BarlightError
from renderer.sinks.base import FramePosition, FrameSink, load_library

#: The sender name receivers list without ``spout:NAME``.
DEFAULT_NAME = "Barlight"
INSTALL_HINT = "Spout output needs the SpoutGL package (Windows): pip install 'barlight[spout]'"


class SpoutSink(FrameSink):
    """Sends every frame as a Spout sender. Not thread-safe: one thread sends (the one that made it: OpenGL).

    ``fps`` is accepted like every video output's; Spout has no frame rate (receivers take each frame)."""

    name = "spout"
    video_out = True

    def __init__(self, target: str | None = None, fps: float | Fraction = 60, latency_seconds: float = 0.0) -> None:
        super().__init__(latency_seconds)
        if sys.platform != "win32":
            raise BarlightError("Spout output runs on Windows only (on macOS use syphon, anywhere ndi)")
        spout = load_library("SpoutGL", INSTALL_HINT)
        self._rgb = spout.enums.GL_RGB
        self.sender_name = target or DEFAULT_NAME
        self._sender = spout.SpoutSender()
        if not self._sender.createOpenGL():
            raise BarlightError("Spout output: could not create an OpenGL context")
        self._sender.setSenderName(self.sender_name)
        self.sent = 0
        self.failed = 0  #: frames Spout refused (counted, not raised: the show goes on for the other outputs)

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        height, width = frame.shape[:2]
        if not self._sender.sendImage(np.ascontiguousarray(frame), width, height, self._rgb, False, 0):
            self.failed += 1
            return
        self._sender.setFrameSync(self.sender_name)
        self.sent += 1

    def close(self) -> None:
        if self._sender is not None:
            self._sender.releaseSender()
            self._sender.closeOpenGL()
            self._sender = None
