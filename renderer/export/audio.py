"""The exported piece's sound: read once, cut to the exported range, handed to the muxer unchanged.

It is a bounce (:func:`read_audio`), or, without one, the mix a session recording kept
(:func:`session_clip`: the ``/daw/pcm`` audio the preview heard, laid on the song timeline from
song second 0). :func:`read_export_audio` picks by the file: a ``.jsonl`` recording is the latter.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from bridge.errors import InputError
from bridge.timeline.tempo_map import TempoMap


@dataclass(frozen=True, eq=False)
class AudioClip:
    """``samples`` (channels, n) float32 in -1..1 at ``sample_rate`` Hz; sample 0 is the video's frame 0."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        """Sample frames (per channel)."""
        return int(self.samples.shape[1])

    @property
    def duration_seconds(self) -> Fraction:
        """Exact length: ``frames / sample_rate`` seconds."""
        return Fraction(self.frames, self.sample_rate)

    def cut(self, start_seconds: Fraction, end_seconds: Fraction | None) -> AudioClip:
        """The samples from ``start_seconds`` up to ``end_seconds`` (rounded to the nearest sample)."""
        start = round(Fraction(start_seconds) * self.sample_rate)
        stop = self.frames if end_seconds is None else min(self.frames, round(Fraction(end_seconds) * self.sample_rate))
        return AudioClip(self.samples[:, start:max(start, stop)], self.sample_rate)


def is_recording(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names a session recording (``.jsonl``, or a crashed ``.jsonl.part``) rather than audio."""
    from bridge.recording import PART_SUFFIX, SUFFIX

    name = Path(os.fspath(path)).name
    return name.endswith(SUFFIX) or name.endswith(PART_SUFFIX)


def session_clip(path: str | os.PathLike[str], tempo_map: TempoMap) -> AudioClip:
    """The mix recording ``path`` kept (:func:`bridge.session_audio.session_audio`) on ``tempo_map``, from song
    second 0, mono; InputError naming the recording when it kept none."""
    from bridge.recording import read_recording
    from bridge.session_audio import session_audio

    song = session_audio(read_recording(path), tempo_map)
    return AudioClip(np.ascontiguousarray(song.samples[None, :]), song.sample_rate)


def read_export_audio(path: str | os.PathLike[str], tempo_map: TempoMap) -> AudioClip:
    """An export's audio: the bounce ``path`` (:func:`read_audio`), or the mix a session recording kept."""
    return session_clip(path, tempo_map) if is_recording(path) else read_audio(path)


def read_audio(path: str | os.PathLike[str]) -> AudioClip:
    """Decode an audio file (WAV/AIFF/FLAC/OGG via soundfile, anything else via FFmpeg) as float32.

    The file is checked by ``bridge``'s :func:`~bridge.features.audio_file.open_audio_file` (missing,
    a directory, empty, no samples, sample rate, at most an hour); one soundfile cannot read goes to
    FFmpeg. Either way the samples pass the one sanitiser (:mod:`bridge.features.sanitize`): NaN/inf
    become 0, absurd amplitudes are limited, and one warning names the file.
    """
    from bridge.features.audio_file import read_samples

    path = Path(path)
    try:
        data, rate = read_samples(path)
        samples = np.ascontiguousarray(data.T)
    except InputError as err:
        if not err.problem.startswith("cannot read audio"):
            raise
        samples, rate = _read_with_ffmpeg(path)
    except Exception:  # noqa: BLE001 - soundfile opened it but can't decode it: try FFmpeg before giving up
        samples, rate = _read_with_ffmpeg(path)
    if samples.shape[1] == 0:
        raise InputError(path, "the audio file holds no samples")
    if samples.shape[0] > 2:
        samples = samples[:2]  # AAC stereo: keep the front pair of a multichannel bounce
    return AudioClip(samples, int(rate))


def _read_with_ffmpeg(path: Path) -> tuple[np.ndarray, int]:
    """``(samples (channels, frames), rate)`` decoded by FFmpeg, at most an hour of them, sanitised."""
    import av

    from bridge.features.audio_file import check_duration
    from bridge.features.sanitize import SampleCheck

    check = SampleCheck()
    decoded = 0
    try:
        with av.open(os.fspath(path)) as container:
            if not container.streams.audio:
                raise InputError(path, "has no audio stream")
            stream = container.streams.audio[0]
            channels = stream.codec_context.channels or 1
            layout = "mono" if channels == 1 else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=stream.codec_context.sample_rate)
            chunks = []
            rate = stream.codec_context.sample_rate
            if not rate:
                raise InputError(path, "the audio stream has no sample rate")
            for frame in itertools.chain(container.decode(stream), [None]):
                for out in resampler.resample(frame):
                    chunks.append(check.clean(out.to_ndarray()))
                    decoded += chunks[-1].shape[1]
                    check_duration(path, decoded, rate)  # stops a decompression bomb while it decodes
    except InputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise InputError(path, f"not a readable audio file ({err})") from None
    if not chunks:
        raise InputError(path, "the audio file holds no samples")
    check.warn(path)
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32), int(rate)
