"""Live audio in: a sound-card input (a loopback carrying the DAW's master) -> ``/daw/audio`` values.

:class:`AudioInput` opens the device with sounddevice (imported on first use; the
``audio-in`` extra), queues the blocks its callback hands over, and :meth:`AudioInput.frames`
runs them through the shared :class:`~bridge.features.FeatureExtractor` on the caller's
thread. :func:`audio_args` turns a frame into the protocol's ``rms, peak, bands``.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import numpy as np

from bridge.errors import BarlightError, InputError

INSTALL_HINT = "live audio input needs the sounddevice package: pip install 'barlight[audio-in]'"


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError:
        raise BarlightError(INSTALL_HINT) from None
    except OSError as err:  # PortAudio library missing
        raise BarlightError(f"sounddevice could not load PortAudio ({err})") from None
    return sounddevice


def input_devices() -> list[tuple[int, str, int, float]]:
    """(index, name, input channels, default sample rate) of every capture device."""
    sd = _sounddevice()
    return [(i, d["name"], int(d["max_input_channels"]), float(d["default_samplerate"]))
            for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]


def resolve_device(text: str, devices: list[tuple[int, str, int, float]],
                   where: str = "--audio-in") -> tuple[int, str, int, float]:
    """The device whose index is ``text`` or whose name contains it (case-insensitive)."""
    if text.strip().isdigit():
        for device in devices:
            if device[0] == int(text):
                return device
    matches = [d for d in devices if text.lower() in d[1].lower()]
    exact = [d for d in matches if d[1].lower() == text.lower()]
    if len(exact) == 1 or len(matches) == 1:
        return (exact or matches)[0]
    names = ", ".join(f"{d[0]}: {d[1]}" for d in devices) or "none"
    problem = "matches several devices" if matches else "no such input device"
    raise InputError(where, f"{text!r} {problem}; inputs: {names}")


def audio_args(frame: Any) -> tuple[float, float, tuple[float, ...]]:
    """``(rms, peak, bands)`` of a FeatureFrame for ``ProtocolSender.audio``."""
    return float(frame.rms), float(frame.peak), tuple(float(b) for b in frame.bands)


class AudioInput:
    """Captures ``device`` and yields FeatureFrames (see module doc).

    ``stream_factory`` stands in for ``sounddevice.InputStream`` (tests); it is called with
    ``device, samplerate, channels, blocksize, callback`` keywords and must return an object
    with ``start()`` and ``close()``.
    Thread-safety: the stream's callback only enqueues; call :meth:`frames` from one thread.
    Realtime-safety: the callback copies the block and never blocks (a full queue drops it).
    """

    def __init__(self, device: int | str | None, sample_rate: int, channels: int = 2,
                 block_seconds: float = 0.01, stream_factory: Callable[..., Any] | None = None) -> None:
        from bridge.features import FeatureExtractor

        self.sample_rate = int(sample_rate)
        self.extractor = FeatureExtractor(self.sample_rate)
        _ = self.extractor.banks  # build filter banks now, not on the first block
        self.dropped = 0
        self._blocks: queue.Queue[np.ndarray] = queue.Queue(maxsize=256)
        factory = stream_factory or _sounddevice().InputStream
        self._stream = factory(device=device, samplerate=self.sample_rate, channels=channels,
                               blocksize=max(1, round(block_seconds * self.sample_rate)), callback=self._callback)

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        try:
            self._blocks.put_nowait(np.array(indata, dtype=np.float32, copy=True))
        except queue.Full:
            self.dropped += 1

    def start(self) -> None:
        self._stream.start()

    def frames(self) -> list[Any]:
        """FeatureFrames completed by the blocks captured since the last call."""
        out: list[Any] = []
        while True:
            try:
                block = self._blocks.get_nowait()
            except queue.Empty:
                return out
            out.extend(self.extractor.process(block))

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> AudioInput:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_audio_input(text: str, channels: int | None = None, sample_rate: int | None = None,
                     where: str = "--audio-in") -> AudioInput:
    """An :class:`AudioInput` on the device named by ``TEXT`` (option ``where``) at its default rate."""
    index, _, max_channels, default_rate = resolve_device(text, input_devices(), where)
    return AudioInput(index, sample_rate or int(default_rate), min(channels or 2, max_channels))


class AudioSender:
    """Streams ``/daw/audio`` from an :class:`AudioInput` at up to ``rate_hz``, with hello every 2 s.

    With ``bpm`` it also sends a free-running ``/daw/transport`` (playing from beat 0 at start),
    for DAWs that give nothing but audio. Thread-safety: one thread.
    """

    def __init__(self, audio: AudioInput, osc: Any, *, rate_hz: float = 60.0, bpm: float | None = None,
                 meter: tuple[int, int] = (4, 4), now: Callable[[], float] | None = None) -> None:
        import time

        from bridge.timeline.tempo_map import TempoMap

        self.audio = audio
        self.osc = osc
        self.rate_hz = rate_hz
        self.bpm = bpm
        self.meter = meter
        self._grid = TempoMap.constant(bpm, *meter) if bpm is not None else None
        self.now = now or time.monotonic
        self.sent_audio = 0
        self._started: float | None = None
        self._next_hello = -float("inf")

    def step(self, seconds: float | None = None) -> None:
        now = self.now() if seconds is None else seconds
        if self._started is None:
            self._started = now
        if now >= self._next_hello:
            self.osc.hello()
            self._next_hello = now + 2.0
        frames = self.audio.frames()
        if frames:
            self.osc.audio(*audio_args(frames[-1]))
            self.sent_audio += 1
        if self.bpm is not None:
            beat = (now - self._started) * self.bpm / 60.0
            position = self._grid.position_at(beat)
            self.osc.transport(True, beat, self.bpm, position.numerator, position.denominator,
                               self._grid.bar_start_beat(position.bar), position.bar)

    def run(self, seconds: float | None = None, sleep: Callable[[float], None] | None = None) -> None:
        import time

        pause = sleep or time.sleep
        started = self.now()
        try:
            while seconds is None or self.now() - started < seconds:
                self.step()
                pause(1.0 / self.rate_hz)
        finally:
            self.osc.bye()
