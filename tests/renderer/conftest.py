"""Fixtures for renderer tests: real audio files analysed by the real feature extractor,
tiny models built from configs (no downloads), a 120 bpm 4/4 timeline with two sections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bridge.features import analyze_file
from bridge.timeline.tempo_map import Marker, TempoMap

SAMPLE_RATE = 22050
SECONDS = 8.0
BPM = 120.0


def _pad(seconds: float, hz: float = 220.0, level: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return level * (np.sin(2 * np.pi * hz * t) + 0.5 * np.sin(2 * np.pi * 2 * hz * t))


def _clicks(signal: np.ndarray, every_seconds: float, level: float = 0.9) -> np.ndarray:
    out = signal.copy()
    rng = np.random.default_rng(0)
    for start in np.arange(0.0, len(out) / SAMPLE_RATE, every_seconds):
        i = int(start * SAMPLE_RATE)
        n = min(400, len(out) - i)
        out[i:i + n] += level * rng.standard_normal(n) * np.exp(-np.arange(n) / 80.0)
    return out


def _analyse(tmp: Path, name: str, signal: np.ndarray):
    path = tmp / f"{name}.wav"
    sf.write(path, np.clip(signal, -1, 1).astype(np.float32), SAMPLE_RATE)
    return analyze_file(path)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread, above all on a shared 2-core machine; restored after each
    test (a test that sets its own count leaves none behind)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tracks(tmp_path_factory):
    """FeatureTracks of: a steady pad, the pad with a click on every beat, quiet dark hum, loud noise."""
    tmp = tmp_path_factory.mktemp("audio")
    pad = _pad(SECONDS)
    rng = np.random.default_rng(1)
    return {
        "steady": _analyse(tmp, "steady", pad),
        "clicks": _analyse(tmp, "clicks", _clicks(pad, 60.0 / BPM)),
        "hum": _analyse(tmp, "hum", _pad(SECONDS, hz=80.0, level=0.02)),
        "noise": _analyse(tmp, "noise", 0.5 * rng.standard_normal(int(SECONDS * SAMPLE_RATE))),
    }


@pytest.fixture(scope="session")
def tempo_map():
    """120 bpm 4/4, section "verse" from bar 1, "chorus" from bar 3 (4 s)."""
    return TempoMap.constant(BPM, markers=[Marker("verse", 0.0), Marker("chorus", 8.0)])


@pytest.fixture(scope="session")
def tiny_embedded():
    """The embedded model's tiny architecture, seeded random weights (the model engineer's TINY_CONFIG)."""
    from renderer.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(random_init="tiny", steps=2)


@pytest.fixture(scope="session")
def tiny_sd_folder(tmp_path_factory):
    """A tiny Stable Diffusion pipeline saved with save_pretrained (built from configs)."""
    from renderer.testing import save_tiny_diffusers_model

    return save_tiny_diffusers_model(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="session")
def fake_hub(tmp_path_factory, tiny_sd_folder):
    """A Hugging Face cache (``HF_HUB_CACHE``) laid out as downloads leave it, offline, holding tiny stand-ins:
    ``stabilityai/sd-turbo`` (fp16-variant files, as ``barlight models get`` fetches them), ``madebyollin/taesd``
    and, SDXL-shaped, ``stabilityai/sdxl-turbo`` and ``madebyollin/taesdxl``. Restored at the session's end."""
    from renderer.testing import (install_in_hub_cache, save_tiny_diffusers_model, save_tiny_sdxl_model,
                                  save_tiny_taesd)

    tmp = tmp_path_factory.mktemp("hub")
    cache = tmp / "cache"
    install_in_hub_cache(cache, "stabilityai/sd-turbo", save_tiny_diffusers_model(tmp / "sd", variant="fp16"))
    install_in_hub_cache(cache, "stabilityai/sdxl-turbo", save_tiny_sdxl_model(tmp / "sdxl", variant="fp16"))
    for repo in ("madebyollin/taesd", "madebyollin/taesdxl"):
        install_in_hub_cache(cache, repo, save_tiny_taesd(tmp / repo.split("/")[1]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_CACHE", str(cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield cache
