"""Causal harmonic/percussive balance: median-filter HPSS on the mel power, past frames only.

Harmonic energy is steady in time: per mel band, the median over the last
``time_frames`` frames (this one included). Percussive energy is broadband: per frame,
the median over ``mel_bands`` neighbouring bands. Soft (Wiener) masks split each frame's
mel power between the two; ``harmonic_ratio`` is the harmonic share, 0..1 (0 for silence).
A transient is not in the time median yet, so onsets read as percussive; a held chord
reaches its harmonic value after about half the time window.
"""

from __future__ import annotations

import numpy as np
import scipy.ndimage

_TINY = 1e-30


def harmonic_ratio(mel_power: np.ndarray, history: np.ndarray, mel_bands: int) -> np.ndarray:
    """Harmonic share of each frame of ``mel_power`` (frames x bands).

    ``history`` holds the ``time_frames - 1`` mel power frames before ``mel_power[0]``
    (zeros before the signal starts); its length sets the time window.
    """
    stacked = np.vstack([history, mel_power]).astype(np.float32, copy=False)
    time_frames = history.shape[0] + 1
    windows = np.lib.stride_tricks.sliding_window_view(stacked, time_frames, axis=0)  # frames x bands x time
    harmonic = np.median(windows, axis=2)
    percussive = scipy.ndimage.median_filter(mel_power, size=(1, mel_bands), mode="nearest")
    h2 = harmonic.astype(np.float64) ** 2
    p2 = percussive.astype(np.float64) ** 2
    mask = h2 / np.maximum(h2 + p2, _TINY)
    total = mel_power.sum(axis=1, dtype=np.float64)
    share = (mask * mel_power).sum(axis=1) / np.maximum(total, _TINY)
    return np.where(total > _TINY, share, 0.0).astype(np.float32)
