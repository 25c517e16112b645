"""The picture measures: what they return on pictures whose answer is known."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from renderer.embedded import metrics


def grey(luma: np.ndarray) -> np.ndarray:
    return np.repeat(luma[..., None], 3, axis=-1)


def test_detail_residual_is_the_luma_minus_its_64_pixel_version_blown_back_up() -> None:
    rgb = np.random.default_rng(0).random((2, 200, 300, 3))
    y = torch.from_numpy(metrics.luma(rgb))[:, None]
    coarse = F.interpolate(F.interpolate(y, size=(64, 64), mode="area"), size=(200, 300), mode="bilinear",
                           align_corners=False)
    assert np.allclose(metrics.detail_residual(rgb), (y - coarse)[:, 0].numpy(), atol=1e-12)


def test_smooth_pictures_have_no_detail_and_fine_lines_have_structured_detail() -> None:
    x = np.linspace(0, 1, 512)
    ramp = grey(np.tile(x, (512, 1))[None])
    lines = np.zeros((1, 512, 512))
    lines[:, :, (np.arange(512) % 12) < 3] = 1.0
    grain = np.random.default_rng(1).random((1, 512, 512))
    assert metrics.detail_share(ramp)[0] < 1e-3
    assert metrics.detail_share(grey(lines))[0] > 0.9
    assert metrics.residual_autocorr(grey(lines))[0] > 0.6
    assert abs(metrics.residual_autocorr(grey(grain))[0]) < 0.15


def test_colourfulness_is_zero_for_greys_and_grows_with_saturated_contrast() -> None:
    greys = grey(np.random.default_rng(2).random((1, 64, 64)))
    checker = np.zeros((1, 64, 64, 3))
    checker[:, ::2, :, 0] = 1.0  # red rows
    checker[:, 1::2, :, 1] = 1.0  # green rows
    assert metrics.colourfulness(greys)[0] < 1e-12
    assert metrics.colourfulness(checker)[0] > 0.9
    assert metrics.colourfulness(0.5 * checker)[0] < metrics.colourfulness(checker)[0]


def test_structure_descriptors_ignore_colour_and_see_orientation() -> None:
    y = np.zeros((256, 256))
    y[:, (np.arange(256) % 16) < 4] = 1.0  # vertical stripes: horizontal gradients
    red = np.zeros((1, 256, 256, 3)); red[..., 0] = y
    green = np.zeros((1, 256, 256, 3)); green[..., 1] = y
    a, b = metrics.structure_descriptors(red), metrics.structure_descriptors(green)
    assert np.allclose(a, b, atol=1e-9)  # rank equalisation and normalised histograms: level-free
    orientation = a[0, :metrics.ORIENTATION_BINS]
    assert np.argmax(orientation) == 0 and orientation[0] > 0.9
    rotated = metrics.structure_descriptors(np.transpose(red, (0, 2, 1, 3)))[0, :metrics.ORIENTATION_BINS]
    assert np.argmax(rotated) == metrics.ORIENTATION_BINS // 2


def test_ridge_classifier_separates_classes_and_reports_held_out_accuracy() -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(4, 6)) * 3
    labels = np.repeat(np.array(["a", "b", "c", "d"]), 40)
    x = centres[np.repeat(np.arange(4), 40)] + rng.normal(size=(160, 6))
    train = np.arange(160) % 2 == 0
    assert metrics.held_out_accuracy(x[train], labels[train], x[~train], labels[~train]) > 0.95
    shuffled = rng.permutation(labels)
    assert metrics.held_out_accuracy(x[train], shuffled[train], x[~train], shuffled[~train]) < 0.6


def test_motion_energy_autocorrelation_finds_the_beat_period() -> None:
    t = np.arange(240)
    beat = np.exp(-(t % 15) / 3.0)  # a punch every 15 frames
    assert metrics.autocorr_peak_lag(beat + 0.05 * np.random.default_rng(4).random(240)) == 15
    assert metrics.autocorr_peak_lag(np.ones(100)) == 0
    frames = np.zeros((3, 8, 8, 3)); frames[1] = 1.0
    assert np.allclose(metrics.motion_energy(frames), [1.0, 1.0])
