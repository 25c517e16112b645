"""The weights shipped in renderer/embedded/weights: format, size, and what the issue asks of the picture.

Measured on music never used in training: a generated song rendered with FluidSynth from a held-out seed,
and the demo piece (:mod:`renderer.export.demo`: numpy-synthesised kick, hats, bass and pad with a tempo
change and 7/8 bars).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from renderer.embedded import WEIGHTS_DIR, load_default_pipeline, metrics
from renderer.embedded.evaluation import PAIRS, RHO_THRESHOLD, heldout_song, song_metrics
from renderer.embedded.looks import LOOK_NAMES, NOISE_CHANNELS, look_by_word, palette_by_word
from renderer.embedded.sheets import demo_moments
from renderer.embedded.vocabulary import prompt_meaning

MAX_WEIGHTS_BYTES = 25 * 1024 * 1024
SIZE = 256


@pytest.fixture(scope="module")
def pipe():
    return load_default_pipeline()


def look_frames(pipe, prompt: str, seed: int, size: int = SIZE) -> np.ndarray:
    """The model's frames of ``prompt`` at 16 moments of the demo piece, each on its own seed."""
    context, _ = demo_moments()
    noise = torch.randn(len(context), NOISE_CHANNELS, 64, 64, generator=torch.Generator().manual_seed(seed))
    return pipe(context, prompt_meaning([(prompt, 1.0)]), noise=noise, height=size, width=size).images


def test_weights_are_safetensors_json_and_small() -> None:
    files = [p for p in WEIGHTS_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files if p.suffix == ".safetensors") <= MAX_WEIGHTS_BYTES
    assert not [p for p in files if p.suffix in (".bin", ".pt", ".pth", ".pkl", ".ckpt")]
    index = json.loads((WEIGHTS_DIR / "model_index.json").read_text())
    assert index["_barlight_format"] == 2
    assert set(index) >= {"unet", "audio_encoder", "prompt_encoder", "mixer", "colour_table", "decoder", "scheduler"}
    training = json.loads((WEIGHTS_DIR / "training.json").read_text())
    assert training["settings"]["steps"] >= 1 and training["metrics"] is not None
    manifest = json.loads((WEIGHTS_DIR / "data_manifest.json").read_text())
    assert all(source["licence"] for source in manifest["sources"])


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> np.ndarray:
    return heldout_song(tmp_path_factory.mktemp("song"))


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_frames_follow_the_audio_on_a_held_out_song_in_every_look(pipe, song, look) -> None:
    rho = song_metrics(pipe, song, look)
    for audio, picture in PAIRS:
        assert rho[f"rho_{audio}_{picture}"] >= RHO_THRESHOLD, rho


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_each_look_has_native_structured_detail_at_512(pipe, look) -> None:
    frames = look_frames(pipe, look, seed=1, size=512)[:6]
    assert np.median(metrics.detail_share(frames)) >= 0.15
    assert np.median(metrics.residual_autocorr(frames)) >= 0.6
    if not palette_by_word(look_by_word(look).palette).monochrome:
        assert np.median(metrics.colourfulness(frames)) >= 0.2


@pytest.fixture(scope="module")
def held_chord_and_groove() -> tuple[np.ndarray, np.ndarray]:
    """The model's contexts over 2 s at 30 frames/s of a held chord and of a 120 BPM groove."""
    from bridge.features import FeatureExtractor
    from renderer.embedded.context import audio_context
    from renderer.embedded.probes import groove_audio, pad_audio
    from renderer.embedded.songs import SAMPLE_RATE

    seconds = np.arange(3.0, 5.0, 1 / 30)
    return tuple(audio_context(FeatureExtractor(SAMPLE_RATE).analyze(audio), seconds, np.mod(seconds * 2.0, 1.0),
                               np.mod(seconds / 2.0, 1.0)) for audio in (pad_audio(6.0), groove_audio(120.0, 6.0)))


@pytest.mark.parametrize("look", LOOK_NAMES)
def test_each_look_is_steady_on_a_held_chord_and_moves_on_a_groove(pipe, held_chord_and_groove, look) -> None:
    """Flicker on a steady pad (mean consecutive-frame change at 30 frames/s, 128 x 128) is at most the first
    model's 0.0068, and the same look moves on the beat of a groove."""
    from renderer.embedded.evaluation import render

    noise = torch.randn(pipe.noise_shape(1, 128, 128), generator=torch.Generator().manual_seed(7))
    changes = []
    for context in held_chord_and_groove:
        frames = render(pipe, context, noise.expand(len(context), -1, -1, -1).contiguous(), look, size=128)
        changes.append(float(np.mean(np.abs(frames[1:] - frames[:-1]))))
    steady, groove = changes
    assert steady <= 0.0068 and groove > 3 * max(steady, 0.0068), changes


def test_the_looks_are_told_apart_and_each_look_word_draws_its_look(pipe) -> None:
    """A classifier on colour-blind structure descriptors, fitted on the model's frames of each look's name
    (one set of compositions), tells the looks apart on other compositions, and assigns the frames of
    each look's synonyms to that look."""
    x, y = [], []
    for look in LOOK_NAMES:
        x.append(metrics.structure_descriptors(look_frames(pipe, look, seed=2)))
        y += [look] * len(x[-1])
    fitted = metrics.RidgeClassifier().fit(np.concatenate(x), np.array(y))
    for look in LOOK_NAMES:
        for word in look_by_word(look).words:
            predicted = fitted.predict(metrics.structure_descriptors(look_frames(pipe, word, seed=3)))
            assert np.mean(predicted == look) >= 0.9, (word, predicted)


def test_the_motion_warp_moves_the_fields_so_a_warped_frame_keeps_its_detail(pipe) -> None:
    """The preset's [motion] is applied to the model's fields before drawing: a mirror fold gives a mirrored
    frame, and a zoom punch keeps fine detail that resampling the finished frame would blur."""
    from renderer.motion import Warp

    context, _ = demo_moments()
    context = context[:4]
    noise = torch.randn(len(context), NOISE_CHANNELS, 64, 64, generator=torch.Generator().manual_seed(3))
    meaning = prompt_meaning([("tunnel", 1.0)])

    def frames(warp: Warp | None) -> np.ndarray:
        return pipe(context, meaning, noise=noise, height=256, width=256,
                    warp=None if warp is None else warp.apply).images

    still, mirrored, zoomed = frames(None), frames(Warp(fold=1)), frames(Warp(zoom=1.15, angle=0.2))
    assert np.mean(np.abs(mirrored - mirrored[:, :, ::-1]) > 1e-4) < 1e-3  # but where rounding tips a hard edge
    assert not np.allclose(mirrored, still, atol=0.05) and not np.allclose(zoomed, still, atol=0.05)
    resampled = Warp(zoom=1.15, angle=0.2).apply(torch.from_numpy(still).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    detail = {name: float(np.median(metrics.detail_share(f))) for name, f in
              (("still", still), ("zoomed", zoomed), ("resampled", resampled.numpy()))}
    # measured: still 0.31, zoomed 0.27 (a 15 % zoom makes the pattern coarser), resampled frame 0.20
    assert detail["zoomed"] >= 0.8 * detail["still"], detail
    assert detail["zoomed"] >= 1.2 * detail["resampled"], detail
