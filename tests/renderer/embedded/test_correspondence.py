"""The procedural targets follow the documented correspondence; the noise sets the composition."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import spearmanr

from renderer.embedded.context import CONTEXT_DIM, SCALAR
from renderer.embedded.correspondence import image_qualities, target_images


def random_context(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, CONTEXT_DIM, generator=torch.Generator().manual_seed(seed))


def test_target_qualities_follow_each_audio_quality() -> None:
    ctx = random_context(160, 0)
    noise = torch.randn(160, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    q = image_qualities(target_images(ctx, noise).permute(0, 2, 3, 1).numpy())
    edges = 0.6 * ctx[:, SCALAR["onset_density"]] + 0.4 * ctx[:, SCALAR["noisiness"]]
    assert spearmanr(ctx[:, SCALAR["loudness"]], q["luminance"])[0] > 0.95
    assert spearmanr(ctx[:, SCALAR["brightness"]], q["temperature"])[0] > 0.95
    assert spearmanr(edges, q["edge_density"])[0] > 0.9


def test_noise_sets_composition_and_beat_moves_it() -> None:
    ctx = random_context(1, 2).repeat(3, 1)
    noise = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(3)).repeat(3, 1, 1, 1)
    noise[2] = torch.randn(3, 64, 64, generator=torch.Generator().manual_seed(4))
    img = target_images(ctx, noise)
    assert torch.equal(img[0], img[1])
    assert (img[0] - img[2]).abs().mean() > 0.01
    moved = ctx[:1].clone()
    moved[0, SCALAR["beat_sin"]], moved[0, SCALAR["beat_cos"]] = -ctx[0, SCALAR["beat_sin"]], -ctx[0, SCALAR["beat_cos"]]
    assert (target_images(moved, noise[:1]) - img[:1]).abs().mean() > 0.005


def test_quality_measures_on_known_images() -> None:
    flat_dark = np.full((1, 32, 32, 3), 0.1, np.float32)
    flat_bright = np.full((1, 32, 32, 3), 0.9, np.float32)
    warm = np.zeros((1, 32, 32, 3), np.float32); warm[..., 0] = 0.8; warm[..., 2] = 0.2
    stripes = np.zeros((1, 64, 64, 3), np.float32); stripes[:, :, ::4] = 1.0
    q = image_qualities(np.concatenate([flat_dark, flat_bright, warm]))
    assert q["luminance"][0] < q["luminance"][1]
    assert q["temperature"][2] > 0.5 and abs(q["temperature"][0]) < 1e-6
    assert q["edge_density"][0] == 0.0 and image_qualities(stripes)["edge_density"][0] > 0.3
