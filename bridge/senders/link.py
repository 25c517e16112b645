"""``barlight send link``: follow an Ableton Link session (tempo, beat phase, start/stop) and stream protocol v1.

Link shares tempo, a beat timeline aligned to a quantum and, optionally, start/stop;
it has no song position, meter or markers. So the quantum is the bar of ``--meter``,
and each start counts bars from 1 at the bar (a quantum boundary) where play began:
:class:`LinkTransport` turns Link's session beat into that song beat, purely.
aalink (the ``link`` extra) is imported by :func:`open_link` only.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.errors import BarlightError
from bridge.protocol.messages import TransportMessage
from bridge.senders.osc_out import ProtocolSender
from bridge.timeline.phase import cycle_start
from bridge.timeline.tempo_map import TempoMap

INSTALL_HINT = "Ableton Link needs the aalink package: pip install 'barlight[link]'"
HELLO_SECONDS = 2.0


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


class LinkSender:
    """Reads a Link session and sends ``/daw/transport`` at ``rate_hz`` while playing, 4 Hz stopped.

    ``assume_playing``: treat the session as playing even though no peer shares start/stop.
    """

    def __init__(self, link: LinkSession, osc: ProtocolSender, grid: TempoMap, *, rate_hz: float = 60.0,
                 offset_seconds: float = 0.0, assume_playing: bool = False,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.link = link
        self.osc = osc
        self.grid = grid
        meter = grid.meters[0]
        self.transport = LinkTransport(meter.bar_beats)
        self.rate_hz = rate_hz
        self.offset_seconds = offset_seconds
        self.assume_playing = assume_playing
        self.now = now
        self.acked = False
        self.reading: LinkReading | None = None  # the read behind the last step
        self._next_hello = -math.inf
        self._last_key: tuple[bool, int, float] | None = None
        self._next_stopped_send = -math.inf

    def read(self) -> LinkReading:
        link = self.link
        return LinkReading(float(link.beat), float(link.tempo), bool(link.playing) or self.assume_playing,
                           int(link.num_peers))

    def step(self, seconds: float | None = None) -> TransportMessage | None:
        """Read the session; send its transport when due (every step while playing, 4 Hz stopped,
        at once on start, stop or a tempo change) plus hello every 2 s; returns what was sent."""
        now = self.now() if seconds is None else seconds
        if now >= self._next_hello:
            self.osc.hello()
            self._next_hello = now + HELLO_SECONDS
        self.acked = self.acked or bool(self.osc.poll_acks())
        reading = self.reading = self.read()
        playing, beat = self.transport.update(reading)
        key = (playing, self.transport.starts, round(reading.bpm, 3))
        if not playing and key == self._last_key and now < self._next_stopped_send:
            return None
        self._last_key = key
        self._next_stopped_send = now + 0.25
        if playing:
            beat += self.offset_seconds * reading.bpm / 60.0
        position = self.grid.position_at(beat)
        message = TransportMessage(playing, beat, reading.bpm, position.numerator, position.denominator,
                                   self.grid.bar_start_beat(position.bar), position.bar)
        self.osc.send(message)
        return message

    async def run(self, seconds: float | None = None,
                  on_send: Callable[[LinkSender, TransportMessage, LinkReading], None] | None = None) -> None:
        """Step at ``rate_hz`` until ``seconds`` have passed; ends with ``/daw/bye``."""
        started = self.now()
        try:
            while seconds is None or self.now() - started < seconds:
                message = self.step()
                if message is not None and on_send is not None:
                    on_send(self, message, self.reading)
                await asyncio.sleep(1.0 / self.rate_hz)
        finally:
            self.osc.bye()
