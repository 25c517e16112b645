"""Sources from real analysed audio, the linear mapping (tables, JSON, fitting), prompt blends."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.errors import InputError
from renderer.conditioning import SOURCES, TARGETS, Mapping, SectionPrompts, onset_density, summarize, walk_position
from renderer.moment import moment_at


def test_loud_noise_is_louder_brighter_and_noisier_than_a_quiet_hum(tracks, tempo_map):
    hum = summarize(moment_at(tempo_map, tracks["hum"], 4.0))
    noise = summarize(moment_at(tempo_map, tracks["noise"], 4.0))
    assert noise["energy"] - hum["energy"] > 0.3
    assert noise["brightness"] - hum["brightness"] > 0.3
    assert noise["noisiness"] - hum["noisiness"] > 0.3


def test_onset_pulse_follows_the_clicks(tracks, tempo_map):
    # clicks every 0.5 s; the onset pulse is high just after a click and has decayed before the next
    just_after = [summarize(moment_at(tempo_map, tracks["clicks"], 2.0 + k * 0.5 + 0.04))["onset"] for k in range(6)]
    late = [summarize(moment_at(tempo_map, tracks["clicks"], 2.0 + k * 0.5 + 0.40))["onset"] for k in range(6)]
    assert min(just_after) > 0.6
    assert max(late) < 0.35
    steady = [summarize(moment_at(tempo_map, tracks["steady"], 2.0 + k * 0.5 + 0.04))["onset"] for k in range(6)]
    assert max(steady) < 0.01  # only the pad's own start, long decayed
    assert summarize(moment_at(tempo_map, tracks["clicks"], 4.0))["density"] > 0.8


def test_steady_audio_gives_steady_sources(tracks, tempo_map):
    values = np.array([[summarize(moment_at(tempo_map, tracks["steady"], 3.0 + k / 30))[s]
                        for s in ("energy", "brightness", "noisiness")] for k in range(30)])
    assert values.std(axis=0).max() < 0.01


def test_beat_and_macro_sources(tempo_map):
    on_beat = summarize(moment_at(tempo_map, None, 1.0, macros=(0.25, 0.5, 0.75, 1.0)))
    off_beat = summarize(moment_at(tempo_map, None, 1.25))
    assert on_beat["beat"] == pytest.approx(1.0) and off_beat["beat"] < 0.2
    assert [on_beat[f"macro{i}"] for i in range(1, 5)] == [0.25, 0.5, 0.75, 1.0]


def test_mapping_from_tables_applies_bias_weights_and_clipping():
    mapping = Mapping.from_tables({"flash": {"onset": 2.0}, "hue": {"pitch": 1.0, "bias": 0.5},
                                   "intensity": {"bias": -1.0, "energy": 0.5}})
    out = mapping({"onset": 0.25, "pitch": 0.75, "energy": 1.0})
    assert out["flash"] == pytest.approx(0.5)
    assert out["hue"] == pytest.approx(0.25)  # wraps
    assert out["intensity"] == 0.0  # clipped
    assert set(out) == set(TARGETS)


@pytest.mark.parametrize("tables, message", [
    ({"sparkle": {"onset": 1.0}}, "unknown target 'sparkle'"),
    ({"flash": {"onsets": 1.0}}, "unknown source 'onsets'"),
    ({"flash": {"onset": "loud"}}, "must be a number"),
])
def test_mapping_tables_name_the_problem(tables, message):
    with pytest.raises(InputError, match=message):
        Mapping.from_tables(tables)


def test_fit_recovers_a_known_mapping_and_round_trips(tmp_path):
    rng = np.random.default_rng(3)
    truth = Mapping.from_tables({"intensity": {"bias": 0.1, "energy": 0.6, "macro1": 0.2},
                                 "hue": {"pitch": 0.5}})
    examples = [dict(zip(SOURCES, rng.uniform(0, 1, len(SOURCES)) * 0.8)) for _ in range(200)]
    wanted = [{k: v for k, v in truth(x).items() if k in ("intensity", "flash")} for x in examples]
    fitted = Mapping.fit(examples, wanted)
    probe = dict(zip(SOURCES, [0.3] * len(SOURCES)))
    assert fitted(probe)["intensity"] == pytest.approx(truth(probe)["intensity"], abs=1e-3)
    assert fitted(probe)["flash"] == pytest.approx(0.0, abs=1e-3)
    path = tmp_path / "mapping.json"
    fitted.save(path)
    assert Mapping.load(path) == fitted


def test_prompt_blend_weights_sum_to_one():
    prompts = SectionPrompts("calm", "loud", "dark", "bright")
    blend = dict(prompts.blend(0.25, 0.75))
    assert sum(blend.values()) == pytest.approx(1.0)
    assert blend == pytest.approx({"calm": 0.375, "loud": 0.125, "dark": 0.125, "bright": 0.375})
    assert dict(SectionPrompts("x", "x").blend(0.3, 0.9)) == {"x": pytest.approx(1.0)}


def test_walk_position_runs_from_zero_to_one_and_speeds_up_with_walk():
    assert walk_position(0.0, 0.5) == 0.0 and walk_position(1.0, 0.5) == pytest.approx(1.0)
    assert walk_position(0.3, 1.0) > walk_position(0.3, 0.0)


def test_onset_density_counts_onsets_per_beat_and_lets_one_age_out_without_a_step():
    every_other_beat = np.arange(0.0, 32.0, 2.0)  # ages in beats: half an onset per beat
    assert onset_density(every_other_beat, 32.0) == pytest.approx(0.5, abs=0.03)
    assert onset_density(np.arange(0.0, 32.0, 0.5), 32.0) == 1.0  # two per beat: clipped to 1
    ages = np.linspace(0.0, 4.2, 400)  # one onset ageing through the window and out of it
    densities = np.array([onset_density(np.array([age]), 4.0) for age in ages])
    assert densities[0] == pytest.approx(1 / 3) and densities[-1] == 0.0
    assert np.max(np.abs(np.diff(densities))) < 0.01  # no step where it leaves


def test_a_daw_feed_without_onsets_still_pulses_on_the_clicks(tracks, tempo_map):
    """Frames as /daw/audio delivers them (rms, peak, 8 bands only), rebuilt from the clicks track."""
    from bridge.features import FeatureFrame, FeatureTrack

    clicks = tracks["clicks"]
    frames = [FeatureFrame.from_daw_audio(float(t), float(r), float(p), [float(b) for b in bands])
              for t, r, p, bands in zip(clicks.seconds, clicks.rms, clicks.peak, clicks.bands)]
    daw = FeatureTrack.from_frames(frames)
    assert daw.onset is None
    just_after = [summarize(moment_at(tempo_map, daw, 2.0 + k * 0.5 + 0.04))["onset"] for k in range(6)]
    late = [summarize(moment_at(tempo_map, daw, 2.0 + k * 0.5 + 0.40))["onset"] for k in range(6)]
    assert min(just_after) > 0.6 and max(late) < 0.35
    steady = tracks["steady"]
    calm = FeatureTrack.from_frames([FeatureFrame.from_daw_audio(float(t), float(r), float(p), [float(b) for b in bs])
                                     for t, r, p, bs in zip(steady.seconds, steady.rms, steady.peak, steady.bands)])
    assert max(summarize(moment_at(tempo_map, calm, 2.0 + k * 0.5 + 0.04))["onset"] for k in range(6)) < 0.01
