"""``analyze_file(path)``: read an audio file with soundfile, piece by piece, and analyse it."""

from __future__ import annotations

import os
from pathlib import Path

from bridge.errors import InputError
from bridge.features.config import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, FeatureConfig
from bridge.features.extractor import FeatureExtractor
from bridge.features.track import FeatureTrack

READ_BLOCK_FRAMES = 1 << 18


def analyze_file(path: str | os.PathLike[str], config: FeatureConfig | None = None) -> FeatureTrack:
    """Features of an audio file (WAV, AIFF, FLAC, OGG; MP3 where libsndfile reads it), channels folded to mono.

    Raises :class:`InputError` naming the file for a missing, unreadable or empty file or an
    unsupported sample rate. NaN/inf samples are replaced by 0 and counted in
    ``track.nonfinite_samples``.
    """
    import soundfile

    path = Path(os.fspath(path))
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise InputError(path, "empty file (0 bytes)")
    try:
        audio = soundfile.SoundFile(path)
    except (RuntimeError, soundfile.SoundFileError) as err:
        reason = str(err).split(":")[-1].strip() or "format not recognised"
        raise InputError(path, f"cannot read audio ({reason})") from None
    with audio:
        if audio.frames == 0:
            raise InputError(path, "no audio samples (zero-length file)")
        if not MIN_SAMPLE_RATE <= audio.samplerate <= MAX_SAMPLE_RATE:
            raise InputError(path, f"sample rate {audio.samplerate} Hz outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz")
        extractor = FeatureExtractor(audio.samplerate, config)
        try:
            blocks = audio.blocks(blocksize=READ_BLOCK_FRAMES, dtype="float32", always_2d=True)
            return extractor.analyze_blocks(blocks)
        except (RuntimeError, soundfile.SoundFileError) as err:
            raise InputError(path, f"cannot read audio ({str(err).splitlines()[0]})") from None
