"""Motion: a preset's [motion] table gives a warp that is a pure function of the musical moment."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bridge.errors import InputError
from renderer.motion import ATTACK, Motion, Warp, parse_motion, punch


def test_punch_is_zero_on_the_beat_peaks_at_the_attack_and_returns_before_the_next():
    for attack in ATTACK.values():
        assert punch(0.0, attack) == 0.0
        assert punch(attack, attack) == pytest.approx(1.0)
        assert punch(0.999999, attack) < 1e-3
        rising = [punch(p, attack) for p in np.linspace(0.0, attack, 20)]
        assert rising == sorted(rising)


def test_the_punch_is_asymmetric_so_motion_energy_repeats_once_per_period():
    phases = np.linspace(0.0, 1.0, 240, endpoint=False)
    speed = np.abs(np.diff([punch(p, ATTACK["beat"]) for p in phases], append=0.0))
    # the fast rise after the beat moves more than the slow return at the mirrored point
    assert speed[: len(speed) // 8].max() > 3 * speed[len(speed) // 2:].max()


def test_warp_at_depends_only_on_phase_and_amount():
    motion = Motion(lock="beat", zoom=0.1, twist=0.05, fold=0)
    a = motion.warp_at(0.08, 0.3, 1.0)
    assert a == motion.warp_at(0.08, 0.9, 1.0)  # bar phase does not matter for a beat lock
    assert a.zoom == pytest.approx(1.1) and a.angle == pytest.approx(2 * math.pi * 0.05)
    assert motion.warp_at(0.08, 0.3, 0.0).identity
    assert motion.warp_at(0.0, 0.3, 1.0).identity
    bar = Motion(lock="bar", zoom=0.2)
    assert bar.warp_at(0.5, 0.06, 0.5).zoom == pytest.approx(1.1)
    assert bar.warp_at(0.06, 0.5, 1.0).zoom < 1.01


def test_identity_warp_returns_the_grid_unchanged():
    grid = torch.randn(2, 4, 16, 28)
    assert torch.equal(Warp().apply(grid), grid)


def test_zoom_enlarges_about_the_frame_centre():
    rows, columns = 32, 56
    ys, xs = torch.meshgrid(torch.arange(rows) - rows / 2 + 0.5, torch.arange(columns) - columns / 2 + 0.5,
                            indexing="ij")
    blob = torch.exp(-((xs - 8.0) ** 2 + ys ** 2) / 4.0)[None, None]
    zoomed = Warp(zoom=2.0).apply(blob)
    def centre_x(img: torch.Tensor) -> float:
        w = img[0, 0].sum(0)
        return float((w * (torch.arange(columns) - columns / 2 + 0.5)).sum() / w.sum())
    assert centre_x(zoomed) == pytest.approx(2 * centre_x(blob), rel=0.05)


def test_mirror_and_kaleidoscope_folds_are_symmetric():
    grid = torch.randn(1, 3, 32, 32)
    mirrored = Warp(fold=1).apply(grid)
    assert torch.allclose(mirrored, mirrored.flip(-1), atol=1e-5)
    six = Warp(fold=6).apply(grid)
    assert torch.allclose(six, six.flip(-2), atol=1e-5)  # each wedge is mirrored about the x axis


@pytest.mark.parametrize("table, problem", [
    ({"lock": "bars"}, "motion.lock"),
    ({"zoom": 2.0}, "motion.zoom"),
    ({"twist": "a lot"}, "motion.twist"),
    ({"fold": 2.5}, "motion.fold"),
    ({"spin": 1}, "motion.spin"),
])
def test_bad_motion_tables_name_the_key(table, problem):
    with pytest.raises(InputError) as err:
        parse_motion(table, "x.toml")
    assert problem in str(err.value) and "x.toml" in str(err.value)


def test_a_preset_without_motion_does_not_move():
    assert parse_motion(None, "x.toml") == Motion()
    assert Motion().warp_at(0.08, 0.06, 1.0).identity
