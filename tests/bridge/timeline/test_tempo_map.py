"""Properties of the TempoMap value: beats <-> seconds <-> bars, ramps, steps, meters, serialisation."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint

BPMS = st.floats(min_value=20.0, max_value=999.0, allow_nan=False)
GRID_BEATS = st.integers(min_value=-64, max_value=4000).map(lambda n: n / 4)


@st.composite
def tempo_maps(draw, ramps: bool = True) -> TempoMap:
    """Maps with 1..30 points (repeated beats make vertical steps), ramps, count-in beats."""
    beats = sorted(draw(st.lists(GRID_BEATS, min_size=1, max_size=30)))
    points = [TempoPoint(b, draw(BPMS), draw(st.booleans()) if ramps else False) for b in beats]
    return TempoMap(tuple(points))


def reference_bpm(points: tuple[TempoPoint, ...], beat: float) -> float:
    """Tempo at ``beat`` written straight from the TempoPoint definition (independent of TempoMap)."""
    index = 0
    for i, point in enumerate(points):
        if point.beat <= beat:
            index = i
    point = points[index]
    if beat < point.beat or not point.ramp or index + 1 == len(points):
        return point.bpm
    following = points[index + 1]
    if following.beat == point.beat:
        return following.bpm
    fraction = (beat - point.beat) / (following.beat - point.beat)
    return point.bpm + (following.bpm - point.bpm) * min(1.0, fraction)


def integrated_seconds(points: tuple[TempoPoint, ...], beat: float) -> float:
    """Seconds from beat 0 to ``beat`` by numerical integration of 60 / bpm(b)."""
    low, high = sorted((0.0, beat))
    breaks = [p.beat for p in points if low < p.beat < high]
    value, _error = quad(lambda b: 60.0 / reference_bpm(points, b), low, high,
                         points=breaks or None, limit=200, epsabs=1e-13, epsrel=1e-12)
    return value if beat >= 0 else -value


# -- beats <-> seconds ----------------------------------------------------------------------


@given(tempo_maps(), st.floats(min_value=-20.0, max_value=1200.0))
def test_beat_at_inverts_seconds_at_including_ramps_and_count_in(tempo_map, beat):
    seconds = tempo_map.seconds_at(beat)
    assert tempo_map.beat_at(seconds) == pytest.approx(beat, rel=1e-9, abs=1e-9)


@given(tempo_maps(), st.floats(min_value=-10.0, max_value=600.0))
def test_seconds_at_inverts_beat_at(tempo_map, seconds):
    assert tempo_map.seconds_at(tempo_map.beat_at(seconds)) == pytest.approx(seconds, rel=1e-9, abs=1e-9)


@given(tempo_maps())
def test_beat_zero_is_zero_seconds_and_time_moves_forward(tempo_map):
    assert tempo_map.seconds_at(0.0) == 0.0
    beats = [-8.0 + 0.37 * i for i in range(60)]
    seconds = [tempo_map.seconds_at(b) for b in beats]
    assert all(later > earlier for earlier, later in zip(seconds, seconds[1:]))


@settings(max_examples=40, deadline=None)
@given(tempo_maps(), st.floats(min_value=-16.0, max_value=1000.0))
def test_seconds_agree_with_numerical_integration_of_the_tempo_curve(tempo_map, beat):
    expected = integrated_seconds(tempo_map.tempo, beat)
    assert tempo_map.seconds_at(beat) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_linear_ramp_lasts_the_closed_form_time():
    tempo_map = TempoMap((TempoPoint(0.0, 120.0, ramp=True), TempoPoint(16.0, 140.0)))
    expected = 16.0 * 60.0 / (140.0 - 120.0) * math.log(140.0 / 120.0)
    assert tempo_map.seconds_at(16.0) == pytest.approx(expected, rel=1e-14)
    assert tempo_map.bpm_at(8.0) == pytest.approx(130.0)
    assert tempo_map.seconds_at(20.0) == pytest.approx(expected + 4 * 60 / 140.0, rel=1e-14)


def test_vertical_step_takes_no_time_and_the_last_value_holds():
    stepped = TempoMap((
        TempoPoint(0.0, 100.0, ramp=True),
        TempoPoint(8.0, 140.0),      # the ramp arrives at 140 ...
        TempoPoint(8.0, 70.0),       # ... and the tempo drops to 70 at the same beat
    ))
    ramp_only = 8.0 * 60.0 / 40.0 * math.log(1.4)
    assert stepped.seconds_at(8.0) == pytest.approx(ramp_only, rel=1e-14)
    assert stepped.bpm_at(8.0) == 70.0
    assert stepped.seconds_at(12.0) - stepped.seconds_at(8.0) == pytest.approx(4 * 60 / 70.0, rel=1e-14)
    assert stepped.beat_at(stepped.seconds_at(8.0) + 60 / 70.0) == pytest.approx(9.0)


def test_count_in_beats_run_at_the_first_tempo():
    tempo_map = TempoMap((TempoPoint(0.0, 90.0), TempoPoint(4.0, 180.0)))
    assert tempo_map.seconds_at(-4.0) == pytest.approx(-4 * 60 / 90.0)
    assert tempo_map.beat_at(-1.0) == pytest.approx(-1.5)
    assert tempo_map.bar_at(-0.5) == 0
    assert tempo_map.bar_at(-4.0) == 0
    assert tempo_map.bar_at(-4.5) == -1


def test_no_drift_after_a_thousand_tempo_changes():
    """Bar 500 equals an exact rational computation, to float64 rounding."""
    points = []
    exact = Fraction(0)
    beat = 0
    bpm_for = [Fraction(90 + (i * 37) % 97, 1) + Fraction(i % 7, 8) for i in range(1000)]
    lengths = [1 + (i * 13) % 3 for i in range(1000)]  # 1..3 beats each: 2000 beats in all
    for bpm, length in zip(bpm_for, lengths):
        points.append(TempoPoint(float(beat), float(bpm)))
        beat += length
    tempo_map = TempoMap(tuple(points))
    bar_500_beat = 499 * 4
    remaining = bar_500_beat
    for bpm, length in zip(bpm_for, lengths):
        step = min(length, remaining)
        exact += Fraction(step) * 60 / bpm
        remaining -= step
        if remaining == 0:
            break
    seconds = tempo_map.bar_start_seconds(500)
    assert abs(seconds - float(exact)) <= math.ulp(float(exact))
    assert tempo_map.beat_at(float(exact)) == pytest.approx(bar_500_beat, rel=1e-15)


# -- meters and bars ----------------------------------------------------------------------


def test_bar_numbers_across_four_four_seven_four_six_eight_and_one_four():
    tempo_map = TempoMap(
        (TempoPoint(0.0, 120.0),),
        (Meter(0.0, 4, 4), Meter(8.0, 7, 4), Meter(22.0, 6, 8), Meter(28.0, 1, 4)),
    )
    starts = [row.beat for row in tempo_map.bars(1, 10)]
    #          4/4 x2     7/4 x2      6/8 x2      1/4 ...
    assert starts == [0.0, 4.0, 8.0, 15.0, 22.0, 25.0, 28.0, 29.0, 30.0, 31.0]
    assert [tempo_map.bar_at(b) for b in (0, 3.99, 4, 8, 14.9, 15, 22, 24.9, 25, 28, 28.5, 29)] == \
        [1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 7, 8]
    position = tempo_map.position_at(23.5)  # 6/8, bar 5, 1.5 quarters in = the 4th eighth
    assert (position.bar, position.beat_in_bar, position.label) == (5, 1.5, "5.4.00")
    assert tempo_map.position_at(10.25).label == "3.3.25"
    assert [row.numerator for row in tempo_map.bars(1, 8)] == [4, 4, 7, 7, 6, 6, 1, 1]


def test_meter_change_in_the_middle_of_a_bar_starts_a_new_bar_there():
    tempo_map = TempoMap((TempoPoint(0.0, 120.0),), (Meter(0.0, 4, 4), Meter(6.0, 3, 4)))
    assert tempo_map.bar_at(5.99) == 2
    assert tempo_map.bar_at(6.0) == 3
    assert [tempo_map.bar_start_beat(n) for n in (1, 2, 3, 4, 5)] == [0.0, 4.0, 6.0, 9.0, 12.0]
    assert tempo_map.position_at(5.0).beat_in_bar == 1.0


@st.composite
def metered_maps(draw) -> TempoMap:
    changes = draw(st.lists(
        st.tuples(st.integers(0, 800).map(lambda n: n / 2), st.integers(1, 15), st.sampled_from([1, 2, 4, 8, 16])),
        max_size=12,
    ))
    meters = [Meter(beat, numerator, denominator) for beat, numerator, denominator in changes]
    return TempoMap((TempoPoint(0.0, draw(BPMS)),), tuple(meters))


@given(metered_maps(), st.integers(1, 300))
def test_every_bar_starts_where_bar_at_says_it_does(tempo_map, bar):
    start = tempo_map.bar_start_beat(bar)
    assert tempo_map.bar_at(start) == bar
    assert tempo_map.bar_start_beat(bar + 1) > start
    assert tempo_map.bar_at(tempo_map.bar_start_beat(bar + 1) - 1e-6) == bar
    position = tempo_map.position_at(start + 0.25)
    assert 0.0 <= position.beat_in_bar < position.bar_beats


def test_bars_in_seconds_and_bar_rows():
    tempo_map = TempoMap((TempoPoint(0.0, 120.0),), (Meter(0.0, 3, 4),))
    rows = list(tempo_map.bars_in_seconds(1.0, 6.0))
    assert [r.bar for r in rows] == [2, 3, 4]  # bars start at 0, 1.5, 3.0, 4.5, 6.0 s
    assert rows[0].seconds == pytest.approx(1.5)


# -- markers, serialisation, equality -----------------------------------------------------


def test_markers_sort_and_sections_resolve():
    tempo_map = TempoMap.constant(120.0, markers=[Marker("B", 16.0), Marker("A", 0.0)])
    assert [m.name for m in tempo_map.markers] == ["A", "B"]
    assert tempo_map.marker_at(15.9).name == "A"
    assert tempo_map.marker_at(16.0).name == "B"


@given(tempo_maps(), metered_maps())
def test_to_dict_from_dict_round_trip_through_json(tempo_part, meter_part):
    tempo_map = TempoMap(tempo_part.tempo, meter_part.meters, (Marker("Drop ✨", 12.5), Marker("", 3.0)))
    data = json.loads(json.dumps(tempo_map.to_dict(last_bar=4)))
    assert TempoMap.from_dict(data) == tempo_map
    assert [b["bar"] for b in data["bars"]] == [1, 2, 3, 4]


def test_value_equality_and_hash():
    a = TempoMap((TempoPoint(4.0, 130.0), TempoPoint(0.0, 120.0, True)), (Meter(0.0, 4, 4), Meter(8.0, 4, 4)))
    b = TempoMap((TempoPoint(0.0, 120, True), TempoPoint(4, 130)))
    assert a == b and hash(a) == hash(b)
    assert a != TempoMap((TempoPoint(0.0, 120.0), TempoPoint(4.0, 130.0)))
    assert len({a, b}) == 1
    # a ramp flag that changes nothing does not make a different value
    assert TempoMap((TempoPoint(0, 120, True),)) == TempoMap.constant(120)
    assert TempoMap((TempoPoint(0, 120, True), TempoPoint(4, 120))) == TempoMap((TempoPoint(0, 120), TempoPoint(4, 120)))


@pytest.mark.parametrize("bpm", [0.0, -1.0, math.nan, math.inf])
def test_bad_tempo_is_refused(bpm):
    with pytest.raises(ValueError, match="BPM"):
        TempoMap.constant(bpm)


@pytest.mark.parametrize("meter", [(4, 3), (0, 4), (4, 0), (100, 4)])
def test_bad_meter_is_refused(meter):
    with pytest.raises(ValueError, match="meter"):
        TempoMap.constant(120.0, *meter)
