"""Per-frame spectral features of a batch of windowed frames: pure functions of arrays.

Filter banks come from librosa (imported lazily, built once per geometry and cached);
everything else is numpy/scipy on whole batches, so one frame and ten thousand frames
run the same code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.fft

from bridge.features.config import FeatureConfig, FrameGeometry
from bridge.protocol.spec import BAND_EDGES_HZ

#: Power floor of the flatness (librosa's ``amin``), in squared FFT magnitude.
FLATNESS_AMIN = 1e-10
_TINY = 1e-20


@dataclass(frozen=True)
class FilterBanks:
    """Matrices (bins x outputs, float32) that turn a power spectrum into features, for one geometry."""

    window: np.ndarray  # periodic Hann, n_fft
    freqs_hz: np.ndarray  # centre frequency of each rfft bin
    mel: np.ndarray  # power spectrum -> mean-square signal power under each mel triangle
    bands: np.ndarray  # power spectrum -> mean-square signal power in each protocol band
    chroma: np.ndarray  # power spectrum -> chroma energy (librosa's chroma filters)
    combined: np.ndarray  # [mel | chroma | bands]: one matrix product for all three
    moments: np.ndarray  # [1 | freqs_hz]: magnitude -> (total, frequency-weighted total)

    def project(self, power: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mel_power, chroma_energy, band_power)`` of power spectra (frames x bins), in one product."""
        out = power @ self.combined
        n_mels, n_chroma = self.mel.shape[1], self.chroma.shape[1]
        return out[:, :n_mels], out[:, n_mels:n_mels + n_chroma], out[:, n_mels + n_chroma:]


def parseval_weights(n_fft: int, window: np.ndarray) -> np.ndarray:
    """Per-bin factors that turn a one-sided |rfft|^2 of a windowed frame into mean-square signal power.

    A sine of amplitude A sums to A^2/2 over its bins, so the square root of a band's
    sum is the RMS of the signal in that band, as a DAW band meter reads it.
    """
    weights = np.full(n_fft // 2 + 1, 2.0)
    weights[0] = 1.0
    if n_fft % 2 == 0:
        weights[-1] = 1.0
    return weights / (n_fft * float(np.sum(window**2)))


@functools.lru_cache(maxsize=16)
def filter_banks(config: FeatureConfig, sample_rate: int) -> FilterBanks:
    """The filter banks for ``config`` at ``sample_rate`` (cached; the first call imports librosa.filters)."""
    import librosa.filters  # heavy (numba); only here

    geometry = config.geometry(sample_rate)
    n_fft = geometry.n_fft
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as librosa/scipy 'hann'
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    weights = parseval_weights(n_fft, window)
    fmin, fmax = config.mel_range_hz(sample_rate)
    mel = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=config.n_mels, fmin=fmin, fmax=fmax, norm=None, htk=False
    )
    edges = np.asarray(BAND_EDGES_HZ)
    bands = ((freqs[None, :] >= edges[:-1, None]) & (freqs[None, :] < edges[1:, None])).astype(np.float64)
    chroma = librosa.filters.chroma(sr=sample_rate, n_fft=n_fft, n_chroma=12, tuning=config.tuning)
    mel_matrix = (mel * weights).T
    band_matrix = (bands * weights).T
    chroma_matrix = chroma.T
    return FilterBanks(
        window=window.astype(np.float32),
        freqs_hz=freqs.astype(np.float32),
        mel=np.ascontiguousarray(mel_matrix, dtype=np.float32),
        bands=np.ascontiguousarray(band_matrix, dtype=np.float32),
        chroma=np.ascontiguousarray(chroma_matrix, dtype=np.float32),
        combined=np.ascontiguousarray(np.hstack([mel_matrix, chroma_matrix, band_matrix]), dtype=np.float32),
        moments=np.ascontiguousarray(np.stack([np.ones_like(freqs), freqs], axis=1), dtype=np.float32),
    )


def frame_signal(padded: np.ndarray, geometry: FrameGeometry, count: int) -> np.ndarray:
    """``count`` frames of ``n_fft`` samples, ``hop`` apart, from the start of ``padded`` (a view)."""
    windows = np.lib.stride_tricks.sliding_window_view(padded, geometry.n_fft)
    return windows[: (count - 1) * geometry.hop + 1 : geometry.hop]


def power_spectra(frames: np.ndarray, banks: FilterBanks) -> np.ndarray:
    """|rfft|^2 of the Hann-windowed frames, float32, (frames, bins)."""
    spectrum = scipy.fft.rfft(frames * banks.window, axis=1)
    return spectrum.real**2 + spectrum.imag**2


def level_features(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rms, peak)`` of each frame, unwindowed (librosa.feature.rms over the same frame)."""
    rms = np.sqrt(np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / frames.shape[1])
    peak = np.max(np.abs(frames), axis=1) if frames.shape[0] else np.zeros(0)
    return rms.astype(np.float32), peak.astype(np.float32)


def to_db(power: np.ndarray, floor_db: float) -> np.ndarray:
    """``10 log10(power)``, floored at ``floor_db`` (so silence is the floor, never -inf or NaN)."""
    db = 10.0 * np.log10(np.maximum(power, 10.0 ** (floor_db / 10.0 - 1.0)))
    return np.maximum(db, floor_db).astype(np.float32)


def centroid_hz(power: np.ndarray, banks: FilterBanks) -> np.ndarray:
    """Magnitude-weighted mean frequency per frame (librosa.feature.spectral_centroid); 0 for silence."""
    sums = np.sqrt(power) @ banks.moments  # [total magnitude, frequency-weighted magnitude]
    total, weighted = sums[:, 0], sums[:, 1]
    return np.where(total > _TINY, weighted / np.maximum(total, _TINY), 0.0).astype(np.float32)


def flatness(power: np.ndarray) -> np.ndarray:
    """Geometric over arithmetic mean of the power spectrum (librosa.feature.spectral_flatness); 0 for silence."""
    clipped = np.maximum(power, np.float32(FLATNESS_AMIN))
    mean = np.full(power.shape[1], 1.0 / power.shape[1], dtype=power.dtype)
    arithmetic = clipped @ mean
    geometric = np.exp(np.log(clipped) @ mean)
    silent = arithmetic <= FLATNESS_AMIN * (1.0 + 1e-4)  # every bin at or below the floor
    return np.where(silent, 0.0, geometric / np.maximum(arithmetic, FLATNESS_AMIN)).astype(np.float32)


def chroma(energy: np.ndarray) -> np.ndarray:
    """12 pitch-class energies (``FilterBanks.project``) scaled so the largest is 1 (librosa.feature.chroma_stft); 0 for silence."""
    top = energy.max(axis=1, keepdims=True) if energy.shape[0] else np.zeros((0, 1), np.float32)
    return np.where(top > _TINY, energy / np.maximum(top, _TINY), 0.0).astype(np.float32)
