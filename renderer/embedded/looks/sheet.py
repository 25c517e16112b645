"""Contact sheets: one look across loudness, edges and beat, as a uint8 image (for docs and ``barlight looks``)."""

from __future__ import annotations

import numpy as np
import torch

EDGES = (0.0, 0.33, 0.67, 1.0)  # one row each
LOUDNESS = (0.35, 0.6, 0.85, 1.0)  # one column each, with ...
TEMPERATURE = (0.3, 0.45, 0.6, 0.75)
BEAT = (0.0, 0.08, 0.25, 0.5)


def contact_sheet(look: str, size: int = 256, palette: str | None = None, seed: int = 0, gap: int = 4) -> np.ndarray:
    """A 4 x 4 grid ``(4 size + 3 gap, same, 3)`` uint8: rows edges 0 -> 1, columns louder, warmer, later in the beat."""
    from renderer.embedded.looks import NOISE_CHANNELS, look_by_word, make_scene, render
    from renderer.embedded.looks.scene import coords_grid

    chosen = look_by_word(look)
    n = len(EDGES) * len(LOUDNESS)
    edges = torch.tensor(EDGES).repeat_interleave(len(LOUDNESS))
    scene = make_scene(n, palette=palette or chosen.palette, edges=edges,
                       luminance=torch.tensor(LOUDNESS).repeat(len(EDGES)),
                       temperature=torch.tensor(TEMPERATURE).repeat(len(EDGES)),
                       beat=torch.tensor(BEAT).repeat(len(EDGES)), groove=1.0, hue=0.6, hue_focus=0.5)
    noise = torch.randn(1, NOISE_CHANNELS, size // 8, size // 8, generator=torch.Generator().manual_seed(seed))
    rgb = render(chosen, scene, noise.expand(n, -1, -1, -1).contiguous(), coords_grid(size, size, batch=n))
    tiles = (rgb.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    side = 4 * size + 3 * gap
    sheet = np.full((side, side, 3), 16, np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, 4)
        sheet[r * (size + gap):r * (size + gap) + size, c * (size + gap):c * (size + gap) + size] = tile
    return sheet
