"""The diffusers backend end to end on CPU with no network: a tiny SD pipeline built from configs
(UNet2DConditionModel, AutoencoderKL, CLIPTextModel + a character-level tokenizer), saved with
save_pretrained into a Hub cache as ``sd-turbo`` (and a tiny TAESD as ``taesd``), loaded through the
backend's real loading code by the turbo preset's short names."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bridge.errors import InputError
from renderer.moment import moment_at
from renderer.renderer import Renderer

SIZE = (64, 64)


def diff(a, b) -> float:
    return float(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32))) / 255.0)


@pytest.fixture(scope="module")
def turbo(fake_hub):
    return Renderer.from_preset("turbo", size=SIZE, device="cpu")


def test_the_turbo_preset_loads_sd_turbo_and_taesd_from_the_hub_cache_and_renders(turbo, tempo_map, tracks):
    assert turbo.backend.name == "diffusers"
    assert turbo.backend.describe()["pipeline"] == "StableDiffusionPipeline"
    assert type(turbo.backend.t2i.vae).__name__ == "AutoencoderTiny"
    result = turbo.render(moment_at(tempo_map, tracks["clicks"], 1.0))
    assert result.frame.shape == (64, 64, 3) and result.frame.dtype == np.uint8
    assert result.frame.std() > 1.0  # not a blank frame


def test_deterministic_including_the_img2img_feedback(turbo, tempo_map, tracks):
    def run(renderer):
        state, frames = None, []
        for k in range(3):
            result = renderer.render(moment_at(tempo_map, tracks["clicks"], 1.0 + k / 30), state)
            state, frames = result.state, frames + [result.frame]
        return frames

    again = Renderer.from_preset("turbo", size=SIZE, device="cpu")
    worst = max(diff(a, b) for a, b in zip(run(turbo), run(again)))
    assert worst == 0.0


def test_a_section_change_changes_the_prompt_embeddings_and_the_frame(turbo, tempo_map, tracks):
    verse = moment_at(tempo_map, tracks["steady"], 3.9)
    chorus = moment_at(tempo_map, tracks["steady"], 4.1)
    verse_kwargs = turbo.backend.blend(turbo.condition(verse).prompts)
    chorus_kwargs = turbo.backend.blend(turbo.condition(chorus).prompts)
    distance = float((verse_kwargs["prompt_embeds"] - chorus_kwargs["prompt_embeds"]).abs().mean())
    assert distance > 1e-3
    # same noise for both, only the prompts differ
    chorus_same_walk = dataclasses.replace(verse, section="chorus")
    assert diff(turbo.render(verse).frame, turbo.render(chorus_same_walk).frame) > 0.002


def test_audio_moves_the_prompt_blend(turbo, tempo_map, tracks):
    quiet = turbo.condition(moment_at(tempo_map, tracks["hum"], 3.0))
    loud = turbo.condition(moment_at(tempo_map, tracks["noise"], 3.0))
    assert loud.targets["intensity"] - quiet.targets["intensity"] > 0.3
    def weight(cond, start):
        return sum(w for p, w in cond.prompts if p.startswith(start))

    assert weight(loud, "a forest on fire") - weight(quiet, "a forest on fire") > 0.15  # turbo.toml's intense
    assert weight(loud, "a forest glade in bright") - weight(quiet, "a forest glade in bright") > 0.15


def test_a_tiny_vae_swaps_in(tiny_sd_folder, tmp_path, tempo_map):
    from renderer.backends.diffusers import DiffusersBackend
    from renderer.presets import load_preset
    from renderer.testing import save_tiny_taesd

    taesd = save_tiny_taesd(tmp_path / "taesd")
    backend = DiffusersBackend(model=str(tiny_sd_folder), vae=str(taesd), device="cpu")
    assert type(backend.t2i.vae).__name__ == "AutoencoderTiny"
    frame = Renderer(backend, load_preset("turbo"), SIZE).render(moment_at(tempo_map, None, 0.5)).frame
    assert frame.shape == (64, 64, 3)


def test_missing_models_are_one_line_errors(tmp_path, monkeypatch):
    from renderer.backends.diffusers import DiffusersBackend

    with pytest.raises(InputError, match="no such model folder"):
        DiffusersBackend(model=str(tmp_path / "nothing-here"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a diffusers model folder"):
        DiffusersBackend(model=str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError) as info:
        DiffusersBackend(model="someone/not-downloaded-model")
    assert "not found locally" in str(info.value) and "\n" not in str(info.value)


def test_a_scheduler_swaps_in_by_name_and_unknown_names_are_refused(tiny_sd_folder, tempo_map):
    from renderer.backends.diffusers import DiffusersBackend
    from renderer.presets import load_preset

    backend = DiffusersBackend(model=str(tiny_sd_folder), scheduler="LCMScheduler", steps=2, device="cpu")
    assert type(backend.t2i.scheduler).__name__ == "LCMScheduler"
    frame = Renderer(backend, load_preset("turbo"), SIZE).render(moment_at(tempo_map, None, 0.5)).frame
    assert frame.shape == (64, 64, 3)
    with pytest.raises(InputError, match="not a diffusers scheduler"):
        DiffusersBackend(model=str(tiny_sd_folder), scheduler="os.systemScheduler")


def test_an_sdxl_family_pipeline_with_pooled_embeddings(fake_hub, tempo_map, tracks):
    renderer = Renderer.from_preset("turbo-xl", size=SIZE, device="cpu")
    assert renderer.backend.describe()["pipeline"] == "StableDiffusionXLPipeline"
    kwargs = renderer.backend.blend(renderer.condition(moment_at(tempo_map, tracks["clicks"], 1.0)).prompts)
    assert kwargs["pooled_prompt_embeds"].shape == (1, 16)
    state = None
    frames = []
    for k in range(2):  # text-to-image, then img2img from the shared weights
        result = renderer.render(moment_at(tempo_map, tracks["clicks"], 1.0 + k / 30), state)
        state, frames = result.state, frames + [result.frame]
    assert type(renderer.backend.img2img).__name__ == "StableDiffusionXLImg2ImgPipeline"
    assert all(f.shape == (64, 64, 3) and f.std() > 1.0 for f in frames)
