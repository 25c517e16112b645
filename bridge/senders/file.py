"""Play an audio file in real time and stream protocol v1.1 exactly as a DAW would.

The file's first sample is song second 0 (beat 0) on the given TempoMap. :class:`FileSource`
is the position source for :class:`~bridge.senders.runtime.SenderRuntime`: each step reads the
transport at the playhead, then what was played since the last step: the ``/daw/audio`` levels
(from the shared :class:`bridge.features.FeatureExtractor`) and the audio itself as ``/daw/pcm``
(mono, at the file's rate, numbered by the file's sample position: :mod:`bridge.senders.pcm_out`);
``/daw/markers`` and ``/daw/loop`` go with every hello. The playback *is* the transport: it is sent stopped at the
start bar before play and stopped again at the end. With ``play=True`` the audio is also
played through the default output device (the optional ``sounddevice`` package).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.errors import InputError
from bridge.protocol.messages import AudioMessage, LoopMessage, MarkersMessage, Message, TransportMessage
from bridge.senders.pcm_out import PcmOut
from bridge.senders.runtime import Heard, PositionSource, Reading, transport_on
from bridge.timeline.tempo_map import TempoMap

#: The levels before the first sample was played.
SILENCE = AudioMessage(0.0, 0.0, (0.0,) * 8)


def transport_at(tempo_map: TempoMap, song_seconds: float, playing: bool = True) -> TransportMessage:
    """The ``/daw/transport`` a DAW would send ``song_seconds`` into the song. Pure."""
    beat = tempo_map.beat_at(song_seconds)
    return transport_on(tempo_map, playing, beat, tempo_map.bpm_at(beat))


def combine_frames(frames: Sequence[Any]) -> AudioMessage | None:
    """One ``/daw/audio`` reading from the feature frames of one step: RMS of RMS, max peak, RMS per band."""
    if not frames:
        return None
    rms = math.sqrt(sum(f.rms * f.rms for f in frames) / len(frames))
    peak = max(f.peak for f in frames)
    bands = np.sqrt(np.mean(np.square(np.array([f.bands for f in frames], dtype=np.float64)), axis=0))
    return AudioMessage(rms, peak, tuple(float(b) for b in bands))


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


class FileSource(PositionSource):
    """``audio_path`` played on ``tempo_map`` from bar ``start_bar``, for ``seconds`` (default: to its end).

    The song clock starts at the first :meth:`read` (plus the output device's latency with ``play``).
    Thread-safety: one thread. Realtime-safety: :meth:`read` is O(1); :meth:`heard` reads and analyses.
    """

    drives_transport = True

    def __init__(self, audio_path: str | os.PathLike[str], tempo_map: TempoMap, start_bar: int = 1,
                 play: bool = False, seconds: float | None = None) -> None:
        from bridge.features import FeatureExtractor
        from bridge.features.audio_file import open_audio_file
        from bridge.features.sanitize import SampleCheck

        self.path = Path(audio_path)
        self.tempo_map = tempo_map
        self.seconds = seconds
        self._audio = open_audio_file(self.path)
        self.sample_rate = int(self._audio.samplerate)
        self.duration_seconds = self._audio.frames / self.sample_rate
        self.start_seconds = max(0.0, tempo_map.bar_start_seconds(int(start_bar)))
        if self.start_seconds >= self.duration_seconds:
            self._audio.close()
            raise InputError("--start-bar", f"bar {start_bar} starts at {self.start_seconds:.2f} s, after the end "
                                            f"of {self.path.name} ({self.duration_seconds:.2f} s)")
        self._extractor = FeatureExtractor(self.sample_rate)
        _ = self._extractor.banks  # build the filter banks (and import librosa) now, not on the first step
        self._player: _Player | None = None
        if play:
            self._audio.seek(int(self.start_seconds * self.sample_rate))
            samples = SampleCheck().clean(self._audio.read(dtype="float32", always_2d=True))  # no NaN to the speakers
            self._player = _Player(samples, self.sample_rate)
        self._position = int(round(self.start_seconds * self.sample_rate))
        self._audio.seek(self._position)
        self._pcm = PcmOut(self.sample_rate, first_sample=self._position)
        self._origin: float | None = None
        self._levels = SILENCE
        self.song_seconds = self.start_seconds
        self.finished = False

    def song(self) -> tuple[Message, ...]:
        return (MarkersMessage(self.tempo_map.markers),
                LoopMessage(False, 0.0, 0.0))

    def read(self, seconds: float) -> Reading | None:
        if self._origin is None:
            self._origin = seconds
            if self._player is not None:
                self._player.start()
                self._origin += self._player.latency_seconds  # the first sample is heard this much later
        elapsed = max(0.0, seconds - self._origin)
        if self.finished or (self.seconds is not None and elapsed >= self.seconds):
            return None
        self.song_seconds = self.start_seconds + elapsed
        return Reading(transport_at(self.tempo_map, min(self.song_seconds, self.duration_seconds)))

    def heard(self) -> Heard:
        """The levels of the samples up to the playhead not analysed yet (the last ones while none are new),
        and those samples as ``/daw/pcm``."""
        target = min(int(self.song_seconds * self.sample_rate), self._audio.frames)
        pcm: tuple[Message, ...] = ()
        if target > self._position:
            block = self._audio.read(target - self._position, dtype="float32", always_2d=True)
            self._position += len(block)
            block = self._extractor.sample_check.clean(block)  # bad samples repaired once, reported once
            self._extractor.sample_check.warn(self.path)
            levels = combine_frames(self._extractor.process(block))
            pcm = self._pcm.messages(block)
            if levels is not None:
                self._levels = levels
        self.finished = self._position >= self._audio.frames
        return Heard(self._levels, pcm)

    def close(self) -> None:
        """Release the file and the output device."""
        if self._audio.closed:
            return
        if self._player is not None:
            self._player.close()
        self._audio.close()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
