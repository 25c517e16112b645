"""Flicker: how much consecutive frames differ, the number tests and the bench report."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def frame_changes(frames: Iterable[np.ndarray]) -> np.ndarray:
    """Mean absolute change between each pair of consecutive frames, in 0..1 (1 = black <-> white)."""
    changes = []
    previous = None
    for frame in frames:
        current = np.asarray(frame, np.float32) / (255.0 if np.asarray(frame).dtype == np.uint8 else 1.0)
        if previous is not None:
            if current.shape != previous.shape:
                raise ValueError(f"frames differ in shape: {previous.shape} vs {current.shape}")
            changes.append(float(np.mean(np.abs(current - previous))))
        previous = current
    return np.asarray(changes, np.float64)


def flicker(frames: Iterable[np.ndarray]) -> float:
    """Mean frame-to-frame change (see :func:`frame_changes`); 0 for fewer than two frames."""
    changes = frame_changes(frames)
    return float(changes.mean()) if changes.size else 0.0
