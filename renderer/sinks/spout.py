"""Spout output (Windows): every frame shared with Spout receivers (Resolume, TouchDesigner, OBS with its plugin).

A thin adapter over ``SpoutGL`` (``pip install 'barlight[spout]'``): a ``SpoutSender`` named after
the output, with an OpenGL context of its own (``createOpenGL``), each frame handed over as RGB
bytes (``sendImage``) and announced (``setFrameSync``). Spout has no frame rate: receivers take
each frame. Tested against a fake of those library calls only (tests/renderer/sinks/test_syphon_spout.py):
untested on a real Windows machine.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from bridge.errors import BarlightError
from renderer.sinks.base import FramePosition, VideoOut

class SpoutSink(VideoOut):
    """Sends every frame as a Spout sender. Not thread-safe: one thread sends (the one that made it: OpenGL)."""

    name = "spout"
    library = ("SpoutGL", "SpoutGL", "spout")
    platform = ("win32", "Windows")

    def open(self, library: ModuleType) -> None:
        self._rgb = library.enums.GL_RGB
        self._sender = library.SpoutSender()
        if not self._sender.createOpenGL():
            raise BarlightError("Spout output: could not create an OpenGL context")
        self._sender.setSenderName(self.target)
        self.failed = 0  #: frames Spout refused (counted, not raised: the show goes on for the other outputs)

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        height, width = frame.shape[:2]
        if not self._sender.sendImage(np.ascontiguousarray(frame), width, height, self._rgb, False, 0):
            self.failed += 1
            return
        self._sender.setFrameSync(self.target)
        self.sent += 1

    def close(self) -> None:
        if self._sender is not None:
            self._sender.releaseSender()
            self._sender.closeOpenGL()
            self._sender = None
