"""``barlight send midi``: read a DAW's MIDI sync from a port and stream protocol v1.

:class:`MidiSender` timestamps each message as it arrives (mido's callback thread only
enqueues it with ``now()``), feeds :class:`~bridge.senders.midi_sync.MidiSync` on the
sending thread and sends ``/daw/transport`` at ``rate_hz`` while playing, a few times a
second when stopped, and at once on start, stop and every seek; ``/daw/hello`` (with
``/daw/markers`` from the tempo map) every 2 s; ``/daw/audio`` from an optional
:class:`~bridge.senders.audio_in.AudioInput`. mido is imported by :func:`open_input` only.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

from bridge.errors import BarlightError, InputError
from bridge.protocol.messages import TransportMessage
from bridge.senders.audio_in import AudioInput, audio_args
from bridge.senders.clock_fit import MAX_BPM, MIN_BPM
from bridge.senders.midi_sync import MidiSync, SyncState
from bridge.senders.osc_out import ProtocolSender

HELLO_SECONDS = 2.0


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
    """The input named ``text`` exactly, or the only one whose name contains it (case-insensitive)."""
    if text in names:
        return text
    matches = [n for n in names if text.lower() in n.lower()]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(repr(n) for n in names) or "none (is the IAC bus online / the port enabled?)"
    problem = "matches several MIDI inputs" if matches else "no such MIDI input"
    raise InputError("--port", f"{text!r}: {problem}; inputs: {listed}")


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


class MidiSender:
    """Streams the transport decoded from MIDI sync (see module doc).

    ``offset_seconds`` moves the sent playhead ahead (positive) or back, on top of the DAW's
    per-destination Delay. Thread-safety: :meth:`receive` from any thread; everything else
    from one. Realtime-safety: :meth:`receive` is a timestamp and a queue put.
    """

    def __init__(self, sync: MidiSync, osc: ProtocolSender, *, rate_hz: float = 60.0,
                 stopped_rate_hz: float = 4.0, offset_seconds: float = 0.0, audio: AudioInput | None = None,
                 now: Callable[[], float] = time.perf_counter) -> None:
        self.sync = sync
        self.osc = osc
        self.rate_hz = rate_hz
        self.stopped_rate_hz = stopped_rate_hz
        self.offset_seconds = offset_seconds
        self.audio = audio
        self.now = now
        self.acked = False
        self.last: TransportMessage | None = None
        self._inbox: queue.SimpleQueue[tuple[float, Any]] = queue.SimpleQueue()
        self._next_send = -float("inf")
        self._next_hello = -float("inf")
        self._sent_seeks = -1
        self._sent_playing: bool | None = None
        self._audio_frame: Any = None

    def receive(self, message: Any, seconds: float | None = None) -> None:
        """Queue one mido message, stamped now (or at ``seconds``)."""
        self._inbox.put((self.now() if seconds is None else seconds, message))

    def transport_at(self, seconds: float) -> TransportMessage:
        """The ``/daw/transport`` values at ``seconds`` (after the offset)."""
        return self._transport(self.sync.state_at(seconds))

    def _transport(self, state: SyncState) -> TransportMessage:
        beat = state.beat + (self.offset_seconds * state.bpm / 60.0 if state.playing else 0.0)
        position = self.sync.position(beat)
        bar_start = self.sync.grid.bar_start_beat(position.bar)
        bpm = min(max(state.bpm, MIN_BPM), MAX_BPM)  # never put an invalid tempo on the wire
        return TransportMessage(state.playing, beat, bpm, position.numerator, position.denominator,
                                bar_start, position.bar)

    def hello(self) -> None:
        self.osc.hello()
        self.osc.markers(self.sync.grid.markers)

    def step(self, seconds: float | None = None) -> TransportMessage | None:
        """Apply queued messages, then send what is due at ``seconds``; returns the transport sent, if any."""
        now = self.now() if seconds is None else seconds
        while True:
            try:
                stamp, message = self._inbox.get_nowait()
            except queue.Empty:
                break
            self.sync.feed(message, stamp)
        if self.audio is not None:
            frames = self.audio.frames()
            if frames:
                self._audio_frame = frames[-1]
        if now >= self._next_hello:
            self.hello()
            self._next_hello = now + HELLO_SECONDS
        self.acked = self.acked or bool(self.osc.poll_acks())
        state = self.sync.state_at(now)
        changed = state.seeks != self._sent_seeks or state.playing != self._sent_playing
        if not changed and now < self._next_send:
            return None
        message = self._transport(state)
        self.osc.send(message)
        if self._audio_frame is not None:
            self.osc.audio(*audio_args(self._audio_frame))
        self._sent_seeks, self._sent_playing = state.seeks, state.playing
        self._next_send = now + 1.0 / (self.rate_hz if state.playing else self.stopped_rate_hz)
        self.last = message
        return message

    def run(self, seconds: float | None = None, sleep: Callable[[float], None] = time.sleep,
            on_send: Callable[[MidiSender, TransportMessage], None] | None = None) -> None:
        """Step until ``seconds`` have passed (forever when None); always ends with ``/daw/bye``."""
        started = self.now()
        try:
            while seconds is None or self.now() - started < seconds:
                sent = self.step()
                if sent is not None and on_send is not None:
                    on_send(self, sent)
                sleep(0.002)
        finally:
            self.osc.bye()
