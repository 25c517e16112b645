"""NDI output: every frame as an NDI video frame, stamped with NDI timecode and the musical position as XML.

NDI carries video over the local network to Resolume, VDMX, TouchDesigner, OBS, vMix or another
machine, on any OS. The sink drives ``ndi-python`` (``pip install 'barlight[ndi]'``), whose wheels
bring the NDI runtime (libndi); the runtime is not open source but comes under the NDI SDK licence
(docs/preview.md, "NDI"). Each frame goes out as RGBX at its own size, with

- frame rate ``fps`` (the preview's refresh rate, an export's frame rate) as NDI's N/D;
- timecode: the song time the frame shows, in NDI's 100 ns units;
- metadata: ``<barlight bar="3" beat="2.5" song_beat="10.5" bpm="120" meter="4/4" section="drop"
  seconds="5.25"/>`` (beats to 4 decimals, seconds to 6), bar and beat counted as the DAW counts them (bar 1 beat 1 is the first
  downbeat; beat 2.5 is halfway through the second beat), ``song_beat`` in quarter notes from
  the song's start; ``section`` is left out outside any.

Sending is asynchronous (NDI compresses on its own thread, so :meth:`NdiSink.send` returns at
once); the frame sent last stays referenced until the next one, as the SDK requires.
"""

from __future__ import annotations

from fractions import Fraction
from types import ModuleType
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from bridge.errors import BarlightError
from renderer.sinks.base import FramePosition, VideoOut, rgbx

#: NDI timecode units per second (100 ns).
TIMECODE_PER_SECOND = 10_000_000


def position_xml(position: FramePosition) -> str:
    """The per-frame metadata a receiver reads to follow the music. Pure."""
    fields = {"bar": position.bar, "beat": _decimal(1.0 + position.beat_in_bar, 4),
              "song_beat": _decimal(position.beat, 4), "bpm": _decimal(position.bpm, 3),
              "meter": f"{position.numerator}/{position.denominator}"}
    if position.section is not None:
        fields["section"] = position.section
    fields["seconds"] = _decimal(position.seconds, 6)
    attributes = " ".join(f'{key}="{escape(str(value), {chr(34): "&quot;"})}"' for key, value in fields.items())
    return f"<barlight {attributes}/>"


def _decimal(value: float, places: int) -> str:
    """``value`` with at most ``places`` decimals, without trailing zeros (``2.5``, ``120``)."""
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


def frame_rate(fps: float | Fraction) -> tuple[int, int]:
    """NDI's frame rate numerator and denominator for ``fps``: a rate within 0.01 of an NTSC one (29.97, a
    screen's 59.94) as that one (30000/1001, 60000/1001). Pure."""
    rate = Fraction(fps)
    ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)
    rate = ntsc if rate.denominator != 1 and abs(rate - ntsc) < Fraction(1, 100) else rate.limit_denominator(1000)
    return rate.numerator, rate.denominator


class NdiSink(VideoOut):
    """Announces an NDI source (receivers list it as ``HOST (TARGET)``) and sends every frame to its receivers.

    Not thread-safe: one thread sends. Realtime-safe enough for a display tick: one RGB -> RGBX copy, then
    NDI's asynchronous send.
    """

    name = "ndi"
    library = ("NDIlib", "ndi-python", "ndi")

    def open(self, ndi: ModuleType) -> None:
        if not ndi.initialize():
            raise BarlightError("NDI output: the NDI runtime does not run on this CPU")
        settings = ndi.SendCreate()
        settings.ndi_name = self.target
        settings.clock_video = False  # the preview paces the frames; NDI must not hold them back
        sender = ndi.send_create(settings)
        if sender is None:
            raise BarlightError(f"NDI output: could not create the source {self.target!r}")
        self._ndi, self._sender = ndi, sender
        self.rate = frame_rate(self.fps)
        self._last: tuple[np.ndarray, Any] | None = None

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        ndi = self._ndi
        video = ndi.VideoFrameV2()
        video.FourCC = ndi.FOURCC_VIDEO_TYPE_RGBX
        pixels = rgbx(frame)
        video.data = pixels
        video.frame_rate_N, video.frame_rate_D = self.rate
        video.timecode = round(position.seconds * TIMECODE_PER_SECOND)
        video.metadata = position_xml(position)
        ndi.send_send_video_async_v2(self._sender, video)
        self._last = (pixels, video)  # NDI reads it until the next send
        self.sent += 1

    def close(self) -> None:
        """Stop announcing the source (pending frames are sent first)."""
        if self._sender is not None:
            self._ndi.send_destroy(self._sender)
            self._sender, self._last = None, None
