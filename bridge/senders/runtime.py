"""One loop for every Python sender: the session, the send rates, hello, acks and bye.

A sender is a :class:`PositionSource`: it says where the transport is at a host time
(:meth:`~PositionSource.read`), what was heard since the last step (:meth:`~PositionSource.heard`:
audio levels, plus any per-step payload) and what the song says (:meth:`~PositionSource.song`:
markers, loop). :class:`SenderRuntime` does the rest, the same way for every sender:
``/daw/hello`` with the song on open and every :data:`HELLO_SECONDS`; ``/daw/transport`` at
the playing or stopped rate, and at once on a start, stop or jump; the levels once, with the
next transport; ``/renderer/ack`` bookkeeping; ``/daw/bye`` on close. Time is an input
(``now=``, ``step(seconds)``), so tests drive a sender without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, replace
from typing import ClassVar

from bridge.protocol.messages import AudioMessage, Message, TransportMessage
from bridge.senders.osc_out import ProtocolSender
from bridge.timeline.tempo_map import TempoMap

HELLO_SECONDS = 2.0


@dataclass(frozen=True)
class Rates:
    """How often the runtime reads its source (``step_hz``) and sends the transport, in Hz.

    A transport rate at or above ``step_hz`` sends at every step.
    """

    step_hz: float = 60.0
    playing_hz: float = 60.0
    stopped_hz: float = 4.0

    def __post_init__(self) -> None:
        for name in ("step_hz", "playing_hz", "stopped_hz"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 Hz, got {getattr(self, name)}")


@dataclass(frozen=True)
class Reading:
    """Where the transport is: ``transport`` (None for a source with audio only) and a ``jump`` key.

    ``jump`` changes on every start, seek or tempo jump the source knows of (a stop changes
    ``transport.playing``): the runtime sends at once when either changes.
    """

    transport: TransportMessage | None = None
    jump: Hashable = None


@dataclass(frozen=True)
class Heard:
    """What a source heard since the last step: new ``levels`` (None: nothing new) and ``payload``.

    ``payload`` messages go out at every step, right after the transport and levels, whatever the
    transport rate: the audio itself as ``/daw/pcm`` blocks (:mod:`bridge.senders.pcm_out`), up to the
    playhead the transport reports, so both carry the same delay to the receiver.
    """

    levels: AudioMessage | None = None
    payload: tuple[Message, ...] = ()


NOTHING_HEARD = Heard()


class PositionSource:
    """What a sender gives :class:`SenderRuntime`; subclasses override :meth:`read` and what else they have.

    ``drives_transport``: the sender *is* the transport (a file played), so the transport is
    sent stopped before the first playing one and again on close.
    Thread-safety: called from the runtime's thread only. Realtime-safety: :meth:`read` should be
    quick; :meth:`heard` (audio analysis) runs before the step sends anything, so the transport, the
    audio up to it and the levels leave together, a few milliseconds after :meth:`read`.
    """

    drives_transport: ClassVar[bool] = False

    def read(self, seconds: float) -> Reading | None:
        """The transport at host time ``seconds``; None when the song is over (the runtime stops)."""
        raise NotImplementedError

    def heard(self) -> Heard:
        """Audio since the last call."""
        return NOTHING_HEARD

    def song(self) -> tuple[Message, ...]:
        """What goes out with every hello: ``/daw/markers``, ``/daw/loop``."""
        return ()


def transport_on(grid: TempoMap, playing: bool, beat: float, bpm: float) -> TransportMessage:
    """``/daw/transport`` for ``beat`` at ``bpm``, with meter and bar from ``grid``. Pure."""
    position = grid.position_at(beat)
    return TransportMessage(playing, beat, bpm, position.numerator, position.denominator,
                            grid.bar_start_beat(position.bar), position.bar)


class SenderRuntime:
    """Runs ``source`` as protocol v1 through ``osc`` at ``rates`` (see module doc).

    ``acked`` turns True once a renderer answered (``/renderer/ack`` for this session); ``last``
    is the last transport sent. Thread-safety: one thread. Realtime-safety: a step is one
    source read plus a few non-blocking sends.
    """

    def __init__(self, osc: ProtocolSender, source: PositionSource, rates: Rates | None = None, *,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.osc = osc
        self.source = source
        self.rates = rates or Rates()
        self.now = now
        self.acked = False
        self.ended = False
        self.steps = 0
        self.last: TransportMessage | None = None
        self._opened = self._closed = False
        self._next_hello = -float("inf")
        self._next_send = -float("inf")
        self._jump: object = _NEVER
        self._levels: AudioMessage | None = None

    def open(self, seconds: float | None = None) -> None:
        """Say hello with the song now (the first :meth:`step` does it otherwise)."""
        self._opened = True
        self._hello(self.now() if seconds is None else seconds)

    def _hello(self, now: float) -> None:
        self.osc.hello()
        for message in self.source.song():
            self.osc.send(message)
        self._next_hello = now + HELLO_SECONDS

    def step(self, seconds: float | None = None) -> TransportMessage | None:
        """Read the source at ``seconds`` (default: now) and send what is due; returns the transport sent."""
        now = self.now() if seconds is None else seconds
        if not self._opened:
            self.open(now)
        elif now >= self._next_hello:
            self._hello(now)
        self.acked = bool(self.osc.poll_acks()) or self.acked
        reading = self.source.read(now)
        if reading is None:
            self.ended = True
            return None
        heard = self.source.heard()  # before anything goes out: the transport and the audio up to it leave together
        sent = self._send_transport(now, reading)
        if heard.levels is not None:
            self._levels = heard.levels
        if self._levels is not None and (sent is not None or reading.transport is None):
            self.osc.send(self._levels)
            self._levels = None
        for message in heard.payload:
            self.osc.send(message)
        self.steps += 1
        return sent

    def _send_transport(self, now: float, reading: Reading) -> TransportMessage | None:
        message = reading.transport
        if message is None:
            return None
        jump = (message.playing, reading.jump)
        steady = jump == self._jump
        if steady and now < self._next_send - 0.5 / self.rates.step_hz:  # half a step: due on the nearest step
            return None
        if self.source.drives_transport and self.last is None:
            self.osc.send(replace(message, playing=False))  # standing at its start before it plays
        self.osc.send(message)
        period = 1.0 / (self.rates.playing_hz if message.playing else self.rates.stopped_hz)
        # on a grid of sends, so the rate holds; restarted at a jump or after falling a period behind
        base = self._next_send if steady and now - self._next_send < period else now
        self._next_send = base + period
        self._jump = jump
        self.last = message
        return message

    def close(self) -> None:
        """End the session: a stopped transport if the source drives it, then ``/daw/bye``. Once."""
        if self._closed:
            return
        self._closed = True
        if self.source.drives_transport and self.last is not None:
            self.osc.send(replace(self.last, playing=False))
        self.osc.bye()

    def _paced(self, seconds: float | None,
               on_send: Callable[[SenderRuntime, TransportMessage], None] | None) -> Iterator[float]:
        """Step on a grid of ``step_hz`` until ``seconds`` have passed or the source ends; yields each wait.

        After a stall the grid skips the steps it missed instead of rushing through them.
        """
        started = self.now()
        period = 1.0 / self.rates.step_hz
        tick = 0
        while seconds is None or self.now() - started < seconds:
            sent = self.step()
            if self.ended:
                return
            if sent is not None and on_send is not None:
                on_send(self, sent)
            tick = max(tick + 1, int((self.now() - started) / period) + 1)
            yield max(0.0, started + tick * period - self.now())

    def run(self, seconds: float | None = None, sleep: Callable[[float], None] = time.sleep,
            on_send: Callable[[SenderRuntime, TransportMessage], None] | None = None) -> None:
        """Step in real time until ``seconds`` have passed, the song ends or Ctrl-C; always ends with :meth:`close`."""
        try:
            for wait in self._paced(seconds, on_send):
                if wait > 0:
                    sleep(wait)
        finally:
            self.close()

    async def run_async(self, seconds: float | None = None,
                        on_send: Callable[[SenderRuntime, TransportMessage], None] | None = None) -> None:
        """:meth:`run` inside an asyncio loop (Ableton Link's ``aalink`` needs one)."""
        try:
            for wait in self._paced(seconds, on_send):
                await asyncio.sleep(wait)
        finally:
            self.close()


_NEVER = object()
