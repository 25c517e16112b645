"""Motion locked to the music (issue 18): on a steady 120 BPM groove, each shipped embedded preset's
frame-to-frame motion energy repeats at the beat or the bar, as its [motion] table says."""

from __future__ import annotations

import dataclasses

import pytest

from renderer.motion import Motion
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


def test_the_warp_is_what_locks_a_preset_to_the_bar(backend) -> None:
    still = dataclasses.replace(load_preset("ink"), motion=Motion())
    lag = motion_lag(still, backend=backend)
    assert abs(lag["lag_frames"] - lag["bar_frames"]) > 1.0, lag
