"""The embedded pipeline's interface, on the tiny randomly initialised config."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from renderer.embedded import CONTEXT_DIM, BarlightPipeline, tiny_pipeline
from renderer.embedded.vocabulary import prompt_meaning


@pytest.fixture(scope="module")
def pipe() -> BarlightPipeline:
    return tiny_pipeline(seed=0)


def ctx(batch: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((batch, CONTEXT_DIM), dtype=np.float32)


def test_call_shapes_and_range(pipe: BarlightPipeline) -> None:
    for height, width in ((64, 64), (72, 128), (128, 72)):
        out = pipe(ctx(2), height=height, width=width).images
        assert out.shape == (2, height, width, 3) and out.dtype == np.float32
        assert 0.0 <= out.min() and out.max() <= 1.0
    assert pipe(ctx(1)[0], output_type="uint8").images.dtype == np.uint8
    assert pipe(ctx(1), output_type="pt").images.shape == (1, 3, 256, 256)
    assert pipe.noise_shape(1, 720, 1280) == (1, 6, 64, 112)


def test_noise_sets_the_output(pipe: BarlightPipeline) -> None:
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(pipe.noise_shape(1, 64, 64), generator=g) for _ in range(2))
    first = pipe(ctx(1), noise=a, height=64, width=64).images
    assert np.array_equal(first, pipe(ctx(1), noise=a, height=64, width=64).images)
    assert np.abs(first - pipe(ctx(1), noise=b, height=64, width=64).images).mean() > 1e-3


def test_the_prompt_chooses_the_look(pipe: BarlightPipeline) -> None:
    noise = torch.randn(pipe.noise_shape(1, 64, 64), generator=torch.Generator().manual_seed(2))
    rings = pipe(ctx(1), prompt_meaning([("rings", 1.0)]), noise=noise, height=64, width=64).images
    cells = pipe(ctx(1), prompt_meaning([("honeycomb", 1.0)]), noise=noise, height=64, width=64).images
    default = pipe(ctx(1), noise=noise, height=64, width=64).images
    assert np.abs(rings - cells).mean() > 1e-3
    np.testing.assert_array_equal(rings, default)  # the empty prompt is the default look, tunnel (rings)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"noise": torch.zeros(1, 3, 5, 5)}, "noise"),
        ({"prompt": np.zeros(5, np.float32)}, "prompt"),
        ({"output_type": "png"}, "output_type"),
        ({"height": 0}, "height"),
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
    assert index["_class_name"] == "BarlightPipeline" and index["_barlight_format"] == 2
    assert {"unet", "audio_encoder", "prompt_encoder", "mixer", "colour_table", "decoder", "scheduler"} <= set(index)
    assert not list((tmp_path / "model").rglob("*.bin")) and list((tmp_path / "model").rglob("*.safetensors"))
    loaded = BarlightPipeline.from_pretrained(tmp_path / "model")
    noise = torch.randn(pipe.noise_shape(2, 64, 64), generator=torch.Generator().manual_seed(4))
    np.testing.assert_allclose(pipe(ctx(2), noise=noise, height=64, width=64).images,
                               loaded(ctx(2), noise=noise, height=64, width=64).images, atol=1e-5)


def test_loading_a_non_model_or_an_older_model_fails_clearly(pipe: BarlightPipeline, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="model_index.json"):
        BarlightPipeline.from_pretrained(tmp_path)
    pipe.save_pretrained(tmp_path / "old")
    index_path = tmp_path / "old" / "model_index.json"
    index_path.write_text(json.dumps({**json.loads(index_path.read_text()), "_barlight_format": 1}))
    with pytest.raises(ValueError, match="format 1.*barlight train"):
        BarlightPipeline.from_pretrained(tmp_path / "old")


def test_cpu_speedups_draw_the_same_frames() -> None:
    plain, fast = tiny_pipeline(seed=3), tiny_pipeline(seed=3)
    fast.enable_cpu_speedups()
    noise = torch.randn(plain.noise_shape(2, 40, 40), generator=torch.Generator().manual_seed(0))
    for steps in (1, 2):
        a = plain(ctx(2), noise=noise, num_inference_steps=steps, height=40, width=40).images
        b = fast(ctx(2), noise=noise, num_inference_steps=steps, height=40, width=40).images
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(fast._traced_unet._traces) == 1  # one grid shape, one trace for every timestep
    fast.enable_cpu_speedups(False)
    assert fast._traced_unet is None
    np.testing.assert_allclose(fast(ctx(2), noise=noise, height=40, width=40).images,
                               plain(ctx(2), noise=noise, height=40, width=40).images, atol=1e-6)


def test_a_derived_config_changes_only_what_it_names() -> None:
    from renderer.embedded.config import DEFAULT_CONFIG, TINY_CONFIG, derived_config

    before = json.dumps(DEFAULT_CONFIG)
    narrow = derived_config(DEFAULT_CONFIG, mixer={"hidden_dim": 8})
    assert narrow["mixer"] == {**DEFAULT_CONFIG["mixer"], "hidden_dim": 8}
    assert {k: v for k, v in narrow.items() if k != "mixer"} == {k: v for k, v in DEFAULT_CONFIG.items() if k != "mixer"}
    narrow["unet"]["block_out_channels"].append(1)  # a deep copy: the base is left as it was
    assert json.dumps(DEFAULT_CONFIG) == before
    assert TINY_CONFIG["unet"]["block_out_channels"] == [16, 32]
    with pytest.raises(ValueError, match="mixxer"):
        derived_config(DEFAULT_CONFIG, mixxer={"hidden_dim": 8})
