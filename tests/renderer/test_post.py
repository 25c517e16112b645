"""Post-processing: the one-pass colour transform equals hue rotation, then exposure, then flash, then
rounding to uint8; numpy frames and tensor frames (planar, as the embedded backend hands them over, or
interleaved) give the same result."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer import post

PALETTE = ((0.0, 0.0, 0.1), (0.2, 0.8, 0.5), (1.0, 0.5, 0.8))


@pytest.fixture
def planar() -> torch.Tensor:
    """A (3, H, W) frame with values beyond 0..1 too, as a model's can be before clipping."""
    return torch.rand(3, 24, 40, generator=torch.Generator().manual_seed(1)) * 1.2 - 0.1


def step_by_step(image: np.ndarray, hue: float, exposure: float, flash: float) -> np.ndarray:
    """The transform's definition, one operation at a time, in float64."""
    rgb = image.astype(np.float64) @ post.hue_matrix(hue).T
    rgb = rgb * 2.0 ** (2.0 * exposure - 1.0)
    rgb = rgb + (1.0 - rgb) * flash
    return np.floor(np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("hue, exposure, flash", [(0.0, 0.5, 0.0), (0.3, 0.5, 0.0), (0.0, 0.9, 0.0),
                                                  (0.0, 0.5, 0.6), (1.7, 0.2, 0.35)])
def test_the_colour_transform_is_rotation_then_exposure_then_flash(planar, hue, exposure, flash):
    interleaved = planar.permute(1, 2, 0)
    want = step_by_step(interleaved.numpy(), hue, exposure, flash)
    for image in (interleaved.numpy(), interleaved, interleaved.contiguous()):
        got = np.asarray(post.to_uint8(image, hue, exposure, flash))
        assert got.shape == want.shape and got.dtype == np.uint8 and got.flags["C_CONTIGUOUS"]
        assert np.abs(got.astype(int) - want).max() <= 1  # float32 against float64: a rounding step at most
    identity = np.asarray(post.to_uint8(interleaved))
    assert (identity == step_by_step(interleaved.numpy(), 0.0, 0.5, 0.0)).mean() > 0.99


@pytest.mark.parametrize("amount", [0.4, 1.0])
def test_palette_map_agrees_on_numpy_and_tensor_frames(planar, amount):
    image = planar.clamp(0.0, 1.0).permute(1, 2, 0)
    from_numpy = post.palette_map(image.numpy(), PALETTE, amount)
    for frame in (image, image.contiguous()):
        np.testing.assert_allclose(np.asarray(post.palette_map(frame, PALETTE, amount)), from_numpy, atol=1e-6)
    dark_to_light = post.palette_map(np.zeros((1, 1, 3), np.float32), PALETTE, 1.0)
    np.testing.assert_allclose(dark_to_light[0, 0], PALETTE[0], atol=1e-6)  # black maps to the first stop


def test_feedback_blend_agrees_on_numpy_and_tensor_frames(planar):
    previous, image = planar.permute(1, 2, 0), planar.flip(0).permute(1, 2, 0)
    want = image.numpy() * np.float32(0.3) + previous.numpy() * np.float32(0.7)
    np.testing.assert_allclose(post.blend(previous.numpy(), image.numpy(), 0.3), want, atol=1e-6)
    np.testing.assert_allclose(np.asarray(post.blend(previous, image, 0.3)), want, atol=1e-6)
