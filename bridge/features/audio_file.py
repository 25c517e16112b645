"""``analyze_file(path)``: read an audio file with soundfile, piece by piece, and analyse it;
``open_audio_file(path)``: the checks every reader of audio files shares; ``read_samples(path)``:
a whole file, repaired by the one sanitiser (:mod:`bridge.features.sanitize`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from bridge.errors import InputError
from bridge.features.config import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, FeatureConfig
from bridge.features.extractor import FeatureExtractor
from bridge.features.sanitize import SampleCheck
from bridge.features.track import FeatureTrack
from bridge.inputs import check_regular_file

READ_BLOCK_FRAMES = 1 << 18
#: The longest audio any command takes, in seconds: one hour. Longer files are refused before they are
#: decoded (a small compressed file can hold hours of silence; decoded, an hour of stereo is ~1.4 GB).
MAX_AUDIO_SECONDS = 3600.0


def check_duration(path: str | os.PathLike[str], frames: int, sample_rate: int) -> None:
    """InputError naming ``path`` when ``frames`` at ``sample_rate`` last longer than :data:`MAX_AUDIO_SECONDS`."""
    seconds = frames / sample_rate
    if seconds > MAX_AUDIO_SECONDS:
        raise InputError(path, f"{seconds / 60:.0f} minutes of audio: at most {MAX_AUDIO_SECONDS / 60:.0f} "
                               "minutes are taken (cut the bounce into parts)")


def open_audio_file(path: str | os.PathLike[str]) -> Any:
    """An open ``soundfile.SoundFile`` for ``path``, checked so that a :class:`FeatureExtractor` can analyse it.

    Raises :class:`InputError` naming the file when it is missing, a directory, not a regular
    file (a device or pipe), empty (0 bytes), unreadable, holds no samples, has a sample rate
    outside 8–192 kHz or lasts longer than :data:`MAX_AUDIO_SECONDS`. The one check for every
    reader of audio files (``analyze_file``, ``read_samples``, ``barlight send file``).
    """
    import soundfile

    path = check_regular_file(path, "audio")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    try:
        audio = soundfile.SoundFile(path)
    except (RuntimeError, soundfile.SoundFileError) as err:
        reason = str(err).split(":")[-1].strip() or "format not recognised"
        raise InputError(path, f"cannot read audio ({reason})") from None
    problem = None
    if audio.frames == 0:
        problem = "no audio samples (zero-length file)"
    elif not MIN_SAMPLE_RATE <= audio.samplerate <= MAX_SAMPLE_RATE:
        problem = f"sample rate {audio.samplerate} Hz outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
    if problem is not None:
        audio.close()
        raise InputError(path, problem)
    try:
        check_duration(path, audio.frames, audio.samplerate)
    except InputError:
        audio.close()
        raise
    return audio


def read_samples(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """The whole file as ``(samples (frames, channels) float32, sample rate)``, checked by
    :func:`open_audio_file` and repaired by :class:`SampleCheck` (one warning names the file)."""
    import soundfile

    path = Path(os.fspath(path))
    check = SampleCheck()
    with open_audio_file(path) as audio:
        try:
            samples = check.clean(audio.read(dtype="float32", always_2d=True))
        except (RuntimeError, soundfile.SoundFileError) as err:
            raise InputError(path, f"cannot read audio ({str(err).splitlines()[0]})") from None
        rate = int(audio.samplerate)
    check.warn(path)
    return samples, rate


def analyze_file(path: str | os.PathLike[str], config: FeatureConfig | None = None) -> FeatureTrack:
    """Features of an audio file (WAV, AIFF, FLAC, OGG; MP3 where libsndfile reads it), channels folded to mono.

    Raises :class:`InputError` naming the file for a missing, unreadable or empty file or an
    unsupported sample rate (:func:`open_audio_file`). NaN/inf samples are replaced by 0 and
    absurd ones limited (:mod:`bridge.features.sanitize`), counted in ``track.nonfinite_samples``
    and ``track.limited_samples`` and reported in one warning naming the file.
    """
    import soundfile

    path = Path(os.fspath(path))
    with open_audio_file(path) as audio:
        extractor = FeatureExtractor(audio.samplerate, config)
        try:
            blocks = audio.blocks(blocksize=READ_BLOCK_FRAMES, dtype="float32", always_2d=True)
            track = extractor.analyze_blocks(blocks)
        except (RuntimeError, soundfile.SoundFileError) as err:
            raise InputError(path, f"cannot read audio ({str(err).splitlines()[0]})") from None
    SampleCheck(track.nonfinite_samples, track.limited_samples).warn(path)
    return track
