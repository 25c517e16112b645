"""Post-diffusion image operations driven by conditioning targets (pure numpy, HxWx3 float 0..1)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def palette_map(image: np.ndarray, palette: Sequence[Sequence[float]], amount: float) -> np.ndarray:
    """Recolour by luminance along the palette's gradient (dark -> light), mixed in by ``amount``."""
    if amount <= 0.0:
        return image
    stops = np.asarray(palette, np.float32)
    luma = np.clip(image @ _LUMA, 0.0, 1.0)
    pos = luma * (len(stops) - 1)
    lo = np.floor(pos).astype(np.int64).clip(0, len(stops) - 2)
    frac = (pos - lo)[..., None]
    mapped = stops[lo] * (1.0 - frac) + stops[lo + 1] * frac
    return image * (1.0 - amount) + mapped * amount


def rotate_hue(image: np.ndarray, turns: float) -> np.ndarray:
    """Rotate hue by ``turns`` (1 = full circle) about the grey axis (luminance kept roughly)."""
    if turns % 1.0 == 0.0:
        return image
    angle = 2.0 * np.pi * turns
    cos, sin = np.cos(angle), np.sin(angle)
    k = 1.0 / 3.0
    sq = np.sqrt(k)
    m = np.array([
        [cos + (1 - cos) * k, k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin],
        [k * (1 - cos) + sq * sin, cos + k * (1 - cos), k * (1 - cos) - sq * sin],
        [k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin, cos + k * (1 - cos)],
    ], np.float32)
    return image @ m.T


def expose(image: np.ndarray, exposure: float) -> np.ndarray:
    """Gain of ``2 ** (2 * exposure - 1)`` stops: 0.5 leaves the image as it is."""
    if exposure == 0.5:
        return image
    return image * np.float32(2.0 ** (2.0 * exposure - 1.0))


def flash(image: np.ndarray, amount: float) -> np.ndarray:
    """Brightness pulse: move toward white by ``amount`` (0 = unchanged, 1 = white)."""
    if amount <= 0.0:
        return image
    return image + (1.0 - image) * amount


def to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
