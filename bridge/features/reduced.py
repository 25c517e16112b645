"""The reduced feature frame: what a sender without PCM gives, and the one way it is filled in.

A sender that streams ``/daw/pcm`` (protocol 1.1) gives the renderer the mix itself, and the
renderer's feature frames are the full ones the export computes. A sender without PCM (a v1
sender, or a v1.1 one whose audio does not arrive) gives only ``/daw/audio``: RMS, peak and the 8
band levels. :meth:`FeatureFrame.from_daw_audio <bridge.features.frame.FeatureFrame.from_daw_audio>`
makes a frame of those, with centroid and flatness estimated from the bands
(:data:`~bridge.features.frame.DAW_ESTIMATED`) and the rest missing
(:data:`~bridge.features.frame.DAW_MISSING`). That is the *reduced* frame.

Where a consumer needs every column (the embedded model's audio context), :func:`filled` fills
a reduced track in, always the same way:

- ``mel``: flat, every band at the frame's ``rms_db`` (loudness survives, timbre does not);
- ``onset``: estimated from the band levels (:func:`estimated_onsets`: a rise of the mean band
  level by :data:`ESTIMATED_ONSET_DB` from one frame to the next, a band-resolution spectral flux);
- ``chroma``: zeros (no pitch).

Conditioning uses :func:`estimated_onsets` for the onset pulse of a reduced track too, so the
onset a preview sees without PCM is the same everywhere.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from bridge.features.config import FeatureConfig
from bridge.features.frame import N_CHROMA

#: A rise of the band levels by this many dB (mean over the 8 bands, frame to frame) is an onset.
ESTIMATED_ONSET_DB = 3.0


def estimated_onsets(bands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(onset flags, strength in dB)`` estimated from band levels (n, 8) for feeds without onsets.

    Strength is the mean positive frame-to-frame rise of the band levels in dB (a band-resolution
    spectral flux); an onset is where it first climbs above :data:`ESTIMATED_ONSET_DB`. Causal.
    """
    levels = 20.0 * np.log10(np.maximum(np.nan_to_num(np.asarray(bands, np.float64), nan=0.0), 1e-5))
    rise = np.maximum(np.diff(levels, axis=0, prepend=levels[:1]), 0.0).mean(axis=1)
    above = rise > ESTIMATED_ONSET_DB
    onset = above & ~np.concatenate([[False], above[:-1]])
    return onset, rise


def filled(track: Any, n_mels: int = FeatureConfig().n_mels) -> Any:
    """``track`` with the columns a reduced (``/daw/audio``) feed lacks filled in (see the module
    docstring); a track that has them (PCM, a file) comes back as it is."""
    changes: dict[str, Any] = {}
    n = len(track)
    if getattr(track, "mel", None) is None:
        changes["mel"] = np.repeat(np.asarray(track.rms_db, np.float32)[:, None], n_mels, axis=1)
    if getattr(track, "onset", None) is None:
        bands = getattr(track, "bands", None)
        changes["onset"] = estimated_onsets(bands)[0] if bands is not None else np.zeros(n, bool)
    if getattr(track, "chroma", None) is None:
        changes["chroma"] = np.zeros((n, N_CHROMA), np.float32)
    return dataclasses.replace(track, **changes) if changes else track
