"""``barlight send link``: follow an Ableton Link session (tempo, beat phase, start/stop) and stream protocol v1.

Link shares tempo, a beat timeline aligned to a quantum and, optionally, start/stop;
it has no song position, meter or markers. So the quantum is the bar of ``--meter``,
and each start counts bars from 1 at the bar (a quantum boundary) where play began:
:class:`LinkTransport` turns Link's session beat into that song beat, and :class:`LinkSource`
is the position source for :class:`~bridge.senders.runtime.SenderRuntime`, which runs it inside
asyncio (``run_async``). aalink (the ``link`` extra) is imported by :func:`open_link` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bridge.errors import BarlightError
from bridge.senders.runtime import PositionSource, Reading, transport_on
from bridge.timeline.phase import cycle_start
from bridge.timeline.tempo_map import TempoMap

INSTALL_HINT = "Ableton Link needs the aalink package: pip install 'barlight[link]'"


class LinkSession(Protocol):
    """What the sender reads from a Link session (``aalink.Link`` has these)."""

    beat: float
    tempo: float
    playing: bool
    num_peers: int
    quantum: float


@dataclass(frozen=True)
class LinkReading:
    """One read of the session: Link's timeline ``link_beat`` at tempo ``bpm``."""

    link_beat: float
    bpm: float
    playing: bool
    peers: int


class LinkTransport:
    """Link session beats -> song beats: bar 1 starts on the quantum boundary where play began.

    Without start/stop (peers that don't share it) the session always "plays" and bars
    count from Link beat 0. Thread-safety: none. Realtime-safety: O(1).
    """

    def __init__(self, quantum_beats: float) -> None:
        if quantum_beats <= 0:
            raise ValueError(f"quantum must be > 0 beats, got {quantum_beats}")
        self.quantum_beats = quantum_beats
        self.origin_beat = 0.0  # Link beat of song beat 0
        self.starts = 0
        self._playing = False
        self._stopped_beat = 0.0

    def update(self, reading: LinkReading) -> tuple[bool, float]:
        """(playing, song beat) for this reading; a start re-anchors the song at its bar."""
        if reading.playing and not self._playing:
            # a start read a rounding error before its bar line belongs to that bar
            self.origin_beat = cycle_start(reading.link_beat + 1e-9 * self.quantum_beats, self.quantum_beats)
            self.starts += 1
        self._playing = reading.playing
        if reading.playing:
            self._stopped_beat = reading.link_beat - self.origin_beat
            return True, self._stopped_beat
        return False, self._stopped_beat


def open_link(bpm: float = 120.0, quantum_beats: float = 4.0) -> Any:
    """A joined ``aalink.Link`` session with start/stop sync; call inside a running asyncio loop."""
    try:
        import aalink
    except ImportError:
        raise BarlightError(INSTALL_HINT) from None
    link = aalink.Link(bpm)
    link.quantum = quantum_beats
    link.start_stop_sync_enabled = True
    link.enabled = True
    return link


class LinkSource(PositionSource):
    """The song transport of a Link session, on ``grid``'s meter (bars from :class:`LinkTransport`).

    ``assume_playing``: treat the session as playing even though no peer shares start/stop.
    ``offset_seconds`` moves the sent playhead ahead (positive) or back. A start or a tempo
    change goes out at once. ``reading`` is the session read behind the last :meth:`read`.
    """

    def __init__(self, link: LinkSession, grid: TempoMap, *, offset_seconds: float = 0.0,
                 assume_playing: bool = False) -> None:
        self.link = link
        self.grid = grid
        self.transport = LinkTransport(grid.meters[0].bar_beats)
        self.offset_seconds = offset_seconds
        self.assume_playing = assume_playing
        self.reading: LinkReading | None = None

    def read_session(self) -> LinkReading:
        link = self.link
        return LinkReading(float(link.beat), float(link.tempo), bool(link.playing) or self.assume_playing,
                           int(link.num_peers))

    def read(self, seconds: float) -> Reading:
        reading = self.reading = self.read_session()
        playing, beat = self.transport.update(reading)
        if playing:
            beat += self.offset_seconds * reading.bpm / 60.0
        return Reading(transport_on(self.grid, playing, beat, reading.bpm),
                       jump=(self.transport.starts, round(reading.bpm, 3)))
