"""moment_at: the musical fields, the past-only feature window, macros."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint
from renderer.moment import MIN_WINDOW_SECONDS, moment_at


def test_musical_fields_at_120_bpm(tempo_map):
    m = moment_at(tempo_map, None, 4.75)  # beat 9.5: bar 3, second beat, halfway
    assert (m.beat, m.bar, m.beat_in_bar) == (9.5, 3, 1.5)
    assert m.beat_phase == pytest.approx(0.5)
    assert m.bar_phase == pytest.approx(0.375)
    assert (m.bpm, m.numerator, m.denominator) == (120.0, 4, 4)
    assert m.section == "chorus"
    assert not m.has_audio


def test_beat_phase_counts_the_meter_note_value():
    tm = TempoMap((TempoPoint(0.0, 120.0),), (Meter(0.0, 6, 8),))
    m = moment_at(tm, None, tm.seconds_at(0.75))  # 1.5 eighths into the bar
    assert m.beat_in_bar == pytest.approx(1.5)
    assert m.beat_phase == pytest.approx(0.5)
    assert m.bar_phase == pytest.approx(0.75 / 3.0)


def test_section_is_none_before_the_first_marker():
    tm = TempoMap.constant(100, markers=[Marker("intro", 4.0)])
    assert moment_at(tm, None, 0.5).section is None
    assert moment_at(tm, None, tm.seconds_at(4.0)).section == "intro"


def test_with_lookahead_a_locator_lands_on_the_frame_nearest_it():
    """An export's frame k shows song time k / fps with half a frame of lookahead: the frame nearest a
    locator (the one a bar's keyframe image is) is already in the new section; without lookahead (the
    live preview) the section changes when the transport passes the locator."""
    tm = TempoMap.constant(100, markers=[Marker("intro", 0.0), Marker("drop", 16.0)])  # beat 16: 9.6 s
    fps = 24  # bar 5 starts at 9.6 s = frame 230.4: frame 230 (9.583 s) is the nearest
    half = 1 / (2 * fps)
    assert moment_at(tm, None, 230 / fps).section == "intro"
    assert moment_at(tm, None, 230 / fps, lookahead_seconds=half).section == "drop"
    assert moment_at(tm, None, 229 / fps, lookahead_seconds=half).section == "intro"
    assert moment_at(tm, None, 230 / fps, lookahead_seconds=half).bar == 4  # the position itself is not moved


def test_window_holds_only_the_past(tracks, tempo_map):
    track = tracks["clicks"]
    m = moment_at(tempo_map, track, 3.0, window_beats=2.0)
    assert m.window_seconds == pytest.approx(max(1.0, MIN_WINDOW_SECONDS))
    times = np.asarray(m.features.seconds)
    assert times.max() <= 3.0 and times.min() > 3.0 - m.window_seconds
    ahead = moment_at(tempo_map, track, 3.0, window_beats=2.0, lookahead_seconds=0.05)
    assert np.asarray(ahead.features.seconds).max() > 3.0


def test_same_arguments_give_equal_moments(tracks, tempo_map):
    a = moment_at(tempo_map, tracks["steady"], 1.234, macros=(0.1, 0.2, 0.3, 0.4))
    b = moment_at(tempo_map, tracks["steady"], 1.234, macros=(0.1, 0.2, 0.3, 0.4))
    assert a == b and a.to_dict() == b.to_dict()


@pytest.mark.parametrize("macros", [(0.1, 0.2, 0.3), (0.0, 0.0, 0.0, 1.5), (0, 0, 0, math.nan)])
def test_bad_macros_are_refused(tempo_map, macros):
    with pytest.raises(ValueError, match="macros"):
        moment_at(tempo_map, None, 0.0, macros=macros)


def test_moment_to_dict_is_json_able(tempo_map, tracks):
    import json

    m = moment_at(tempo_map, tracks["clicks"], 2.0, macros=(0.1, 0.2, 0.3, 0.4))
    data = m.to_dict()
    assert json.loads(json.dumps(data)) == data  # survives JSON unchanged
    assert (data["section"], data["bar"], data["macros"]) == ("verse", 2, [0.1, 0.2, 0.3, 0.4])
    assert data["feature_frames"] == len(m.features) > 0


def test_moment_from_position_is_the_shared_part_of_moment_at(tempo_map, tracks):
    from renderer.moment import moment_from_position

    seconds = 5.3
    beat = tempo_map.beat_at(seconds)
    built = moment_from_position(seconds, beat, tempo_map.position_at(beat), tempo_map.bpm_at(beat), "chorus",
                                 tracks["clicks"])
    assert built == moment_at(tempo_map, tracks["clicks"], seconds)
