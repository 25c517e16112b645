"""Live audio in: a sound-card input (a loopback carrying the DAW's master) -> ``/daw/audio`` and ``/daw/pcm``.

:class:`AudioInput` opens the device with sounddevice (imported on first use; the
``audio-in`` extra), queues the blocks its callback hands over, and :meth:`AudioInput.heard`
runs them through the shared :class:`~bridge.features.FeatureExtractor` on the caller's
thread and packs them as ``/daw/pcm`` (:mod:`bridge.senders.pcm_out`; a block the queue had to
drop leaves a gap in the numbering). :func:`levels_of` turns a frame into ``/daw/audio``;
:class:`AudioInSource` is the position source of ``barlight send audio`` (audio alone,
optionally a free-running beat).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

import numpy as np

from bridge.errors import BarlightError
from bridge.protocol.messages import AudioMessage
from bridge.senders.pcm_out import PcmOut
from bridge.senders.ports import match_name
from bridge.senders.runtime import NOTHING_HEARD, Heard, PositionSource, Reading, transport_on

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
    """The device whose index is ``text``, else the one named by it (see :func:`~bridge.senders.ports.match_name`)."""
    if text.strip().isdigit():
        for device in devices:
            if device[0] == int(text):
                return device
    listed = ", ".join(f"{d[0]}: {d[1]}" for d in devices) or "none"
    return devices[match_name(text, [d[1] for d in devices], where, "input device", listed)]


def levels_of(frame: Any) -> AudioMessage:
    """The ``/daw/audio`` levels of a FeatureFrame."""
    return AudioMessage(float(frame.rms), float(frame.peak), tuple(float(b) for b in frame.bands))


def heard_from(audio: AudioInput | None) -> Heard:
    """What ``audio`` captured since the last call (nothing without an input)."""
    return audio.heard() if audio is not None else NOTHING_HEARD


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
        self.pcm = PcmOut(self.sample_rate)
        self._captured = 0  # samples the callback was handed (written by the callback thread only)
        self._blocks: queue.Queue[tuple[int, np.ndarray]] = queue.Queue(maxsize=256)
        factory = stream_factory or _sounddevice().InputStream
        self._stream = factory(device=device, samplerate=self.sample_rate, channels=channels,
                               blocksize=max(1, round(block_seconds * self.sample_rate)), callback=self._callback)

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        first, self._captured = self._captured, self._captured + len(indata)
        try:
            self._blocks.put_nowait((first, np.array(indata, dtype=np.float32, copy=True)))
        except queue.Full:
            self.dropped += 1

    def start(self) -> None:
        self._stream.start()

    def heard(self) -> Heard:
        """The levels of the newest frame completed by the blocks captured since the last call, and those
        blocks as ``/daw/pcm``."""
        frames: list[Any] = []
        runs: list[tuple[int, list[np.ndarray]]] = []  # consecutive blocks, sent together
        while True:
            try:
                first, block = self._blocks.get_nowait()
            except queue.Empty:
                break
            block = self.extractor.sample_check.clean(block)  # NaN/inf and absurd samples repaired once
            self.extractor.sample_check.warn("audio input")
            frames.extend(self.extractor.process(block))
            if runs and runs[-1][0] + sum(len(b) for b in runs[-1][1]) == first:
                runs[-1][1].append(block)
            else:
                runs.append((first, [block]))
        pcm: list[Any] = []
        for first, blocks in runs:
            self.pcm.skip(first - self.pcm.next_sample)  # blocks the full queue dropped
            pcm.extend(self.pcm.messages(np.concatenate(blocks)))
        return Heard(levels_of(frames[-1]) if frames else None, tuple(pcm))

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


class AudioInSource(PositionSource):
    """``/daw/audio`` from an :class:`AudioInput` alone, for DAWs that give nothing but audio.

    With ``bpm`` it is also a free-running transport (playing from beat 0 at the first read) on
    ``meter``. Thread-safety: the runtime's thread.
    """

    def __init__(self, audio: AudioInput, *, bpm: float | None = None, meter: tuple[int, int] = (4, 4)) -> None:
        from bridge.timeline.tempo_map import TempoMap

        self.audio = audio
        self.bpm = bpm
        self._grid = TempoMap.constant(bpm, *meter) if bpm is not None else None
        self._started: float | None = None

    def read(self, seconds: float) -> Reading:
        if self._started is None:
            self._started = seconds
        if self._grid is None or self.bpm is None:
            return Reading()
        return Reading(transport_on(self._grid, True, (seconds - self._started) * self.bpm / 60.0, self.bpm))

    def heard(self) -> Heard:
        return heard_from(self.audio)
