"""The looks' targets follow the documented correspondence in every look; the quality measures are right."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from renderer.embedded.context import CONTEXT_DIM, SCALAR
from renderer.embedded.correspondence import image_qualities
from renderer.embedded.looks import LOOK_NAMES, NOISE_CHANNELS, look_by_word, render, scene_from_context


def random_context(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, CONTEXT_DIM, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_target_qualities_follow_each_audio_quality(look: str) -> None:
    ctx = random_context(64, 0)
    noise = torch.randn(1, NOISE_CHANNELS, 64, 64, generator=torch.Generator().manual_seed(1)).expand(64, -1, -1, -1)
    scene = scene_from_context(ctx, palette=look_by_word(look).palette)
    q = image_qualities(render(look, scene, noise, 128, 128).permute(0, 2, 3, 1).numpy())
    edges = 0.6 * ctx[:, SCALAR["onset_density"]] + 0.4 * ctx[:, SCALAR["noisiness"]]
    assert spearmanr(ctx[:, SCALAR["loudness"]], q["luminance"])[0] > 0.9
    assert spearmanr(ctx[:, SCALAR["brightness"]], q["temperature"])[0] > 0.9
    assert spearmanr(edges, q["edge_density"])[0] > 0.8


def test_quality_measures_on_known_images() -> None:
    flat_dark = np.full((1, 32, 32, 3), 0.1, np.float32)
    flat_bright = np.full((1, 32, 32, 3), 0.9, np.float32)
    warm = np.zeros((1, 32, 32, 3), np.float32); warm[..., 0] = 0.8; warm[..., 2] = 0.2
    stripes = np.zeros((1, 64, 64, 3), np.float32); stripes[:, :, ::4] = 1.0
    q = image_qualities(np.concatenate([flat_dark, flat_bright, warm]))
    assert q["luminance"][0] < q["luminance"][1]
    assert q["temperature"][2] > 0.5 and abs(q["temperature"][0]) < 1e-6
    assert q["edge_density"][0] == 0.0 and image_qualities(stripes)["edge_density"][0] > 0.3
