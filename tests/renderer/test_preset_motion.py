"""Motion locked to the music (issue 18): on a steady 120 BPM groove, each shipped embedded preset's
frame-to-frame motion energy repeats at the beat or the bar, as its [motion] table says."""

from __future__ import annotations

import dataclasses

import pytest

from renderer.preset_metrics import motion_lag
from renderer.presets import builtin_presets, load_preset

EMBEDDED = sorted(name for name in builtin_presets() if load_preset(name).backend == "embedded")


@pytest.fixture(scope="module")
def backend():
    from renderer.backends.embedded import EmbeddedBackend

    return EmbeddedBackend()


@pytest.mark.parametrize("preset", EMBEDDED)
def test_motion_energy_repeats_at_the_period_the_preset_locks_to(preset, backend) -> None:
    lag = motion_lag(preset, backend=backend)
    period = lag["beat_frames"] if lag["lock"] == "beat" else lag["bar_frames"]
    assert abs(lag["lag_frames"] - period) <= 1.0, lag


def test_the_motion_table_sets_the_lock(backend) -> None:
    """Ink turns once per bar; the same warp locked to the beat moves its motion's period to the beat."""
    ink = load_preset("ink")
    on_beat = dataclasses.replace(ink, motion=dataclasses.replace(ink.motion, lock="beat"))
    assert ink.motion.lock == "bar"
    lag = motion_lag(on_beat, backend=backend)
    assert abs(lag["lag_frames"] - lag["beat_frames"]) <= 1.0, lag
