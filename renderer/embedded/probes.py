"""Probe signals with known rhythm, for motion and stability measures (numpy synthesis, no files).

* :func:`groove_audio`: a steady four-on-the-floor groove: kick on every beat, closed hat on
  the eighths, a held bass note; every beat sounds the same, so motion should repeat once per
  beat.
* :func:`pad_audio`: a held four-note chord, nothing else: the picture should be nearly still.
* :func:`probe_contexts`: conditioning rows for a probe at a frame rate, with exact beat and bar
  phases (the probe starts on a downbeat).
"""

from __future__ import annotations

import numpy as np

from renderer.embedded.context import audio_context
from renderer.embedded.songs import SAMPLE_RATE


def groove_audio(bpm: float = 120.0, seconds: float = 10.0, seed: int = 0) -> np.ndarray:
    """A steady four-on-the-floor groove at ``bpm``: float32 mono at SAMPLE_RATE, peak about -6 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    beat = 60.0 / bpm
    out = 0.12 * np.sin(2 * np.pi * round(55.0 * beat) / beat * t)  # held bass, a whole number of cycles per beat

    def hit(start: float, sound: np.ndarray) -> None:
        i = int(round(start * SAMPLE_RATE))
        if i < n:
            out[i:i + len(sound)] += sound[: n - i]

    k = np.arange(int(0.35 * SAMPLE_RATE)) / SAMPLE_RATE
    kick = 0.9 * np.sin(2 * np.pi * (45.0 * k + 60.0 * 0.03 * (1 - np.exp(-k / 0.03)))) * np.exp(-k / 0.12)  # 105 -> 45 Hz
    hat_len = int(0.05 * SAMPLE_RATE)
    hat = rng.standard_normal(hat_len)  # one hat sample, repeated: every beat is the same
    hat = 0.25 * np.diff(hat, prepend=0.0) * np.exp(-np.arange(hat_len) / (0.012 * SAMPLE_RATE))
    for i in range(int(seconds / beat) + 1):
        hit(i * beat, kick)
    for i in range(int(seconds / beat * 2) + 1):
        hit(i * beat / 2, hat)
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)


def pad_audio(seconds: float = 6.0) -> np.ndarray:
    """A held A-major-ish chord (220, 277, 330, 440 Hz): float32 mono at SAMPLE_RATE, peak 0.1."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chord = sum(np.sin(2 * np.pi * f * t) / (i + 1) for i, f in enumerate((220.0, 277.18, 329.63, 440.0)))
    return (0.1 * chord / np.max(np.abs(chord))).astype(np.float32)


def probe_contexts(audio: np.ndarray, bpm: float = 120.0, fps: float = 30.0, start_seconds: float = 2.0,
                   seconds: float = 6.0, beats_per_bar: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """``(context (n, CONTEXT_DIM), seconds (n,))`` at ``fps`` from ``start_seconds`` for ``seconds``."""
    from bridge.features import FeatureExtractor

    track = FeatureExtractor(SAMPLE_RATE).analyze(audio)
    at = start_seconds + np.arange(int(round(seconds * fps))) / fps
    beats = at * bpm / 60.0
    return audio_context(track, at, np.mod(beats, 1.0), np.mod(beats / beats_per_bar, 1.0)), at
