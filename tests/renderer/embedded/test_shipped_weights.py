"""The weights shipped in renderer/embedded/weights: format, size, and the documented correspondence.

Evaluated on a numpy-synthesised clip never used in training (no FluidSynth needed).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from renderer.embedded import CONTEXT_DIM, WEIGHTS_DIR, load_default_pipeline
from renderer.embedded.context import SCALAR
from renderer.embedded.correspondence import image_qualities
from renderer.embedded.evaluation import PAIRS, RHO_THRESHOLD, synth_clip_metrics

MAX_WEIGHTS_BYTES = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def pipe():
    torch.set_num_threads(2)
    return load_default_pipeline()


def test_weights_are_safetensors_json_and_small() -> None:
    files = [p for p in WEIGHTS_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files if p.suffix == ".safetensors") <= MAX_WEIGHTS_BYTES
    assert not [p for p in files if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")]
    index = json.loads((WEIGHTS_DIR / "model_index.json").read_text())
    assert set(index) >= {"unet", "audio_encoder", "scheduler"}
    training = json.loads((WEIGHTS_DIR / "training.json").read_text())
    assert training["settings"]["steps"] >= 1 and training["metrics"]["meets_rho_threshold"]
    manifest = json.loads((WEIGHTS_DIR / "data_manifest.json").read_text())
    assert all(source["licence"] for source in manifest["sources"])


def test_frames_follow_the_audio_on_a_held_out_clip(pipe) -> None:
    rho = synth_clip_metrics(pipe)
    for audio, picture in PAIRS:
        assert rho[f"rho_{audio}_{picture}"] >= RHO_THRESHOLD, rho


def test_compositions_differ_and_img2img_follows_the_new_moment(pipe) -> None:
    ctx = np.zeros((2, CONTEXT_DIM), np.float32)
    ctx[:, SCALAR["loudness"]] = 0.8
    ctx[:, SCALAR["brightness"]] = 0.5
    ctx[:, SCALAR["beat_cos"]] = ctx[:, SCALAR["bar_cos"]] = 1.0
    noise = torch.randn(pipe.noise_shape(2), generator=torch.Generator().manual_seed(0))
    frames = pipe(ctx, noise=noise, height=64, width=64).images
    assert np.abs(frames[0] - frames[1]).mean() > 0.01  # the noise sets the composition: no collapse
    quiet = ctx[:1].copy()
    quiet[0, SCALAR["loudness"]] = 0.1
    after = pipe(quiet, noise=noise[:1], image=frames[:1], strength=0.75, num_inference_steps=4,
                 height=64, width=64).images
    assert image_qualities(after)["luminance"][0] < 0.6 * image_qualities(frames[:1])["luminance"][0]
