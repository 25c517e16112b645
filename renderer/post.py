"""Post-diffusion image operations driven by conditioning targets (HxWx3 float 0..1).

Each takes a numpy array or a torch tensor and returns the same kind: a frame the backend left on
the GPU is post-processed there, and only the uint8 result travels to the host. Constants reach
the device through pinned memory (:func:`renderer.transfer.to_device`), so the CPU never waits for the GPU here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


_LUT_SIZE = 1024


@lru_cache(maxsize=32)
def _palette_lut(palette: tuple[tuple[float, ...], ...]) -> np.ndarray:
    """The palette's dark -> light gradient sampled at ``_LUT_SIZE`` luminance steps."""
    stops = np.asarray(palette, np.float32)
    pos = np.linspace(0.0, 1.0, _LUT_SIZE, dtype=np.float32) * (len(stops) - 1)
    lo = np.floor(pos).astype(np.int64).clip(0, len(stops) - 2)
    frac = (pos - lo)[:, None]
    return stops[lo] * (1.0 - frac) + stops[lo + 1] * frac


def _like(image: Any, array: np.ndarray) -> Any:
    """``array`` as ``image``'s kind: itself for numpy, else a tensor on ``image``'s device (a pinned,
    non-blocking copy on CUDA: a plain copy from pageable memory would wait for the GPU's queue)."""
    if isinstance(image, np.ndarray):
        return array
    import torch

    from renderer.transfer import to_device

    return to_device(torch.from_numpy(np.ascontiguousarray(array)).to(image.dtype), image.device)


def palette_map(image: Any, palette: Sequence[Sequence[float]], amount: float) -> Any:
    """Recolour by luminance along the palette's gradient (dark -> light), mixed in by ``amount``."""
    if amount <= 0.0:
        return image
    lut = _palette_lut(tuple(tuple(float(c) for c in colour) for colour in palette))
    luma = image @ _like(image, _LUMA)
    if isinstance(image, np.ndarray):
        index = np.clip(luma * (_LUT_SIZE - 1) + 0.5, 0, _LUT_SIZE - 1).astype(np.intp)
    else:
        index = (luma * (_LUT_SIZE - 1) + 0.5).clamp(0, _LUT_SIZE - 1).long()
    mapped = _like(image, lut)[index]
    if amount >= 1.0:
        return mapped
    return image * np.float32(1.0 - amount) + mapped * np.float32(amount)


def rotate_hue(image: Any, turns: float) -> Any:
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
    return image @ _like(image, m.T)


def expose(image: Any, exposure: float) -> Any:
    """Gain of ``2 ** (2 * exposure - 1)`` stops: 0.5 leaves the image as it is."""
    if exposure == 0.5:
        return image
    return image * np.float32(2.0 ** (2.0 * exposure - 1.0))


def flash(image: Any, amount: float) -> Any:
    """Brightness pulse: move toward white by ``amount`` (0 = unchanged, 1 = white)."""
    if amount <= 0.0:
        return image
    return image + (1.0 - image) * amount


def to_uint8(image: Any) -> Any:
    if isinstance(image, np.ndarray):
        return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    import torch

    return (image.clamp(0.0, 1.0) * 255.0 + 0.5).to(torch.uint8)
