"""Fixtures for the preview: a song file for the simulated DAW, a tiny real renderer, a free port."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import soundfile as sf

SAMPLE_RATE = 22050
BPM = 120.0


def write_song(path, seconds: float = 20.0, bpm: float = BPM):
    """A pad with a loud click on every beat (so the audio features move with the music)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    signal = 0.15 * np.sin(2 * np.pi * 220.0 * t)
    rng = np.random.default_rng(0)
    for start in np.arange(0.0, seconds, 60.0 / bpm):
        i = int(start * SAMPLE_RATE)
        n = min(2000, len(signal) - i)
        signal[i:i + n] += 0.8 * rng.standard_normal(n) * np.exp(-np.arange(n) / 300.0)
    sf.write(path, np.clip(signal, -1, 1).astype(np.float32), SAMPLE_RATE)
    return path


@pytest.fixture(scope="session")
def song(tmp_path_factory):
    return write_song(tmp_path_factory.mktemp("song") / "song.wav")


@pytest.fixture(scope="session")
def tiny_renderer():
    """The embedded model's tiny architecture (seeded random weights) at 32x32: real, and cheap enough
    that a loaded 2-core machine still renders a few frames a second."""
    import torch

    from renderer.backends.embedded import EmbeddedBackend
    from renderer.renderer import Renderer

    torch.set_num_threads(1)
    return Renderer.from_preset("neon", backend=EmbeddedBackend(random_init="tiny", steps=1), size=(32, 32))


def write_tiny_preset(path, size: int = 32):
    """The shipped neon preset on the embedded model's tiny architecture (seeded random weights, one step) at
    ``size`` x ``size``: what a render process builds from a RendererSpec naming this file."""
    from renderer.presets import preset_path

    text = preset_path("neon").read_text()
    text = text.replace("resolution = [256, 256]", f"resolution = [{size}, {size}]")
    text = text.replace('name = "embedded"', 'name = "embedded"\nrandom_init = "tiny"\nsteps = 1')
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def tiny_spec(tmp_path_factory):
    """A RendererSpec of the tiny preset: a preview given it renders in a process of its own."""
    from renderer.preview.child import RendererSpec

    return RendererSpec(str(write_tiny_preset(tmp_path_factory.mktemp("preset") / "tiny.toml")))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
