"""TransportClock: the DAW's beat at any host time, from jittery ``/daw/transport`` messages.

Like Ableton Link's timeline, a position is one anchor plus a slope: a
:class:`TransportSnapshot` holds ``(anchor_beat, anchor_seconds, bpm)`` and answers
:meth:`~TransportSnapshot.beat_at` for any host time, past or future, as a pure
function of its fields (wrapping at the loop end while playing, so a renderer can
render ahead). The slope is the tempo the DAW reports; the anchor is fitted over
the recent messages (interquartile mean of ``beat - slope * arrival``), which
averages out network and scheduler jitter. A seek, loop wrap, start/stop or tempo
jump is not smoothed: the clock snaps to it at once and reports a
:class:`Discontinuity`.

Host time is whatever clock the caller passes (the receiver uses ``time.monotonic``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bridge.protocol.messages import LoopMessage, TransportMessage
from bridge.timeline.tempo_map import BarPosition, InMeter, Marker, Meter, marker_at

#: A fitted anchor this far past the loop end is still inside the loop: jitter, not a playhead beyond it.
LOOP_END_TOLERANCE_BEATS = 0.05


def fit_offset(offsets: Sequence[float]) -> float:
    """Interquartile mean of ``offsets`` (plain mean below 4): robust to late outliers, efficient under jitter."""
    n = len(offsets)
    if n == 0:
        raise ValueError("fit_offset needs at least one sample")
    ordered = sorted(offsets)
    if n >= 4:
        ordered = ordered[n // 4: n - n // 4]
    return math.fsum(ordered) / len(ordered)


@dataclass(frozen=True)
class TransportSnapshot(InMeter):
    """The transport as one value: ask it for the beat at any host time; the render loop reads one per frame.

    Thread-safety: immutable. Realtime-safety: every method is O(log markers), no I/O.
    """

    playing: bool = False
    bpm: float = 120.0
    numerator: int = 4
    denominator: int = 4
    anchor_beat: float = 0.0  #: fitted DAW beat at ``anchor_seconds`` (before the latency offset)
    anchor_seconds: float = 0.0  #: host seconds
    bar: int = 1  #: the bar that starts at ``bar_start_beat``
    bar_start_beat: float = 0.0
    loop: LoopMessage | None = None
    markers: tuple[Marker, ...] = ()
    latency_seconds: float = 0.0  #: the DAW's beat shows this much later (positive: visuals later)
    generation: int = 0  #: increases at every discontinuity: a frame from an older generation is stale
    received_seconds: float = -math.inf  #: host arrival of the latest transport message
    session_id: str | None = None

    @property
    def valid(self) -> bool:
        """Whether any transport message has arrived."""
        return self.received_seconds > -math.inf

    def is_stale(self, host_seconds: float, after_seconds: float = 1.0) -> bool:
        """True when no transport message arrived for ``after_seconds`` (a sender that vanished without bye;
        senders send at least 2 Hz even when stopped)."""
        return host_seconds - self.received_seconds > after_seconds

    def beat_at(self, host_seconds: float) -> float:
        """The beat (quarter notes from song start) to show at ``host_seconds``; wraps at the loop end while playing."""
        return self.daw_beat_at(host_seconds - self.latency_seconds)

    def daw_beat_at(self, host_seconds: float) -> float:
        """The DAW's playhead at ``host_seconds``, without the latency offset (what a recording stores)."""
        if not self.playing:
            return self.anchor_beat
        beat = self.anchor_beat + (host_seconds - self.anchor_seconds) * self.bpm / 60.0
        loop = self.loop
        if loop is not None and loop.on and loop.end_beat > loop.start_beat \
                and self.anchor_beat < loop.end_beat + LOOP_END_TOLERANCE_BEATS and beat >= loop.end_beat:
            beat = loop.start_beat + (beat - loop.start_beat) % (loop.end_beat - loop.start_beat)
        return beat

    def host_seconds_at(self, beat: float) -> float:
        """The host time at which ``beat`` shows on the current line (ignores the loop; inf when stopped)."""
        if not self.playing:
            return math.inf if beat != self.anchor_beat else self.anchor_seconds + self.latency_seconds
        return self.anchor_seconds + self.latency_seconds + (beat - self.anchor_beat) * 60.0 / self.bpm

    def position(self, beat: float) -> BarPosition:
        """Bar and quarter notes into it for ``beat``, on the DAW's bar grid in the current meter."""
        return Meter(self.bar_start_beat, self.numerator, self.denominator).position(beat, self.bar)

    def position_at(self, host_seconds: float) -> BarPosition:
        return self.position(self.beat_at(host_seconds))

    def bar_at(self, host_seconds: float) -> int:
        return self.position_at(host_seconds).bar

    def section(self, beat: float) -> Marker | None:
        """The locator in force at ``beat``: the last one at or before it."""
        return marker_at(self.markers, beat)


#: Every kind of :class:`Discontinuity`.
DISCONTINUITY_KINDS: tuple[str, ...] = ("connect", "start", "stop", "seek", "loop", "tempo", "source")


@dataclass(frozen=True)
class Discontinuity:
    """The transport jumped: ``kind`` is one of :data:`DISCONTINUITY_KINDS` (source: another session took over)."""

    kind: str
    host_seconds: float
    beat_before: float
    beat_after: float
    generation: int
    session_id: str | None = None


@dataclass
class _Window:
    """Recent (arrival seconds, beat) pairs since the last discontinuity."""

    seconds: float
    size: int
    samples: deque[tuple[float, float]] = field(default_factory=deque)

    def add(self, arrival_seconds: float, beat: float) -> None:
        self.samples.append((arrival_seconds, beat))
        while len(self.samples) > self.size or arrival_seconds - self.samples[0][0] > self.seconds:
            self.samples.popleft()

    def anchor(self, beats_per_second: float) -> tuple[float, float]:
        """(beat, seconds) on the fitted line at the newest arrival."""
        offsets = [beat - beats_per_second * arrival for arrival, beat in self.samples]
        newest = self.samples[-1][0]
        return fit_offset(offsets) + beats_per_second * newest, newest


class TransportClock:
    """Turns ``/daw/transport`` messages into :class:`TransportSnapshot` values.

    ``now`` is the host clock (injected for tests). Between messages a snapshot
    extrapolates; each message refines the anchor by a fit over ``window_seconds``
    (at most ``window_messages``). A message more than ``snap_seconds`` off the
    line, or ``drift_messages`` in a row more than ``drift_seconds`` off on the same
    side, is a seek or loop wrap; a change of ``playing`` or of tempo snaps too.
    Thread-safety: :meth:`update` from one thread; :meth:`snapshot` from any.
    Realtime-safety: :meth:`snapshot` is one attribute read.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic, latency_seconds: float = 0.0,
                 window_seconds: float = 1.0, window_messages: int = 64, snap_seconds: float = 0.1,
                 drift_seconds: float = 0.015, drift_messages: int = 3, session_id: str | None = None) -> None:
        self._now = now
        self.snap_seconds = snap_seconds
        self.drift_seconds = drift_seconds
        self.drift_messages = drift_messages
        self._window = _Window(window_seconds, window_messages)
        self._drift: list[float] = []
        self._latency = float(latency_seconds)
        self._snapshot = TransportSnapshot(latency_seconds=self._latency, session_id=session_id)

    def now(self) -> float:
        return self._now()

    def snapshot(self) -> TransportSnapshot:
        """The latest published snapshot (never changes after you get it)."""
        return self._snapshot

    def beat_at(self, host_seconds: float | None = None) -> float:
        return self._snapshot.beat_at(self._now() if host_seconds is None else host_seconds)

    @property
    def latency_seconds(self) -> float:
        return self._snapshot.latency_seconds

    @latency_seconds.setter
    def latency_seconds(self, value: float) -> None:
        """Settable from any thread (the next :meth:`update` keeps it)."""
        self._latency = float(value)
        self._snapshot = replace(self._snapshot, latency_seconds=self._latency)

    def set_loop(self, loop: LoopMessage | None) -> None:
        self._snapshot = replace(self._snapshot, loop=loop)

    def set_markers(self, markers: Sequence[Marker]) -> None:
        self._snapshot = replace(self._snapshot, markers=tuple(sorted(markers, key=lambda m: m.beat)))

    def _kind(self, old: TransportSnapshot, message: TransportMessage, arrival: float) -> str | None:
        """Which discontinuity ``message`` is, or None if it lies on the current line."""
        if not old.valid:
            return "connect"
        if message.playing != old.playing:
            return "start" if message.playing else "stop"
        if not message.playing:
            return "seek" if abs(message.beat - old.anchor_beat) > 1e-6 else None
        if abs(message.bpm - old.bpm) > 1e-4 * old.bpm:
            return "tempo"
        expected = old.anchor_beat + (arrival - old.anchor_seconds) * old.bpm / 60.0
        off_seconds = (message.beat - expected) * 60.0 / old.bpm
        jumped = abs(off_seconds) > self.snap_seconds
        if not jumped and abs(off_seconds) > self.drift_seconds:
            self._drift.append(off_seconds)
            jumped = len(self._drift) >= self.drift_messages and len({math.copysign(1, d) for d in self._drift}) == 1
        else:
            self._drift.clear()
        if not jumped:
            return None
        loop = old.loop
        if loop is not None and loop.on and message.beat < expected and abs(message.beat - loop.start_beat) < 1.0:
            return "loop"
        return "seek"

    def update(self, message: TransportMessage, arrival_seconds: float | None = None) -> Discontinuity | None:
        """Take one transport message that arrived at ``arrival_seconds`` (default: now); return the jump if any."""
        arrival = self._now() if arrival_seconds is None else float(arrival_seconds)
        old = self._snapshot
        kind = self._kind(old, message, arrival)
        if kind is not None:
            self._window.samples.clear()
            self._drift.clear()
        rate = message.bpm / 60.0
        if message.playing:
            self._window.add(arrival, message.beat)
            anchor_beat, anchor_seconds = self._window.anchor(rate)
        else:
            anchor_beat, anchor_seconds = message.beat, arrival
        generation = old.generation + (kind is not None)
        self._snapshot = replace(
            old, playing=message.playing, bpm=message.bpm, numerator=message.numerator,
            denominator=message.denominator, anchor_beat=anchor_beat, anchor_seconds=anchor_seconds,
            bar=message.bar, bar_start_beat=message.bar_start_beat, generation=generation,
            received_seconds=arrival, latency_seconds=self._latency)
        if kind is None:
            return None
        before = old.anchor_beat if not old.valid else (
            old.anchor_beat + ((arrival - old.anchor_seconds) * old.bpm / 60.0 if old.playing else 0.0))
        return Discontinuity(kind, arrival, before, message.beat, generation, old.session_id)
