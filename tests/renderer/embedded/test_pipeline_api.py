"""The embedded pipeline's interface, on the tiny randomly initialised config."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from renderer.embedded import CONTEXT_DIM, BarlightPipeline, tiny_pipeline


@pytest.fixture(scope="module")
def pipe() -> BarlightPipeline:
    torch.set_num_threads(2)
    return tiny_pipeline(seed=0)


def test_call_shapes_and_range(pipe: BarlightPipeline) -> None:
    ctx = np.random.default_rng(0).random((3, CONTEXT_DIM), dtype=np.float32)
    images = pipe(ctx, num_inference_steps=2, height=40, width=24).images
    assert images.shape == (3, 40, 24, 3) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    single = pipe(ctx[0], output_type="uint8", height=16, width=16).images
    assert single.shape == (1, 16, 16, 3) and single.dtype == np.uint8


def test_noise_sets_the_output(pipe: BarlightPipeline) -> None:
    ctx = np.full((1, CONTEXT_DIM), 0.5, dtype=np.float32)
    noise = torch.randn(pipe.noise_shape(1), generator=torch.Generator().manual_seed(1))
    other = torch.randn(pipe.noise_shape(1), generator=torch.Generator().manual_seed(2))
    a = pipe(ctx, noise=noise, output_type="pt").images
    b = pipe(ctx, noise=noise.clone(), output_type="pt").images
    c = pipe(ctx, noise=other, output_type="pt").images
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_img2img_strength_changes_the_start(pipe: BarlightPipeline) -> None:
    ctx = np.full((1, CONTEXT_DIM), 0.3, dtype=np.float32)
    noise = torch.randn(pipe.noise_shape(1), generator=torch.Generator().manual_seed(3))
    previous = np.zeros((64, 64, 3), dtype=np.float32)
    full = pipe(ctx, noise=noise, num_inference_steps=4, output_type="pt").images
    same = pipe(ctx, noise=noise, num_inference_steps=4, image=previous, strength=1.0, output_type="pt").images
    half = pipe(ctx, noise=noise, num_inference_steps=4, image=previous, strength=0.5, output_type="pt").images
    assert torch.equal(full, same)
    assert not torch.allclose(full, half)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"image": np.zeros((8, 8, 3), np.float32), "strength": 0.2, "num_inference_steps": 2}, "strength"),
        ({"noise": torch.zeros(1, 3, 5, 5)}, "noise"),
        ({"output_type": "png"}, "output_type"),
    ],
)
def test_bad_arguments_are_named(pipe: BarlightPipeline, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pipe(np.zeros(CONTEXT_DIM, np.float32), **kwargs)


def test_wrong_context_width_is_rejected(pipe: BarlightPipeline) -> None:
    with pytest.raises(ValueError, match="audio_context"):
        pipe(np.zeros((1, CONTEXT_DIM + 1), np.float32))


def test_save_and_load_round_trip(pipe: BarlightPipeline, tmp_path) -> None:
    pipe.save_pretrained(tmp_path / "model", weights_dtype="float32")
    index = json.loads((tmp_path / "model" / "model_index.json").read_text())
    assert index["_class_name"] == "BarlightPipeline"
    assert not list((tmp_path / "model").rglob("*.bin")) and list((tmp_path / "model").rglob("*.safetensors"))
    loaded = BarlightPipeline.from_pretrained(tmp_path / "model")
    ctx = np.random.default_rng(1).random((2, CONTEXT_DIM), dtype=np.float32)
    noise = torch.randn(pipe.noise_shape(2), generator=torch.Generator().manual_seed(4))
    np.testing.assert_allclose(pipe(ctx, noise=noise).images, loaded(ctx, noise=noise).images, atol=1e-5)


def test_loading_a_non_model_directory_fails_clearly(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="model_index.json"):
        BarlightPipeline.from_pretrained(tmp_path)


def test_cpu_speedups_draw_the_same_frames() -> None:
    plain, fast = tiny_pipeline(seed=3), tiny_pipeline(seed=3)
    fast.enable_cpu_speedups()
    ctx = np.random.default_rng(1).random((2, CONTEXT_DIM), dtype=np.float32)
    noise = torch.randn(plain.noise_shape(2), generator=torch.Generator().manual_seed(0))
    for steps in (1, 2):
        a = plain(ctx, noise=noise, num_inference_steps=steps, height=40, width=40).images
        b = fast(ctx, noise=noise, num_inference_steps=steps, height=40, width=40).images
        np.testing.assert_allclose(a, b, atol=1e-5)
    previous = plain(ctx, noise=noise, height=40, width=40).images
    a = plain(ctx, noise=noise, image=previous, strength=0.5, num_inference_steps=2, height=40, width=40).images
    b = fast(ctx, noise=noise, image=previous, strength=0.5, num_inference_steps=2, height=40, width=40).images
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(fast._traced_unet._traces) == 1  # one grid shape, one trace for every timestep
    fast.enable_cpu_speedups(False)
    assert fast._traced_unet is None
    np.testing.assert_allclose(fast(ctx, noise=noise, height=40, width=40).images,
                               plain(ctx, noise=noise, height=40, width=40).images, atol=1e-6)
