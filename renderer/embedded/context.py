"""The model's conditioning input: one function shared by training and rendering.

``audio_context(track, seconds, beat_phase, bar_phase)`` reads a
:class:`bridge.features.FeatureTrack` (per-hop ``mel``, ``rms_db``,
``centroid_hz``, ``flatness``, ``onset``, ``chroma``, ``seconds``) and returns a
float32 vector of length :data:`CONTEXT_DIM`:

* ``MEL_POINTS`` x ``N_MELS`` log-mel values sampled over the ``WINDOW_SECONDS``
  before ``seconds`` (past only, so the live preview and an offline export see the
  same input), scaled so -100 dB (the extractor's floor) -> 0.0 and -20 dB -> 1.0;
* the scalar block (see :data:`SCALAR_NAMES`): loudness, brightness, noisiness,
  onset density, 12 chroma values, then sin/cos of the beat and bar phases.

All scalars are fixed, documented transforms of the features, never per-song
normalisations, so one loudness means one value everywhere. NumPy only.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

N_MELS = 64
MEL_POINTS = 16
WINDOW_SECONDS = 1.0
LEVEL_SECONDS = 0.25  # loudness / brightness / noisiness averaging window (past)
DENSITY_SECONDS = 2.0  # onset-density window (past)
CHROMA_SECONDS = 1.0

MEL_FLOOR_DB = -100.0  # mel dB -> (mel - MEL_FLOOR_DB) / MEL_SPAN_DB, clipped to 0..1.5
MEL_SPAN_DB = 80.0
LOUDNESS_FLOOR_DB = -60.0  # rms_db (mean power over LEVEL_SECONDS) at or below -> loudness 0
LOUDNESS_FULL_DB = -10.0  # at or above -> loudness 1 (linear in dB between)
CENTROID_LOW_HZ = 250.0  # centroid at or below -> brightness 0
CENTROID_HIGH_HZ = 5000.0  # at or above -> brightness 1 (linear in log-frequency between)
FLATNESS_LOW = 1e-4  # spectral flatness at or below -> noisiness 0
FLATNESS_HIGH = 0.3  # at or above -> noisiness 1 (linear in log-flatness between)
ONSETS_PER_SECOND_FULL = 6.0  # onsets per second over DENSITY_SECONDS -> onset density 1

SCALAR_NAMES: tuple[str, ...] = (
    "loudness",
    "brightness",
    "noisiness",
    "onset_density",
    *(f"chroma_{k}" for k in range(12)),
    "beat_sin",
    "beat_cos",
    "bar_sin",
    "bar_cos",
)
N_SCALARS = len(SCALAR_NAMES)
MEL_DIM = MEL_POINTS * N_MELS
CONTEXT_DIM = MEL_DIM + N_SCALARS
SCALAR = {name: MEL_DIM + i for i, name in enumerate(SCALAR_NAMES)}


def _window_mean(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of ``values[lo:hi]`` per row (at least one row), from the cumulative sum of ``values``."""
    cum = _cumsum(values)
    hi = np.maximum(hi, lo + 1)
    total = cum[hi] - cum[lo]
    return total / (hi - lo)[(...,) + (None,) * (values.ndim - 1)]


def _cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)], axis=0)


def _array(track: Any, name: str, width: int | None = None) -> np.ndarray:
    """A column as float64; an absent optional column (None, e.g. a DAW feed without mel) reads as zeros."""
    if not hasattr(track, name):
        raise ValueError(f"audio_context: feature track has no {name!r}")
    value = getattr(track, name)
    if value is None:
        n = len(np.asarray(track.seconds))
        return np.zeros((n, width) if width else n)
    return np.asarray(value, dtype=np.float64)


def audio_context(track: Any, seconds: float | np.ndarray, beat_phase: float | np.ndarray,
                  bar_phase: float | np.ndarray) -> np.ndarray:
    """Conditioning vector(s) for the moment(s) ``seconds`` of ``track``.

    ``seconds`` (from the track's start), ``beat_phase`` and ``bar_phase`` (0..1) are
    scalars -> shape ``(CONTEXT_DIM,)``, or equal-length 1-D arrays -> ``(n, CONTEXT_DIM)``.
    Moments before the first or after the last hop read the nearest hop (silence before 0).
    """
    scalar_input = np.ndim(seconds) == 0
    secs = np.atleast_1d(np.asarray(seconds, dtype=np.float64))
    beat = np.broadcast_to(np.atleast_1d(np.asarray(beat_phase, dtype=np.float64)), secs.shape)
    bar = np.broadcast_to(np.atleast_1d(np.asarray(bar_phase, dtype=np.float64)), secs.shape)
    if not np.all(np.isfinite(secs)):
        raise ValueError("audio_context: seconds must be finite")

    times = _array(track, "seconds")
    mel = _array(track, "mel", N_MELS)
    n = len(times)
    if n == 0 or mel.shape != (n, N_MELS):
        raise ValueError(f"audio_context: track needs >= 1 hop and mel of shape (n, {N_MELS}), got {mel.shape}")
    hop = float(getattr(track, "hop_seconds", times[1] - times[0] if n > 1 else 0.01))
    if getattr(track, "mel", None) is None:
        mel = np.full((n, N_MELS), MEL_FLOOR_DB)  # absent mel reads as silence

    def index_at(t: np.ndarray) -> np.ndarray:
        # last hop whose time is <= t (past-only); -1 means "before the audio"
        return np.searchsorted(times, t + 1e-9, side="right") - 1

    out = np.zeros((len(secs), CONTEXT_DIM), dtype=np.float64)

    # mel window: MEL_POINTS samples over the past WINDOW_SECONDS, silence before the start
    offsets = np.linspace(-WINDOW_SECONDS, 0.0, MEL_POINTS)
    idx = index_at(secs[:, None] + offsets[None, :])
    mel_scaled = np.clip((mel - MEL_FLOOR_DB) / MEL_SPAN_DB, 0.0, 1.5)
    window = np.where((idx >= 0)[..., None], mel_scaled[np.clip(idx, 0, n - 1)], 0.0)
    out[:, :MEL_DIM] = window.reshape(len(secs), MEL_DIM)

    end = np.clip(index_at(secs) + 1, 0, n)  # exclusive end of the past window

    loudness, brightness, noisiness, density, chroma_mean = _past_qualities(track, end, n, hop)

    s = MEL_DIM
    out[:, s + 0] = loudness
    out[:, s + 1] = brightness
    out[:, s + 2] = noisiness
    out[:, s + 3] = density
    out[:, s + 4:s + 16] = chroma_mean
    out[:, s + 16] = np.sin(2 * np.pi * beat)
    out[:, s + 17] = np.cos(2 * np.pi * beat)
    out[:, s + 18] = np.sin(2 * np.pi * bar)
    out[:, s + 19] = np.cos(2 * np.pi * bar)
    out = out.astype(np.float32)
    return out[0] if scalar_input else out


def _past_qualities(track: Any, end: np.ndarray, n: int, hop: float) -> tuple[np.ndarray, ...]:
    """Loudness, brightness, noisiness, onset density (each (m,)) and chroma (m, 12) over the past
    windows ending (exclusive) at hops ``end``; 0 before the audio."""
    def lo(window_seconds: float) -> np.ndarray:
        return np.clip(end - max(1, int(round(window_seconds / hop))), 0, n)

    rms_db = _array(track, "rms_db")
    power = 10.0 ** (rms_db / 10.0)
    lo_level = lo(LEVEL_SECONDS)
    mean_power = _window_mean(power, lo_level, end)
    level_db = 10.0 * np.log10(np.maximum(mean_power, 1e-12))
    loudness = np.clip((level_db - LOUDNESS_FLOOR_DB) / (LOUDNESS_FULL_DB - LOUDNESS_FLOOR_DB), 0.0, 1.0)
    loudness = np.where(end > 0, loudness, 0.0)

    # energy-weighted brightness so quiet hops do not swing it
    log_centroid = np.log2(np.maximum(_array(track, "centroid_hz"), 1.0))
    weighted = _window_mean(power * log_centroid, lo_level, end)
    mean_log_centroid = weighted / np.maximum(mean_power, 1e-12)
    brightness = (mean_log_centroid - math.log2(CENTROID_LOW_HZ)) / math.log2(CENTROID_HIGH_HZ / CENTROID_LOW_HZ)
    brightness = np.where(end > 0, np.clip(brightness, 0.0, 1.0), 0.0)

    log_flat = np.log10(np.clip(_array(track, "flatness"), FLATNESS_LOW, 1.0))
    flat_w = _window_mean(power * log_flat, lo_level, end) / np.maximum(mean_power, 1e-12)
    noisiness = (flat_w - math.log10(FLATNESS_LOW)) / math.log10(FLATNESS_HIGH / FLATNESS_LOW)
    noisiness = np.where(end > 0, np.clip(noisiness, 0.0, 1.0), 0.0)

    onsets = _array(track, "onset")
    lo_dense = lo(DENSITY_SECONDS)
    onsets_cum = _cumsum(onsets)
    count = onsets_cum[end] - onsets_cum[lo_dense]
    density = np.clip(count / DENSITY_SECONDS / ONSETS_PER_SECOND_FULL, 0.0, 1.0)

    chroma = _array(track, "chroma", 12)
    lo_chroma = lo(CHROMA_SECONDS)
    chroma_mean = _window_mean(chroma * power[:, None], lo_chroma, end)
    chroma_mean = chroma_mean / np.maximum(chroma_mean.max(axis=1, keepdims=True), 1e-12)
    chroma_mean = np.where((end > 0)[:, None], chroma_mean, 0.0)
    return loudness, brightness, noisiness, density, chroma_mean
