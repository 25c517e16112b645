"""The looks: deterministic, resolution-independent, distinct, driven by the documented qualities."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from renderer.embedded import metrics
from renderer.embedded.context import CONTEXT_DIM, SCALAR
from renderer.embedded.correspondence import image_qualities
from renderer.embedded.looks import (LOOK_NAMES, LOOKS, NOISE_CHANNELS, PALETTES, grid_shape, layout_bank,
                                     look_by_word, look_weights, make_scene, mix, palette_by_word, punch, render,
                                     scene_from_context, targets)
from renderer.embedded.looks.layout import coordinates
from renderer.embedded.looks.palettes import palette_tensor


def noise(batch: int, height: int, width: int, seed: int) -> torch.Tensor:
    """Composition noise for ``batch`` frames of ``height`` x ``width``."""
    return torch.randn(batch, NOISE_CHANNELS, *grid_shape(height, width), generator=torch.Generator().manual_seed(seed))


def frames(rgb: torch.Tensor) -> np.ndarray:
    return rgb.permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_same_inputs_same_picture_and_noise_sets_the_composition(look: str) -> None:
    scene = make_scene(2)
    n = noise(1, 128, 128, 0).expand(2, -1, -1, -1).clone()
    n[1] = noise(1, 128, 128, 1)[0]
    a = render(look, scene, n, 128, 128)
    b = render(look, scene, n, 128, 128)
    assert torch.equal(a, b)
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert (a[0] - a[1]).abs().mean() > 0.02


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_512_is_the_256_picture_at_twice_the_sampling_rate(look: str) -> None:
    scene = make_scene(2, edges=torch.tensor([0.2, 0.9]), beat=torch.tensor([0.0, 0.1]))
    n = noise(2, 256, 256, 2)
    small = render(look, scene, n, 256, 256)
    big = F.interpolate(render(look, scene, n, 512, 512), size=(256, 256), mode="area")
    assert (small - big).abs().mean() < 0.05  # point-sampled sharp edges alias a little differently


def test_a_wide_frame_gets_a_wider_grid_not_a_stretched_square() -> None:
    """Cells stay square at any aspect: a 16:9 frame's grid is 64 x 112 cells over x in [-1.75, 1.75]."""
    assert grid_shape(144, 256) == (64, 112) and grid_shape(256, 144) == (112, 64) and grid_shape(64, 64) == (64, 64)
    xy = coordinates(64, 112)
    cell = 2.0 / 64
    assert torch.allclose(xy[1, 0, :2], torch.tensor([-1.75 + cell / 2, -1.75 + 1.5 * cell]))
    assert torch.allclose(xy[2, :2, 0], torch.tensor([-1 + cell / 2, -1 + 1.5 * cell]))
    scene = make_scene(1, edges=0.5)
    wide = render("cells", scene, noise(1, 144, 256, 3), 144, 256)
    assert wide.shape == (1, 3, 144, 256)


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_edges_add_fine_structure(look: str) -> None:
    levels = torch.linspace(0.0, 1.0, 5)
    scene = make_scene(15, edges=levels.repeat(3), luminance=0.6)
    n = noise(3, 256, 256, 4).repeat_interleave(5, 0)
    density = image_qualities(frames(render(look, scene, n, 256, 256)))["edge_density"]
    curve = density.reshape(3, 5).mean(axis=0)
    assert curve[-1] > 1.2 * curve[0], curve


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_louder_is_lighter_and_brighter_is_warmer(look: str) -> None:
    scene = make_scene(8, luminance=torch.linspace(0.05, 1.0, 8), temperature=torch.linspace(0.0, 1.0, 8))
    q = image_qualities(frames(render(look, scene, noise(1, 128, 128, 5).expand(8, -1, -1, -1), 128, 128)))
    assert np.all(np.diff(q["luminance"]) > 0)
    assert np.all(np.diff(q["temperature"]) > 0)


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_fine_structured_detail_and_colour(look: str) -> None:
    scene = make_scene(3, edges=torch.tensor([0.1, 0.4, 0.8]), luminance=0.6, hue=torch.tensor([0.1, 0.5, 0.8]),
                       palette=look_by_word(look).palette)
    rgb = frames(render(look, scene, noise(3, 512, 512, 6), 512, 512))
    assert np.median(metrics.detail_share(rgb)) >= 0.2
    assert np.median(metrics.residual_autocorr(rgb)) >= 0.6
    if not palette_by_word(look_by_word(look).palette).monochrome:
        assert np.median(metrics.colourfulness(rgb)) >= 0.15


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_beat_motion_repeats_each_beat_and_stops_without_groove(look: str) -> None:
    beats = torch.tensor([0.0, 0.1, 0.999999, 0.0, 0.1])
    scene = make_scene(5, beat=beats, bar=0.0, groove=torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0]))
    rgb = render(look, scene, noise(1, 128, 128, 7).expand(5, -1, -1, -1), 128, 128)
    assert (rgb[0] - rgb[1]).abs().mean() > 0.005  # the punch moves the picture
    assert (rgb[0] - rgb[2]).abs().mean() < 0.01  # and it is back by the next beat


def test_the_classifier_tells_the_looks_apart_on_held_out_noise_and_palettes() -> None:
    per_look, rng = 6, np.random.default_rng(0)
    features, labels, held_out = [], [], []
    for i, look in enumerate(LOOK_NAMES):
        names = [PALETTES[k].name for k in rng.integers(0, len(PALETTES), 2 * per_look)]
        g = torch.Generator().manual_seed(100 + i)
        scene = make_scene(2 * per_look, palette=names, edges=torch.rand(2 * per_look, generator=g),
                           luminance=0.3 + 0.7 * torch.rand(2 * per_look, generator=g),
                           beat=torch.rand(2 * per_look, generator=g))
        rgb = render(look, scene, noise(2 * per_look, 256, 256, 1000 + i), 256, 256)
        features.append(metrics.structure_descriptors(frames(rgb)))
        labels += [look] * (2 * per_look)
        held_out += [False] * per_look + [True] * per_look
    x, y, test = np.concatenate(features), np.array(labels), np.array(held_out)
    assert metrics.held_out_accuracy(x[~test], y[~test], x[test], y[test]) >= 0.9


def test_phases_are_linear_in_the_layout_bank() -> None:
    """What keeps level lines smooth at any size: each phase is a weighted sum of the bank's fields."""
    scene = make_scene(2, edges=torch.tensor([0.2, 0.8]))
    bank = layout_bank(noise(2, 64, 64, 9))
    wanted = targets(look_weights("contours", 2), scene, bank)
    coefficients, phases = wanted.coefficients, mix(wanted.coefficients, bank)
    assert coefficients.shape == (2, len(LOOKS), 3, bank.shape[1]) and wanted.shading.shape == (2, 4, 64, 64)
    manual = sum(coefficients[:, :, :, j, None, None] * bank[:, None, None, j] for j in range(bank.shape[1]))
    assert torch.allclose(phases, manual, atol=1e-4)
    assert (coefficients[1, :, :, 1:].abs().sum() > coefficients[0, :, :, 1:].abs().sum())  # edges: denser


def test_scene_from_context_reads_the_documented_qualities() -> None:
    ctx = torch.zeros(2, CONTEXT_DIM)
    ctx[:, SCALAR["loudness"]] = torch.tensor([0.2, 0.9])
    ctx[:, SCALAR["onset_density"]] = torch.tensor([0.0, 1.0])
    ctx[:, SCALAR["beat_sin"]], ctx[:, SCALAR["beat_cos"]] = 1.0, 0.0  # a quarter through the beat
    ctx[:, SCALAR["bar_sin"]], ctx[:, SCALAR["bar_cos"]] = 0.0, -1.0  # half through the bar
    scene = scene_from_context(ctx, palette=["fire", "ice"], scale=0.3, motion=2.0)
    assert torch.allclose(scene.luminance, torch.tensor([0.2, 0.9]))
    assert torch.allclose(scene.groove, torch.tensor([0.0, 1.0]))
    assert torch.allclose(scene.beat, torch.tensor([0.25, 0.25]))
    assert torch.allclose(scene.bar, torch.tensor([0.5, 0.5]))
    assert torch.allclose(scene.amplitude, torch.tensor([0.0, 2.0]))
    assert torch.equal(scene.palette, palette_tensor(["fire", "ice"], 2))
    assert scene[1:].batch == 1 and torch.equal(scene[1:].scale, torch.tensor([0.3]))


def test_a_blend_of_two_looks_lies_between_them() -> None:
    scene = make_scene(1, edges=0.5)
    n = noise(1, 128, 128, 8)
    a, b = render("cells", scene, n, 128, 128), render("flow", scene, n, 128, 128)
    weights = 0.5 * (look_weights("cells", 1) + look_weights("flow", 1))
    both = render(weights, scene, n, 128, 128)
    assert (both - a).abs().mean() > 0.01 and (both - b).abs().mean() > 0.01
    assert (both - 0.5 * (a + b)).abs().mean() < 0.5 * (a - b).abs().mean()


def test_vocabulary_words_are_unique_and_unknown_words_name_the_vocabulary() -> None:
    words = [w for look in LOOKS for w in look.words] + [w for p in PALETTES for w in p.words]
    assert len(words) == len(set(words))
    assert len(LOOKS) >= 10 and len(PALETTES) >= 10
    assert look_by_word("Rings").name == "tunnel" and palette_by_word("FLAME").name == "fire"
    with pytest.raises(ValueError, match="looks: tunnel"):
        look_by_word("teapot")
    with pytest.raises(ValueError, match="palettes: neon"):
        palette_by_word("teapot")
    with pytest.raises(ValueError, match="unknown qualities"):
        make_scene(1, loudness=0.5)


def test_punch_is_zero_on_the_beat_peaks_early_and_returns() -> None:
    phase = torch.linspace(0.0, 1.0, 1001)
    p = punch(phase)
    assert p[0] == 0 and p[-1] < 1e-6
    assert abs(phase[int(torch.argmax(p))].item() - 0.08) < 0.002
    assert p[300] < 0.1  # most of the return is over by a third of the beat
