"""audio_context: the conditioning vector shared by training and rendering."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.features import FeatureExtractor
from renderer.embedded.context import CONTEXT_DIM, MEL_DIM, SCALAR, audio_context

RATE = 22050


def tone(seconds: float, level_db: float, freq_hz: float = 440.0, harmonics: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * freq_hz * h * t) / h for h in range(1, harmonics + 1))
    x = x / np.sqrt(np.mean(x ** 2))
    return (x * 10 ** (level_db / 20)).astype(np.float32)


def analyze(audio: np.ndarray):
    return FeatureExtractor(RATE).analyze(audio)


def test_shapes_scalar_and_vector_agree() -> None:
    track = analyze(tone(3.0, -20))
    single = audio_context(track, 1.5, 0.25, 0.5)
    many = audio_context(track, np.array([1.0, 1.5]), np.array([0.0, 0.25]), np.array([0.0, 0.5]))
    assert single.shape == (CONTEXT_DIM,) and single.dtype == np.float32
    assert many.shape == (2, CONTEXT_DIM)
    np.testing.assert_array_equal(many[1], single)
    assert single[SCALAR["beat_sin"]] == pytest.approx(1.0, abs=1e-6)
    assert single[SCALAR["bar_cos"]] == pytest.approx(-1.0, abs=1e-6)


def test_past_only_future_audio_changes_nothing() -> None:
    quiet_then_loud = np.concatenate([tone(2.0, -40), tone(2.0, -6)])
    quiet_then_quiet = np.concatenate([tone(2.0, -40), tone(2.0, -40)])
    a = audio_context(analyze(quiet_then_loud), 1.7, 0.0, 0.0)
    b = audio_context(analyze(quiet_then_quiet), 1.7, 0.0, 0.0)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_loudness_and_brightness_follow_the_audio() -> None:
    levels = [audio_context(analyze(tone(2.0, db)), 1.5, 0, 0)[SCALAR["loudness"]] for db in (-50, -35, -20)]
    assert levels[0] < levels[1] < levels[2]
    dark = audio_context(analyze(tone(2.0, -20, 200.0)), 1.5, 0, 0)[SCALAR["brightness"]]
    bright = audio_context(analyze(tone(2.0, -20, 2000.0)), 1.5, 0, 0)[SCALAR["brightness"]]
    assert bright > dark + 0.3


def test_noise_is_noisier_than_a_tone() -> None:
    noise = (np.random.default_rng(0).standard_normal(2 * RATE) * 0.1).astype(np.float32)
    n = audio_context(analyze(noise), 1.5, 0, 0)[SCALAR["noisiness"]]
    t = audio_context(analyze(tone(2.0, -20)), 1.5, 0, 0)[SCALAR["noisiness"]]
    assert n > t + 0.5


def test_before_the_audio_is_silence() -> None:
    track = analyze(tone(2.0, -10))
    ctx = audio_context(track, -1.0, 0.0, 0.0)
    assert np.all(ctx[:MEL_DIM] == 0.0) and ctx[SCALAR["loudness"]] == 0.0


def test_missing_optional_columns_read_as_zeros() -> None:
    import dataclasses

    track = analyze(tone(2.0, -20))
    bare = dataclasses.replace(track, mel=None, onset=None, chroma=None, pitch_class=None, onset_strength=None,
                               harmonic_ratio=None)
    ctx = audio_context(bare, 1.5, 0.0, 0.0)
    assert np.all(ctx[:MEL_DIM] == 0.0)
    assert ctx[SCALAR["loudness"]] == pytest.approx(audio_context(track, 1.5, 0, 0)[SCALAR["loudness"]])


def test_non_finite_seconds_rejected() -> None:
    with pytest.raises(ValueError, match="seconds"):
        audio_context(analyze(tone(1.0, -20)), float("nan"), 0.0, 0.0)
