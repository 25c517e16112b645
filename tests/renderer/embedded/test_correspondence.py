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


def test_the_beats_phase_reaches_the_model_in_proportion_to_the_groove() -> None:
    """No groove (or the motion word "still"): phase 0 whatever the beat; full groove: the phase as it is;
    in between a blend that is continuous in the groove."""
    from renderer.embedded.correspondence import FULL_GROOVE, phase_by_groove, visual_params

    rng = np.random.default_rng(0)
    context = torch.from_numpy(rng.random((5, CONTEXT_DIM), dtype=np.float32))
    angle = torch.linspace(0.1, 6.0, 5)
    context[:, SCALAR["beat_sin"]], context[:, SCALAR["beat_cos"]] = torch.sin(angle), torch.cos(angle)
    context[:, SCALAR["onset_density"]] = torch.tensor([0.0, 0.5 * FULL_GROOVE, FULL_GROOVE, 0.6, 0.9])
    gated = phase_by_groove(context, torch.ones(5))
    assert visual_params(gated[:1])["beat"].item() == 0.0 and visual_params(gated[:1])["bar"].item() == 0.0
    torch.testing.assert_close(gated[2:], context[2:])  # full groove and above: untouched
    half = gated[1, [SCALAR["beat_sin"], SCALAR["beat_cos"]]]
    torch.testing.assert_close(half, 0.5 * context[1, [SCALAR["beat_sin"], SCALAR["beat_cos"]]] + torch.tensor([0.0, 0.5]))
    still = phase_by_groove(context, torch.zeros(5))  # the motion word "still"
    assert torch.all(still[:, SCALAR["beat_cos"]] == 1.0) and torch.all(still[:, SCALAR["bar_sin"]] == 0.0)
    rest = [i for i in range(CONTEXT_DIM) if i not in {SCALAR[n] for n in ("beat_sin", "beat_cos", "bar_sin", "bar_cos")}]
    torch.testing.assert_close(gated[:, rest], context[:, rest])  # nothing else changes
