"""The full-size architectures shipped as configs: published parameter counts (built on the meta device,
no memory), and every architecture through the whole Barlight path at reduced width with random weights."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.errors import InputError
from renderer.backends.architectures import ARCHITECTURES, architecture, count_parameters
from renderer.catalog import CATALOG
from renderer.moment import moment_at
from renderer.presets import load_preset
from renderer.renderer import Renderer

SIZE = (64, 64)


@pytest.mark.parametrize("name, published", [
    ("sd-turbo", 865_910_724),     # the SD 2.1 UNet, as SD-Turbo ships it
    ("sdxl-turbo", 2_567_463_684),  # the SDXL UNet
    ("sd15-lcm", 859_602_884),     # the SD 1.5 UNet plus LCM's guidance embedding (256 x 320)
])
def test_full_size_unet_configs_build_with_the_published_parameter_counts(name, published):
    assert count_parameters(name, "unet") == published
    assert ARCHITECTURES[name].unet_parameters == published


@pytest.mark.parametrize("name", ["sd-turbo", "sdxl-turbo", "sd15-lcm"])
def test_the_catalog_sizes_are_the_architectures_parameters(name):
    components = [c for c in ("unet", "vae", "text_encoder", "text_encoder_2")
                  if c in architecture(name).model_index()]
    assert CATALOG[name].parameters == sum(count_parameters(name, c) for c in components)


def test_text_encoders_have_the_real_widths():
    """Prompt embeddings with the real shapes: 1024 (OpenCLIP ViT-H), 768 + 1280 (SDXL), 768 (CLIP ViT-L)."""
    assert architecture("sd-turbo").config("text_encoder")["hidden_size"] == 1024
    assert architecture("sdxl-turbo").config("unet")["cross_attention_dim"] == 768 + 1280
    assert architecture("sdxl-turbo").config("text_encoder_2")["projection_dim"] == 1280
    assert architecture("sd15-lcm").config("unet")["cross_attention_dim"] == 768


@pytest.mark.parametrize("name", ["sd-turbo", "sdxl-turbo", "sd15-lcm"])
def test_each_architecture_renders_through_the_whole_path_at_reduced_width(name, tempo_map, tracks):
    from renderer.backends.diffusers import DiffusersBackend

    steps = architecture(name).steps
    backend = DiffusersBackend(model=name, random_weights=True, reduced=True, vae="taesd", steps=steps)
    assert backend.describe()["pipeline"] == architecture(name).model_index()["_class_name"]
    renderer = Renderer(backend, load_preset("turbo"), SIZE)
    state, frames = None, []
    for k in range(3):  # text-to-image, then img2img feedback twice
        result = renderer.render(moment_at(tempo_map, tracks["clicks"], 1.0 + k / 30), state)
        state, frames = result.state, frames + [result.frame]
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 and f.std() > 0.5 for f in frames)


def test_unknown_architectures_and_reduced_without_random_weights_are_one_line_errors():
    from renderer.backends.diffusers import DiffusersBackend, DiffusersConfig

    with pytest.raises(InputError, match="unknown architecture 'sd3'"):
        DiffusersBackend(model="sd3", random_weights=True)
    with pytest.raises(InputError, match="only applies with random_weights"):
        DiffusersConfig(model="sd-turbo", reduced=True)
