"""Onset strength (spectral flux on mel dB) and causal peak picking, shared by streaming and whole-file.

Both are plain functions of arrays plus the little state they carry between calls
(the previous mel frame; the last onset), so feeding a signal in pieces gives the same
onsets as feeding it at once. A peak at frame ``k`` is confirmed once frame
``k + post_frames`` exists: that is the only delay streaming adds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.features.config import FeatureConfig


def spectral_flux(mel_db: np.ndarray, history_db: np.ndarray, floor_db: float) -> np.ndarray:
    """Mean over mel bands of the positive dB rise, delayed by ``len(history_db) - 1`` frames.

    ``history_db`` holds the ``lag + 1`` mel frames before ``mel_db[0]`` (the floor before
    the signal starts). Value ``i`` is the rise from frame ``i - lag - 1`` to ``i - lag``:
    with ``lag = n_fft // (2 * hop)`` that compares windows *ending* at the frame centres,
    so a click is stamped at (or just after) its time, as librosa.onset.onset_strength
    (center=True) does. Values below ``floor_db`` count as ``floor_db``.
    """
    stacked = np.maximum(np.vstack([history_db, mel_db]), np.float32(floor_db))
    count = len(mel_db)
    rise = stacked[1:count + 1] - stacked[:count]
    return np.maximum(rise, 0.0).mean(axis=1).astype(np.float32)


@dataclass(frozen=True)
class PeakPicking:
    """Peak-picking parameters in frames, derived from a config and a hop."""

    pre_max: int
    post: int
    pre_avg: int
    wait: int
    delta: float
    threshold: float

    @classmethod
    def from_config(cls, config: FeatureConfig, hop_seconds: float) -> PeakPicking:
        def frames(seconds: float) -> int:
            return max(1, round(seconds / hop_seconds))

        return cls(
            pre_max=frames(config.onset_pre_max_seconds),
            post=config.onset_post_frames,
            pre_avg=frames(config.onset_pre_avg_seconds),
            wait=frames(config.onset_wait_seconds),
            delta=config.onset_delta_db,
            threshold=config.onset_threshold_db,
        )

    @property
    def history(self) -> int:
        """Past frames a decision needs besides the frame itself."""
        return max(self.pre_max, self.pre_avg)


def pick_onsets(strength: np.ndarray, base: int, start: int, stop: int, last_onset: int,
                params: PeakPicking) -> tuple[np.ndarray, int]:
    """Decide frames ``start..stop-1`` (absolute indices); ``strength[i]`` is frame ``base + i``.

    Frame ``k`` is an onset when its strength is the maximum of frames ``k - pre_max ..
    k + post``, at least ``delta`` above the mean of frames ``k - pre_avg .. k + post``, at
    least ``threshold``, and more than ``wait`` frames after the previous onset
    (``last_onset``). Frames before ``base`` count as strength 0 (silence before the
    start); the caller supplies ``strength`` through frame ``stop - 1 + post``.
    Returns the onset frames (absolute) and the new ``last_onset``.
    """
    if stop <= start:
        return np.zeros(0, dtype=np.int64), last_onset
    lead = params.history
    first = start - lead  # absolute frame of the first context value
    context = np.zeros(stop + params.post - first, dtype=np.float64)
    lo = max(first, base)
    context[lo - first:] = strength[lo - base: stop + params.post - base]
    width = lead + 1 + params.post
    windows = np.lib.stride_tricks.sliding_window_view(context, width)  # one row per decided frame
    values = context[lead: lead + (stop - start)]
    local_max = windows[:, lead - params.pre_max:].max(axis=1)
    local_mean = windows[:, lead - params.pre_avg:].mean(axis=1)
    candidates = np.flatnonzero(
        (values >= local_max) & (values >= local_mean + params.delta) & (values >= params.threshold)
    ) + start
    onsets = []
    for frame in candidates:
        if frame - last_onset > params.wait:
            onsets.append(frame)
            last_onset = int(frame)
    return np.asarray(onsets, dtype=np.int64), last_onset
