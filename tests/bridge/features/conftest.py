"""Generated test signals for the feature tests (exposed as fixtures: tests import no helpers)."""

from __future__ import annotations

import types

import numpy as np
import pytest

NOTE_HZ = {"C4": 261.63, "E4": 329.63, "G4": 392.00, "A4": 440.0, "D4": 293.66}


def tone(freqs_hz, seconds: float, sample_rate: int, amplitude: float = 0.2, harmonics: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    y = np.zeros_like(t)
    for f in np.atleast_1d(freqs_hz):
        for h in range(1, harmonics + 1):
            if f * h < sample_rate / 2:
                y += amplitude / h * np.sin(2 * np.pi * f * h * t)
    return y.astype(np.float32)


def clicks(times_seconds, seconds: float, sample_rate: int, amplitude: float = 0.8, noise: float = 0.0,
           seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = noise * rng.standard_normal(int(seconds * sample_rate))
    for t in times_seconds:
        i = int(round(t * sample_rate))
        y[i:i + 8] += amplitude * np.hanning(8)
    return y.astype(np.float32)


def music(seconds: float, sample_rate: int, seed: int = 1) -> np.ndarray:
    """A chirp under decaying noise bursts every 0.5 s: moving centroid, chroma, onsets."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    freq = 200.0 * 2.0 ** t
    y = 0.3 * np.sin(2 * np.pi * np.cumsum(freq) / sample_rate)
    envelope = np.zeros(n)
    decay = np.exp(-np.arange(2000) / 300.0)
    for start in np.arange(0.25, seconds, 0.5):
        i = int(start * sample_rate)
        envelope[i:i + 2000] += decay[: max(0, min(2000, n - i))]
    y += 0.4 * envelope * rng.standard_normal(n)
    return y.astype(np.float32)


@pytest.fixture
def signals() -> types.SimpleNamespace:
    return types.SimpleNamespace(tone=tone, clicks=clicks, music=music, note_hz=NOTE_HZ)
