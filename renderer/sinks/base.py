"""The frame sink interface: where rendered frames go, each with the musical position it shows.

A :class:`FrameSink` is handed every frame in order, from one thread at a time, with the
:class:`FramePosition` it shows (song time, beat, bar, tempo, meter, section). Each sink has
its own display latency: how long after :meth:`FrameSink.send` its picture is seen (a
compositor, a projector, a network hop). :class:`Outputs` feeds several sinks as one and,
live, holds a frame back from a sink by how much faster its display is than the slowest
one's, so every display shows the frame at the same instant.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import sys
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from bridge.errors import BarlightError

if TYPE_CHECKING:
    from types import ModuleType

    from renderer.moment import Moment


#: The name a video output announces (receivers list it) unless given one.
DEFAULT_OUTPUT_NAME = "Barlight"


@dataclass(frozen=True)
class FramePosition:
    """The musical position a frame shows. ``seconds`` is song time (beat 0 at 0 s), ``beat`` quarter
    notes from the song start, ``beat_in_bar`` counted beats into ``bar`` (0-based: 2.5 is halfway
    through beat 3), ``section`` the marker in force; ``frame`` numbers an export's frames (None live)."""

    seconds: float
    beat: float
    bar: int
    beat_in_bar: float
    bpm: float
    numerator: int
    denominator: int
    section: str | None = None
    frame: int | None = None

    @classmethod
    def of(cls, moment: Moment, frame: int | None = None) -> FramePosition:
        """Where ``moment`` (what the frame was rendered for) is in the song."""
        return cls(moment.seconds, moment.beat, moment.bar, moment.beat_in_bar, moment.bpm, moment.numerator,
                   moment.denominator, moment.section, frame)


class FrameSink(ABC):
    """Base class of a frame's destination. ``latency_seconds``: from :meth:`send` to the picture being seen.

    Thread-safety: one thread at a time calls a sink (the preview's GUI thread, the export's writer
    thread). Realtime-safety: a live sink's :meth:`send` must return within a display tick; one
    that does slow I/O hands the frame to a thread of its own.
    """

    name: ClassVar[str] = ""

    def __init__(self, latency_seconds: float = 0.0) -> None:
        if not math.isfinite(latency_seconds):
            raise ValueError(f"latency_seconds must be finite, got {latency_seconds!r}")
        self.latency_seconds = float(latency_seconds)

    @abstractmethod
    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        """Take the next frame: HxWx3 uint8 RGB (never changed afterwards, so it may be kept), showing ``position``."""

    def close(self) -> None:
        """The stream ended: finish it (a file appears now). Default: nothing to do."""

    def abort(self) -> None:
        """The stream failed: drop what is unfinished (a partial file). Default: :meth:`close`."""
        self.close()

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class VideoOut(FrameSink):
    """A video output to VJ software, what ``--video-out NAME[:TARGET]`` opens: announced as ``target`` (default
    "Barlight"), sent ``fps`` frames per second (the frame rate it announces, where it has one).

    A subclass names its :attr:`library` and the :attr:`platform` it runs on, and announces itself in
    :meth:`open`, which gets the library's module; elsewhere, or without the library, it is a one-line error.
    """

    #: (module, PyPI package, Barlight extra) of the library the output drives.
    library: ClassVar[tuple[str, str, str]]
    #: (``sys.platform``, its name) the output runs on; None: any.
    platform: ClassVar[tuple[str, str] | None] = None

    def __init__(self, target: str | None = None, fps: float | Fraction = 60, latency_seconds: float = 0.0) -> None:
        super().__init__(latency_seconds)
        label = self.name.capitalize() if self.name != "ndi" else "NDI"
        if self.platform is not None and sys.platform != self.platform[0]:
            raise BarlightError(f"{label} output runs on {self.platform[1]} only (ndi runs anywhere)")
        module, package, extra = self.library
        self.target = target or DEFAULT_OUTPUT_NAME
        self.fps = fps
        self.sent = 0  #: frames handed over
        self.open(load_library(module, f"{label} output needs the {package} package: pip install 'barlight[{extra}]'"))

    @abstractmethod
    def open(self, library: ModuleType) -> None:
        """Announce the output as :attr:`target` with ``library`` (a one-line BarlightError when it cannot)."""


def load_library(module: str, hint: str) -> ModuleType:
    """The optional library ``module`` a sink drives, imported now; a one-line BarlightError ``hint`` (what to
    install) without it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BarlightError(hint) from None


def rgbx(frame: np.ndarray) -> np.ndarray:
    """An HxWx3 RGB frame as a new HxWx4 array with an opaque fourth byte (what texture and network formats take)."""
    height, width = frame.shape[:2]
    out = np.empty((height, width, 4), np.uint8)
    out[..., :3] = frame
    out[..., 3] = 255
    return out


class Outputs:
    """Several sinks fed as one: every frame goes to every sink, in order.

    Offline (:meth:`send`) each sink gets the frame at once. Live (:meth:`schedule`, then
    :meth:`flush` at every display tick) a sink gets it :attr:`latency_seconds` minus its own
    latency after it is due, so all of them show it together. Owner thread only.
    """

    def __init__(self, sinks: Iterable[FrameSink] = ()) -> None:
        self.sinks: list[FrameSink] = []
        self._held: list[deque[tuple[float, np.ndarray, FramePosition]]] = []
        for sink in sinks:
            self.add(sink)

    def add(self, sink: FrameSink) -> FrameSink:
        self.sinks.append(sink)
        self._held.append(deque())
        return sink

    @property
    def latency_seconds(self) -> float:
        """The slowest sink's display latency (0 without sinks): what a live frame is rendered ahead for."""
        return max((sink.latency_seconds for sink in self.sinks), default=0.0)

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        """Hand ``frame`` to every sink now."""
        for sink in self.sinks:
            sink.send(frame, position)

    def schedule(self, frame: np.ndarray, position: FramePosition, now_seconds: float) -> None:
        """``frame`` is due at ``now_seconds`` (host): each sink gets it when its display would show it in step."""
        latency = self.latency_seconds
        for sink, held in zip(self.sinks, self._held):
            held.append((now_seconds + latency - sink.latency_seconds, frame, position))

    def flush(self, now_seconds: float, tolerance_seconds: float = 0.0) -> None:
        """Hand over every scheduled frame due by ``now_seconds + tolerance_seconds`` (half a display tick)."""
        for sink, held in zip(self.sinks, self._held):
            while held and held[0][0] <= now_seconds + tolerance_seconds:
                _, frame, position = held.popleft()
                sink.send(frame, position)

    def close(self) -> None:
        """End every sink's stream; each one is closed even if another fails (the first error is raised)."""
        self._end(lambda sink: sink.close)

    def abort(self) -> None:
        """Drop every sink's unfinished stream, each one even if another fails."""
        self._end(lambda sink: sink.abort)

    def _end(self, how: Callable[[FrameSink], Callable[[], None]]) -> None:
        for held in self._held:
            held.clear()
        with contextlib.ExitStack() as stack:
            for sink in reversed(self.sinks):  # the stack unwinds last in, first out: in order of the sinks
                stack.callback(how(sink))
