"""``barlight send midi``: read a DAW's MIDI sync from a port and stream protocol v1.

:class:`MidiSource` is the position source for :class:`~bridge.senders.runtime.SenderRuntime`:
it timestamps each message as it arrives (mido's callback thread only enqueues it with
``now()``), feeds :class:`~bridge.senders.midi_sync.MidiSync` on the runtime's thread and
reads the transport from it; its jump key is MidiSync's count of starts, locates and cycle
jumps, so each goes out at once. ``/daw/markers`` from the tempo map go with every hello;
``/daw/audio`` comes from an optional :class:`~bridge.senders.audio_in.AudioInput`. The
runtime steps at :data:`STEP_HZ` so a queued message is applied within milliseconds.
mido is imported by :func:`open_input` only.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from bridge.errors import BarlightError, InputError
from bridge.protocol.messages import MarkersMessage, Message, TransportMessage
from bridge.senders.audio_in import AudioInput, heard_from
from bridge.senders.clock_fit import MAX_BPM, MIN_BPM
from bridge.senders.midi_sync import MidiSync, SyncState
from bridge.senders.ports import match_name
from bridge.senders.runtime import Heard, PositionSource, Rates, Reading, transport_on

#: How often the runtime applies queued MIDI messages: a start, stop or locate goes out within 2 ms.
STEP_HZ = 500.0


def midi_rates(rate_hz: float = 60.0, stopped_rate_hz: float = 4.0) -> Rates:
    """The transport at ``rate_hz`` while playing, ``stopped_rate_hz`` stopped, read every 2 ms."""
    return Rates(step_hz=STEP_HZ, playing_hz=rate_hz, stopped_hz=stopped_rate_hz)


def _mido() -> Any:
    import mido

    return mido


def input_names() -> list[str]:
    """Names of the MIDI inputs the system offers; BarlightError when there is no MIDI system."""
    try:
        return list(dict.fromkeys(_mido().get_input_names()))
    except Exception as err:  # rtmidi raises its own SystemError types; any failure means no MIDI system
        raise BarlightError(f"no MIDI system available ({str(err).strip().splitlines()[-1]})") from None


def match_port(text: str, names: list[str]) -> str:
    """The MIDI input named ``text`` (see :func:`~bridge.senders.ports.match_name`)."""
    listed = ", ".join(repr(n) for n in names) or "none (is the IAC bus online / the port enabled?)"
    return names[match_name(text, names, "--port", "MIDI input", listed)]


def open_input(port: str | None, virtual: str | None, callback: Callable[[Any], None]) -> Any:
    """Open ``port`` (a name or part of one) or create the virtual input ``virtual``; messages go to ``callback``."""
    mido = _mido()
    try:
        if virtual:
            return mido.open_input(virtual, virtual=True, callback=callback)
        name = match_port(port, input_names()) if port else None
        if name is None:
            names = input_names()
            if not names:
                raise InputError("--port", "no MIDI inputs; create one with --virtual NAME or enable the IAC bus")
            name = names[0]
        return mido.open_input(name, callback=callback)
    except BarlightError:
        raise
    except Exception as err:  # rtmidi/ALSA/CoreMIDI failures
        raise BarlightError(f"cannot open MIDI input ({str(err).strip().splitlines()[-1]})") from None


class MidiSource(PositionSource):
    """The transport decoded from MIDI sync (see module doc).

    ``offset_seconds`` moves the sent playhead ahead (positive) or back, on top of the DAW's
    per-destination Delay. ``now`` stamps arrivals; it must be the runtime's clock (both default
    to ``time.monotonic``). Thread-safety: :meth:`receive` from any thread; everything else from
    the runtime's. Realtime-safety: :meth:`receive` is a timestamp and a queue put.
    """

    def __init__(self, sync: MidiSync, *, offset_seconds: float = 0.0, audio: AudioInput | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.sync = sync
        self.offset_seconds = offset_seconds
        self.audio = audio
        self.now = now
        self._inbox: queue.SimpleQueue[tuple[float, Any]] = queue.SimpleQueue()

    def receive(self, message: Any, seconds: float | None = None) -> None:
        """Queue one mido message, stamped now (or at ``seconds``)."""
        self._inbox.put((self.now() if seconds is None else seconds, message))

    def transport_at(self, seconds: float) -> TransportMessage:
        """The ``/daw/transport`` values at ``seconds`` (after the offset)."""
        return self._transport(self.sync.state_at(seconds))

    def _transport(self, state: SyncState) -> TransportMessage:
        beat = state.beat + (self.offset_seconds * state.bpm / 60.0 if state.playing else 0.0)
        bpm = min(max(state.bpm, MIN_BPM), MAX_BPM)  # never put an invalid tempo on the wire
        return transport_on(self.sync.grid, state.playing, beat, bpm)

    def song(self) -> tuple[Message, ...]:
        return (MarkersMessage(self.sync.grid.markers),)

    def read(self, seconds: float) -> Reading:
        """Apply the queued messages, then the transport at ``seconds``."""
        while True:
            try:
                stamp, message = self._inbox.get_nowait()
            except queue.Empty:
                break
            self.sync.feed(message, stamp)
        state = self.sync.state_at(seconds)
        return Reading(self._transport(state), jump=state.seeks)

    def heard(self) -> Heard:
        return heard_from(self.audio)
