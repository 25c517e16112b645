"""Your own look: a folder of images becomes a new look, and a new word, of the embedded model.

Images carry no sound, so they cannot say how a picture should follow the music; they say what it
looks like. From them come the two things a look ships with (see :mod:`.look`):

* its **tile**: the images' luma, rank-equalised (the structure counts, not the exposure), up to
  four of them side by side, mirror-folded so that it repeats without a seam: a kaleidoscope of
  the images;
* its **palette**: their colours along luma, the hues of :data:`STOPS` equal-count luma bands on a
  ramp from dark to light (light comes from the loudness, as in every palette; a palette is never
  black).

How the look moves and lights up with the music it borrows from a built-in look (``like``; by
default the starfield's square lattice, jittered, jumping on the beat, dark base and bright
structure). The model is then grown by the look (:mod:`renderer.embedded.growth`) and fine-tuned
to draw it under its word, like any other look.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from renderer.embedded.looks.look import Look
from renderer.embedded.looks.palettes import STOPS, Palette, hex_colour

#: The built-in look whose motion and shading a look from images borrows by default.
DEFAULT_LIKE = "stars"
#: Images that go into a tile (more are used for the palette only).
TILE_IMAGES = 4
_NAME = re.compile(r"^[a-z]{2,24}$")


@dataclass(frozen=True)
class OwnLook:
    """What a model folder records of a look made from images (in its decoder's config): its word,
    its palette's stops (hex, dark to light), the built-in look it moves ``like``, and how many images made it."""

    name: str
    palette: tuple[str, ...]
    like: str = DEFAULT_LIKE
    images: int = 0

    def to_config(self) -> dict[str, Any]:
        return {"palette": list(self.palette), "like": self.like, "images": self.images}

    @classmethod
    def from_config(cls, name: str, config: dict[str, Any]) -> "OwnLook":
        return cls(name, tuple(config["palette"]), str(config["like"]), int(config.get("images", 0)))

    def look(self, tile: torch.Tensor, built_in: Sequence[Look]) -> Look:
        """The :class:`Look` drawing ``tile`` (its intensities, ``(T, T)``) with the recipes of ``like``."""
        like = next(look for look in built_in if look.name == self.like)
        return Look(self.name, (self.name,), Palette(self.name, (self.name,), self.palette),
                    f"{self.name}: your images' {self.images} pictures as a mirrored tile, moving like {like.name}",
                    tile=tile_sampler(tile), line=lambda u: torch.zeros_like(u), phases=like.phases,
                    shading=like.shading)


def check_name(word: str, taken: Sequence[str]) -> str:
    """``word`` as a look name: 2-24 lower-case letters, not a word the vocabulary already has (ValueError)."""
    name = word.strip().lower()
    if not _NAME.match(name):
        raise ValueError(f"a look's word must be 2-24 letters a-z, got {word!r}")
    if name in taken:
        raise ValueError(f"{name!r} is already a word of the vocabulary (barlight looks lists them)")
    return name


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of ``(..., 3)`` values."""
    return rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=rgb.dtype)


def _square(rgb: np.ndarray, side: int) -> np.ndarray:
    """The centre square of ``(H, W, 3)`` uint8, area-resized to ``side`` x ``side``, float 0..1."""
    h, w = rgb.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = torch.from_numpy(np.ascontiguousarray(rgb[top:top + s, left:left + s])).permute(2, 0, 1)[None].float()
    return F.interpolate(crop / 255.0, size=(side, side), mode="area")[0].permute(1, 2, 0).numpy()


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank-equalised ``values`` in 0..1 (equal values share their mean rank, so flat areas stay flat)."""
    from scipy.stats import rankdata

    ranks = rankdata(values, method="average").reshape(values.shape) - 1.0
    return (ranks / max(values.size - 1, 1)).astype(np.float32)


def tile_from_images(images: Sequence[np.ndarray], size: int = 128) -> torch.Tensor:
    """``(size, size)`` intensities 0..1: the first :data:`TILE_IMAGES` images' rank-equalised luma (one
    image fills the quarter, more share it 2 x 2), mirror-folded into a tile with no seam."""
    if not images:
        raise ValueError("no images")
    quarter = size // 2
    picks = list(images[:TILE_IMAGES])
    if len(picks) == 1:
        mosaic = _ranks(luma(_square(picks[0], quarter)))
    else:
        cell = quarter // 2
        cells = [_ranks(luma(_square(picks[i % len(picks)], cell))) for i in range(4)]
        mosaic = np.block([[cells[0], cells[1]], [cells[2], cells[3]]])
    top = np.concatenate([mosaic, mosaic[:, ::-1]], 1)
    return torch.from_numpy(np.ascontiguousarray(np.concatenate([top, top[::-1]], 0)))


def palette_from_images(images: Sequence[np.ndarray], stops: int = STOPS) -> tuple[str, ...]:
    """``stops`` hex colours, dark to light: the hue of each equal-count luma band of all the images'
    pixels (its mean colour at full value), darkened to a luma ramp from 0.25 to 0.9 where it can reach
    it, and never brighter than a later stop."""
    pixels = np.concatenate([_square(image, 64).reshape(-1, 3) for image in images])
    bands = np.array_split(np.argsort(luma(pixels), kind="stable"), stops)
    hues = np.stack([pixels[band].mean(0) for band in bands])
    hues = hues / np.maximum(hues.max(1, keepdims=True), 1e-3)
    full = np.maximum(luma(hues), 1e-3)
    ramp = np.minimum(np.linspace(0.25, 0.9, stops), full)
    ramp = np.minimum.accumulate(ramp[::-1])[::-1]  # no stop brighter than a later one
    return tuple(hex_colour(colour) for colour in hues * (ramp / full)[:, None])


def tile_sampler(tile: torch.Tensor):
    """``(u1, u2) -> intensity``: the nearest texel of ``tile`` (rows along ``u1``), as a look's ``tile``."""
    size = tile.shape[-1]

    def sample(u1: torch.Tensor, u2: torch.Tensor) -> torch.Tensor:
        i = (u1 * size).long().clamp(0, size - 1)
        j = (u2 * size).long().clamp(0, size - 1)
        return tile[i, j]

    return sample
