"""When to render what, and which rendered frame to show: pure scheduling, no Qt, no threads.

The preview renders *ahead*. For a frame that will be on screen at refresh tick ``T``
(plus the display's own latency), it asks the transport snapshot which beat will be
audible then (:meth:`bridge.clock.TransportSnapshot.beat_at`, which already includes
the user's latency offset) and starts rendering early enough to be ready by ``T``:

    start now  ──render (measured)──►  ready  ──wait──►  tick T  ──display latency──►  on screen
                                                                              beat_at(on screen)

:func:`plan_target` picks ``T`` and the beat; :class:`LatencyMeter` measures how long
renders take (a high quantile, so frames are rarely late); :class:`FrameBuffer` hands the
window, at each tick, the newest frame that is due and drops late and stale ones
(rendered for an older transport generation, i.e. before a seek, loop wrap or stop).
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.clock import TransportSnapshot

if TYPE_CHECKING:
    from renderer.sinks.base import FramePosition

#: Render latency assumed before any render has been measured, in seconds.
INITIAL_RENDER_SECONDS = 0.05
#: A frame due more than this long ago is late: dropped rather than shown, in seconds.
MAX_LATE_SECONDS = 0.1


@dataclass(frozen=True)
class DisplayClock:
    """The display's refresh grid: one tick at ``tick_seconds`` (host), then every ``period_seconds``;
    a frame shown at a tick reaches the eye ``latency_seconds`` later (compositor, scan-out)."""

    period_seconds: float = 1.0 / 60.0
    tick_seconds: float = 0.0
    latency_seconds: float = 0.0

    def next_tick(self, after_seconds: float) -> float:
        """The first tick at or after ``after_seconds``."""
        periods = math.ceil((after_seconds - self.tick_seconds) / self.period_seconds - 1e-9)
        return self.tick_seconds + periods * self.period_seconds


@dataclass(frozen=True)
class RenderTarget:
    """One frame to render: shown at refresh ``tick_seconds``, on screen at ``host_seconds``,
    for ``beat`` (the beat audible then) of transport ``generation``."""

    tick_seconds: float
    host_seconds: float
    beat: float
    generation: int
    playing: bool
    session_id: str | None = None


def plan_target(snapshot: TransportSnapshot, now_seconds: float, render_seconds: float, display: DisplayClock,
                not_before_seconds: float = -math.inf) -> RenderTarget:
    """The next frame to render at ``now_seconds`` when a render takes ``render_seconds``: the first tick
    it can be ready for, and not before ``not_before_seconds`` (one period after the previous frame's
    tick, so no tick gets two frames), and the beat audible when it is on screen. Pure."""
    tick = display.next_tick(max(now_seconds + max(0.0, render_seconds), not_before_seconds))
    host = tick + display.latency_seconds
    return RenderTarget(tick, host, snapshot.beat_at(host), snapshot.generation, snapshot.playing, snapshot.session_id)


class LatencyMeter:
    """Recent render durations; :meth:`estimate_seconds` is their ``quantile`` times ``1 + headroom``, plus
    ``margin_seconds``.

    A render longer than the estimate misses its tick and goes up a refresh late, so the quantile
    sets how many frames are late. The preview's sync goal is a 99th percentile, so the default
    aims past every recent render: the longest of the last 32, plus a quarter. (When it aimed at the
    90th percentile of the last 16, about one frame in twenty was late on a loaded 2-core machine,
    and the sync error's p99 was a refresh.) Rendering further ahead costs only latency: the beat
    is predicted for the tick exactly.

    Thread-safety: one writer, any reader (a reader may see the previous estimate).
    """

    def __init__(self, size: int = 32, quantile: float = 1.0, headroom: float = 0.25, margin_seconds: float = 0.002,
                 initial_seconds: float = INITIAL_RENDER_SECONDS) -> None:
        self.quantile = quantile
        self.headroom = headroom
        self.margin_seconds = margin_seconds
        self._samples: deque[float] = deque(maxlen=size)
        self._estimate = float(initial_seconds)

    def add(self, seconds: float) -> None:
        self._samples.append(max(0.0, float(seconds)))
        ordered = sorted(self._samples)
        index = min(len(ordered) - 1, int(math.ceil(self.quantile * len(ordered))) - 1)
        self._estimate = ordered[max(0, index)] * (1.0 + self.headroom) + self.margin_seconds

    def estimate_seconds(self) -> float:
        return self._estimate

    @property
    def last_seconds(self) -> float | None:
        return self._samples[-1] if self._samples else None


@dataclass(frozen=True, eq=False)
class PreviewFrame:
    """A rendered frame (HxWx3 uint8 RGB) and what it was rendered for."""

    image: Any
    target: RenderTarget
    label: str  #: ``bar.beat`` of ``target.beat`` on the DAW's grid
    section: str | None
    render_seconds: float  #: how long the render took
    ready_seconds: float  #: host time it was finished
    preset: str = ""
    info: dict[str, float] = field(default_factory=dict)  #: what the HUD shows about it (feature meters…)
    position: FramePosition | None = None  #: the musical position it shows (what the frame sinks are told)


@dataclass
class BufferStats:
    """Frames handed to the buffer and what became of them."""

    put: int = 0
    shown: int = 0
    late: int = 0  #: due but a newer frame was due too, or due too long ago
    stale: int = 0  #: rendered for an older transport generation


class FrameBuffer:
    """Rendered frames waiting for their tick.

    :meth:`take` at tick ``T`` returns the newest frame whose tick is ``<= T + period/2`` (due),
    removes it and every older frame (counted late), drops frames rendered before the transport's
    latest jump (counted stale); a playing frame due more than ``max_late_seconds`` ago is not shown, and returns None when nothing is due (keep showing the last one).
    Thread-safety: :meth:`put` from the render thread, :meth:`take` from the GUI thread.
    Realtime-safety: O(capacity) under a lock held for microseconds.
    """

    def __init__(self, capacity: int = 8, max_late_seconds: float = MAX_LATE_SECONDS) -> None:
        self.capacity = capacity
        self.max_late_seconds = max_late_seconds
        self.stats = BufferStats()
        self._frames: list[PreviewFrame] = []
        self._lock = threading.Lock()

    def put(self, frame: PreviewFrame) -> None:
        with self._lock:
            self.stats.put += 1
            self._frames.append(frame)
            self._frames.sort(key=lambda f: f.target.tick_seconds)
            while len(self._frames) > self.capacity:
                self._frames.pop(0)
                self.stats.late += 1

    def take(self, tick_seconds: float, period_seconds: float,
             transport: TransportSnapshot | None = None) -> PreviewFrame | None:
        """The frame to show at ``tick_seconds``; frames from before ``transport``'s last jump
        (an older generation, or another session) are stale."""
        with self._lock:
            if transport is not None:
                kept = [f for f in self._frames if f.target.session_id == transport.session_id
                        and f.target.generation >= transport.generation]
                self.stats.stale += len(self._frames) - len(kept)
                self._frames = kept
            due = [f for f in self._frames if f.target.tick_seconds <= tick_seconds + 0.5 * period_seconds]
            if not due:
                return None
            newest = due[-1]
            self._frames = self._frames[len(due):]
            late = tick_seconds - max(self.max_late_seconds, period_seconds)
            if newest.target.playing and newest.target.tick_seconds < late:  # a held position is never late
                self.stats.late += len(due)
                return None
            self.stats.late += len(due) - 1
            self.stats.shown += 1
            return newest

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)
