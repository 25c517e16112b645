"""Contact sheets of what the embedded model draws: one look through a piece of music, as a PNG.

A sheet is a 4 x 4 grid of frames of the demo piece (:mod:`renderer.export.demo`: a kick-driven
intro, a drop and a 7/8 section), drawn by the model with one prompt -- the look's word -- at 16
moments evenly through the piece, each on its own bar's seed. So a sheet shows the look and how
it follows the music (quiet -> loud, sparse -> busy, the beat), not a hand-picked frame.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

GRID = 4
GAP = 4


@lru_cache(maxsize=1)
def demo_moments(count: int = GRID * GRID) -> tuple[np.ndarray, tuple[int, ...]]:
    """The model's audio contexts at ``count`` moments evenly through the demo piece, and their bar numbers."""
    from bridge.features import FeatureExtractor
    from renderer.embedded.context import audio_context
    from renderer.export.demo import synthesize_demo

    piece = synthesize_demo()
    track = FeatureExtractor(piece.sample_rate).analyze(piece.samples.mean(axis=0))
    tempo = piece.tempo_map
    seconds = np.linspace(0.5, piece.duration_seconds - 0.25, count)
    positions = [tempo.position_at(tempo.beat_at(s)) for s in seconds]
    beat_phase = np.array([p.beat_in_bar % 1.0 for p in positions])
    bar_phase = np.array([p.phase for p in positions])
    return audio_context(track, seconds, beat_phase, bar_phase), tuple(p.bar for p in positions)


def look_sheet(pipe, prompt: str, size: int = 256, seed: int = 0) -> np.ndarray:
    """``(GRID * size + (GRID - 1) * GAP)`` square uint8 RGB sheet of ``prompt`` through the demo piece."""
    import torch

    context, bars = demo_moments()
    meaning = pipe.prompt_row([(prompt, 1.0)])
    noise = torch.stack([torch.randn(pipe.noise_shape(1, size, size)[1:],
                                     generator=torch.Generator().manual_seed(seed * 1000 + bar)) for bar in bars])
    frames = []
    for i in range(0, len(context), 4):
        out = pipe(context[i:i + 4], meaning, noise=noise[i:i + 4], height=size, width=size, output_type="uint8")
        frames.append(out.images)
    return grid(np.concatenate(frames))


def grid(tiles: np.ndarray, columns: int = GRID) -> np.ndarray:
    """Equal-sized uint8 tiles ``(n, h, w, 3)`` in rows of ``columns``, ``GAP`` dark pixels apart."""
    n, h, w = tiles.shape[:3]
    rows = -(-n // columns)
    sheet = np.full((rows * h + (rows - 1) * GAP, columns * w + (columns - 1) * GAP, 3), 12, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * (h + GAP):r * (h + GAP) + h, c * (w + GAP):c * (w + GAP) + w] = tile
    return sheet


def write_sheet(sheet: np.ndarray, path: str | Path) -> Path:
    """Write a sheet as PNG (whole or not at all)."""
    from PIL import Image

    from bridge.files import atomic_output

    path = Path(path)
    with atomic_output(path) as tmp:
        Image.fromarray(sheet).save(tmp, format="PNG")
    return path
