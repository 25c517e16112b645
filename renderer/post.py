"""Post-diffusion image operations driven by conditioning targets (HxWx3 float 0..1).

Each takes a numpy array or a torch tensor and returns the same kind: a frame the backend left on
the GPU is post-processed there, and only the uint8 result travels to the host. Constants reach
the device through pinned memory (:func:`renderer.transfer.to_device`), so the CPU never waits for the GPU here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    """Recolour by luminance along the palette's gradient (dark -> light), mixed in by ``amount``.

    A tensor is worked on as planes (3, H*W) and comes back as an HxWx3 view of them, as the
    embedded backend's frames arrive (a third of the time of the interleaved passes at 720p)."""
    if amount <= 0.0:
        return image
    lut = _palette_lut(tuple(tuple(float(c) for c in colour) for colour in palette))
    if isinstance(image, np.ndarray):
        luma = image @ _LUMA
        index = np.clip(luma * (_LUT_SIZE - 1) + 0.5, 0, _LUT_SIZE - 1).astype(np.intp)
        mapped = lut[index]
        return mapped if amount >= 1.0 else blend(image, mapped, amount)
    import torch

    h, w, _ = image.shape
    planes = image.permute(2, 0, 1).reshape(3, h * w)
    luma = torch.mm(_like(image, _LUMA).view(1, 3), planes)
    index = luma.mul_(_LUT_SIZE - 1).add_(0.5).clamp_(0, _LUT_SIZE - 1).to(torch.int32).view(-1)
    mapped = _like(image, lut.T).index_select(1, index)
    out = mapped if amount >= 1.0 else blend(planes, mapped, amount)
    return out.view(3, h, w).permute(1, 2, 0)


def blend(previous: Any, image: Any, amount: float) -> Any:
    """``image * amount + previous * (1 - amount)`` (one pass on a tensor): the feedback of a backend without
    img2img, and the palette's mix."""
    if isinstance(image, np.ndarray):
        return image * np.float32(amount) + previous * np.float32(1.0 - amount)
    return previous.lerp(image, float(amount))


def hue_matrix(turns: float) -> np.ndarray:
    """The 3 x 3 matrix rotating hue by ``turns`` (1 = full circle) about the grey axis (luminance kept roughly)."""
    angle = 2.0 * np.pi * (turns % 1.0)
    cos, sin = np.cos(angle), np.sin(angle)
    k = 1.0 / 3.0
    sq = np.sqrt(k)
    return np.array([
        [cos + (1 - cos) * k, k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin],
        [k * (1 - cos) + sq * sin, cos + k * (1 - cos), k * (1 - cos) - sq * sin],
        [k * (1 - cos) - sq * sin, k * (1 - cos) + sq * sin, cos + k * (1 - cos)],
    ])


@dataclass(frozen=True)
class ColourTransform:
    """``rgb -> matrix @ rgb + offset``: hue rotation, exposure and flash composed into one affine map.

    All three are affine in the colour, so the frame is touched once for them (at 1280 x 720 the
    three passes and the uint8 conversion took 28 ms on two CPU threads, this 11 ms)."""

    matrix: np.ndarray  # (3, 3)
    offset: np.ndarray  # (3,)

    @classmethod
    def of(cls, hue: float = 0.0, exposure: float = 0.5, flash: float = 0.0) -> ColourTransform:
        """Rotate hue by ``hue`` turns, then a gain of ``2 ** (2 * exposure - 1)`` stops (0.5: none), then
        move toward white by ``flash`` (0 = unchanged, 1 = white)."""
        flash = max(float(flash), 0.0)
        gain = 2.0 ** (2.0 * float(exposure) - 1.0) * (1.0 - flash)
        return cls(hue_matrix(hue) * gain, np.full(3, flash))

    def to_uint8(self, image: Any) -> Any:
        """``image`` (HxWx3 float, numpy or tensor) mapped, clipped to 0..1 and rounded to uint8 (C-contiguous)."""
        scale = 255.0
        if isinstance(image, np.ndarray):
            h, w, _ = image.shape
            out = image.reshape(-1, 3) @ (self.matrix * scale).T.astype(np.float32)
            out += (self.offset * scale).astype(np.float32)
            np.clip(out, 0.0, scale, out=out)
            out += np.float32(0.5)
            return out.astype(np.uint8).reshape(h, w, 3)
        import torch

        h, w, _ = image.shape
        planes = image.permute(2, 0, 1).reshape(3, h * w)  # a view when the backend's frame is planar (C, H, W)
        out = torch.addmm(_like(image, (self.offset * scale).astype(np.float32)).view(3, 1),
                          _like(image, (self.matrix * scale).astype(np.float32)), planes)
        return out.clamp_(0.0, scale).add_(0.5).to(torch.uint8).view(3, h, w).permute(1, 2, 0).contiguous()


def to_uint8(image: Any, hue: float = 0.0, exposure: float = 0.5, flash: float = 0.0) -> Any:
    """The HxWx3 uint8 frame of ``image`` after :class:`ColourTransform` ``.of(hue, exposure, flash)``."""
    return ColourTransform.of(hue, exposure, flash).to_uint8(image)
