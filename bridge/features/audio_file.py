"""``analyze_file(path)``: read an audio file with soundfile, piece by piece, and analyse it;
``open_audio_file(path)``: the checks every reader of audio files shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bridge.errors import InputError
from bridge.features.config import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, FeatureConfig
from bridge.features.extractor import FeatureExtractor
from bridge.features.track import FeatureTrack

READ_BLOCK_FRAMES = 1 << 18


def open_audio_file(path: str | os.PathLike[str]) -> Any:
    """An open ``soundfile.SoundFile`` for ``path``, checked so that a :class:`FeatureExtractor` can analyse it.

    Raises :class:`InputError` naming the file when it is missing, a directory, empty (0 bytes),
    unreadable, holds no samples, or has a sample rate outside 8–192 kHz. The one check for
    every reader of audio files in ``bridge`` (``analyze_file``, ``barlight send file``).
    """
    import soundfile

    path = Path(os.fspath(path))
    if not path.exists():
        raise InputError(path, "no such audio file")
    if path.is_dir():
        raise InputError(path, "is a directory, not an audio file")
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
    return audio


def analyze_file(path: str | os.PathLike[str], config: FeatureConfig | None = None) -> FeatureTrack:
    """Features of an audio file (WAV, AIFF, FLAC, OGG; MP3 where libsndfile reads it), channels folded to mono.

    Raises :class:`InputError` naming the file for a missing, unreadable or empty file or an
    unsupported sample rate (:func:`open_audio_file`). NaN/inf samples are replaced by 0 and
    counted in ``track.nonfinite_samples``.
    """
    import soundfile

    path = Path(os.fspath(path))
    with open_audio_file(path) as audio:
        extractor = FeatureExtractor(audio.samplerate, config)
        try:
            blocks = audio.blocks(blocksize=READ_BLOCK_FRAMES, dtype="float32", always_2d=True)
            return extractor.analyze_blocks(blocks)
        except (RuntimeError, soundfile.SoundFileError) as err:
            raise InputError(path, f"cannot read audio ({str(err).splitlines()[0]})") from None
