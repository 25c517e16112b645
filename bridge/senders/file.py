"""Play an audio file in real time and stream protocol v1 exactly as a DAW would.

The file's first sample is song second 0 (beat 0) on the given TempoMap. Every tick
(``rate_hz``, default 50 Hz) sends ``/daw/transport`` and ``/daw/audio`` (features of the
audio played since the last tick, from the shared :class:`bridge.features.FeatureExtractor`);
``/daw/hello`` with ``/daw/markers`` and ``/daw/loop`` on connect and every 2 s; a stopped
transport and ``/daw/bye`` at the end or on Ctrl-C. With ``play=True`` the audio is also
played through the default output device (the optional ``sounddevice`` package).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.errors import InputError
from bridge.protocol.messages import TransportMessage
from bridge.senders.osc_out import ProtocolSender
from bridge.timeline.tempo_map import TempoMap

HELLO_SECONDS = 2.0


def transport_at(tempo_map: TempoMap, song_seconds: float, playing: bool = True) -> TransportMessage:
    """The ``/daw/transport`` a DAW would send ``song_seconds`` into the song. Pure."""
    beat = tempo_map.beat_at(song_seconds)
    position = tempo_map.position_at(beat)
    return TransportMessage(playing, beat, tempo_map.bpm_at(beat), position.numerator, position.denominator,
                            beat - position.beat_in_bar, position.bar)


def combine_frames(frames: Sequence[Any]) -> tuple[float, float, tuple[float, ...]] | None:
    """One ``/daw/audio`` reading from the feature frames of one tick: RMS of RMS, max peak, RMS per band."""
    if not frames:
        return None
    rms = math.sqrt(sum(f.rms * f.rms for f in frames) / len(frames))
    peak = max(f.peak for f in frames)
    bands = np.sqrt(np.mean(np.square(np.array([f.bands for f in frames], dtype=np.float64)), axis=0))
    return rms, peak, tuple(float(b) for b in bands)


class _Player:
    """The default output device playing ``samples`` from the start (sounddevice, imported here only)."""

    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        try:
            import sounddevice
        except (ImportError, OSError) as err:
            raise InputError("--play", f"needs the sounddevice package and PortAudio ({err})") from None
        self._samples = samples
        self._index = 0

        def callback(out: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
            chunk = self._samples[self._index:self._index + frames]
            out[:len(chunk)] = chunk
            out[len(chunk):] = 0
            self._index += frames

        try:
            self._stream = sounddevice.OutputStream(samplerate=sample_rate, channels=samples.shape[1],
                                                    dtype="float32", callback=callback)
        except Exception as err:  # PortAudioError: no device, bad rate...
            raise InputError("--play", f"no usable audio output ({err})") from None
        self.latency_seconds = float(self._stream.latency)

    def start(self) -> None:
        self._stream.start()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class FileSender:
    """Streams ``audio_path`` on ``tempo_map`` from bar ``start_bar`` through ``sender`` in real time.

    ``now``/``sleep`` are injectable so tests can run it faster than real time.
    Thread-safety: one thread. Realtime-safety: none needed (it paces itself).
    """

    def __init__(self, audio_path: str | os.PathLike[str], tempo_map: TempoMap, sender: ProtocolSender,
                 start_bar: int = 1, rate_hz: float = 50.0, play: bool = False,
                 now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        from bridge.features import FeatureExtractor
        from bridge.features.audio_file import open_audio_file

        self.path = Path(audio_path)
        self.tempo_map = tempo_map
        self.sender = sender
        self.rate_hz = float(rate_hz)
        self._now, self._sleep = now, sleep
        self._audio = open_audio_file(self.path)
        self.sample_rate = int(self._audio.samplerate)
        self.duration_seconds = self._audio.frames / self.sample_rate
        self.start_seconds = max(0.0, tempo_map.bar_start_seconds(int(start_bar)))
        if self.start_seconds >= self.duration_seconds:
            self._audio.close()
            raise InputError("--start-bar", f"bar {start_bar} starts at {self.start_seconds:.2f} s, after the end "
                                            f"of {self.path.name} ({self.duration_seconds:.2f} s)")
        self._extractor = FeatureExtractor(self.sample_rate)
        _ = self._extractor.banks  # build the filter banks (and import librosa) now, not on the first tick
        self._player: _Player | None = None
        if play:
            self._audio.seek(int(self.start_seconds * self.sample_rate))
            samples = self._audio.read(dtype="float32", always_2d=True)
            self._player = _Player(samples, self.sample_rate)
        self._audio.seek(int(round(self.start_seconds * self.sample_rate)))
        self.ticks = 0
        self.song_seconds = self.start_seconds
        self.acked = False

    def _hello(self) -> None:
        self.sender.hello()
        self.sender.markers(self.tempo_map.markers)
        self.sender.loop(False, 0.0, 0.0)

    def run(self, seconds: float | None = None, on_tick: Callable[[FileSender, TransportMessage], None] | None = None) -> None:
        """Stream until the file ends, ``seconds`` have passed, or Ctrl-C; always ends with stop and bye."""
        period = 1.0 / self.rate_hz
        last_audio: tuple[float, float, tuple[float, ...]] = (0.0, 0.0, (0.0,) * 8)
        self._hello()
        self.sender.send(transport_at(self.tempo_map, self.start_seconds, playing=False))
        started = self._now()
        if self._player is not None:
            self._player.start()
            started += self._player.latency_seconds  # the first sample is heard this much later
        next_hello = started + HELLO_SECONDS
        position = int(round(self.start_seconds * self.sample_rate))
        finished = False
        try:
            while not finished:
                now = self._now()
                elapsed = max(0.0, now - started)
                if seconds is not None and elapsed >= seconds:
                    break
                self.song_seconds = self.start_seconds + elapsed
                # the transport goes out first: its beat is the playhead now, not after the analysis
                message = transport_at(self.tempo_map, min(self.song_seconds, self.duration_seconds))
                self.sender.send(message)
                target = min(int(self.song_seconds * self.sample_rate), self._audio.frames)
                if target > position:
                    block = self._audio.read(target - position, dtype="float32", always_2d=True)
                    position += len(block)
                    reading = combine_frames(self._extractor.process(block))
                    if reading is not None:
                        last_audio = reading
                finished = position >= self._audio.frames
                self.sender.audio(*last_audio)
                if now >= next_hello:
                    self._hello()
                    next_hello += HELLO_SECONDS
                self.acked = self.acked or bool(self.sender.poll_acks())
                self.ticks += 1
                if on_tick is not None:
                    on_tick(self, message)
                wait = started + self.ticks * period - self._now()
                if wait > 0:
                    self._sleep(wait)
        finally:
            self.close()

    def close(self) -> None:
        """Send a stopped transport at the current position and bye; release the file and device."""
        if self._audio.closed:
            return
        self.sender.send(transport_at(self.tempo_map, min(self.song_seconds, self.duration_seconds), playing=False))
        self.sender.bye()
        if self._player is not None:
            self._player.close()
        self._audio.close()
