"""Ableton Live sets (Live 8, 9, 10/11, 12 layouts) -> TempoMap through load_timeline."""

from __future__ import annotations

import gzip
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from bridge.errors import InputError
from bridge.timeline.als import decode_time_signature, encode_time_signature, step_like_live
from bridge.timeline.sources import load_timeline
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint

INITIAL = -63072000
VERSIONS = ["8", "9", "10", "11", "12"]

#: 120 BPM, a linear ramp 120 -> 140 over beats 16..32, then a vertical step down to 90 at beat 32
TEMPO_EVENTS = [(INITIAL, 120), (16, 120), (32, 140), (32, 90)]
#: 4/4, 7/4 from beat 32 (bar 9), 6/8 from beat 46 (bar 11)
METER_EVENTS = [(INITIAL, 201), (32, 204), (46, 302)]
#: unsorted, padded, empty and non-ASCII names
LOCATORS = [(46.0, "  Outro\t"), (0.0, "Intro"), (32.0, ""), (16.0, "サビ ✨")]


@pytest.mark.parametrize("version", VERSIONS)
def test_each_live_generation_reads_ramps_steps_meters_and_locators(write_als, version):
    path = write_als(version, tempo_events=TEMPO_EVENTS, meter_events=METER_EVENTS, locators=LOCATORS,
                     manual_bpm=120.0)
    tempo_map = load_timeline(path)
    assert tempo_map == TempoMap(
        (TempoPoint(0, 120), TempoPoint(16, 120, ramp=True), TempoPoint(32, 140), TempoPoint(32, 90)),
        (Meter(0, 4, 4), Meter(32, 7, 4), Meter(46, 6, 8)),
        (Marker("Intro", 0), Marker("サビ ✨", 16), Marker("", 32), Marker("Outro", 46)),
    )
    ramp_seconds = 16 * 60 / 20 * math.log(140 / 120)
    assert tempo_map.seconds_at(32) == pytest.approx(8.0 + ramp_seconds, rel=1e-14)
    assert tempo_map.bpm_at(24) == pytest.approx(130.0)
    assert tempo_map.seconds_at(39) - tempo_map.seconds_at(32) == pytest.approx(7 * 60 / 90)
    assert [tempo_map.bar_at(b) for b in (31.9, 32, 39, 46, 49)] == [8, 9, 10, 11, 12]


@pytest.mark.parametrize("version", ["9", "10", "12"])
def test_a_set_without_automation_uses_the_manual_tempo_and_meter(write_als, version):
    tempo_map = load_timeline(write_als(version, manual_bpm=87.5, manual_meter=encode_time_signature(5, 4)))
    assert tempo_map == TempoMap.constant(87.5, 5, 4)


def test_only_the_initial_event_means_a_constant_tempo(write_als):
    tempo_map = load_timeline(write_als("11", tempo_events=[(INITIAL, 133)], manual_bpm=133))
    assert tempo_map.tempo == (TempoPoint(0.0, 133.0),)


def test_first_breakpoint_after_song_start_is_reached_by_a_step_not_a_ramp_from_the_sentinel(write_als):
    tempo_map = load_timeline(write_als("10", tempo_events=[(INITIAL, 100), (8, 150), (16, 150)]))
    assert tempo_map.seconds_at(8) == pytest.approx(8 * 0.6)
    assert tempo_map.bpm_at(8) == 150.0


def test_successive_ramps_are_each_integrated(write_als):
    events = [(INITIAL, 60), (0, 60), (4, 120), (8, 60)]
    tempo_map = load_timeline(write_als("12", tempo_events=events))
    one_ramp = 4 * 60 / 60 * math.log(2)
    assert tempo_map.seconds_at(8) == pytest.approx(2 * one_ramp, rel=1e-14)
    assert tempo_map.bpm_at(6) == pytest.approx(90.0)


@pytest.mark.parametrize("numerator", [1, 4, 7, 15, 99])
@pytest.mark.parametrize("denominator", [1, 2, 4, 8, 16, 32])
def test_time_signature_enum_round_trips(numerator, denominator):
    assert decode_time_signature(encode_time_signature(numerator, denominator)) == (numerator, denominator)


def test_known_time_signature_enum_values():
    assert decode_time_signature(201) == (4, 4)
    assert decode_time_signature(198) == (1, 4)
    assert decode_time_signature(302) == (6, 8)


# -- bad sets ------------------------------------------------------------------------------


def _error(path) -> InputError:
    with pytest.raises(InputError) as err:
        load_timeline(path)
    assert err.value.where == str(path)
    return err.value


def test_truncated_set(write_als):
    path = write_als("12", tempo_events=TEMPO_EVENTS)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    assert "truncated" in _error(path).problem


def test_uncompressed_or_foreign_file(tmp_path):
    path = tmp_path / "plain.als"
    path.write_text("<Ableton><LiveSet /></Ableton>")
    assert "gzip" in _error(path).problem


def test_gzipped_garbage_and_foreign_xml(tmp_path):
    garbage = tmp_path / "garbage.als"
    garbage.write_bytes(gzip.compress(b"\x00\x01 not xml"))
    assert "XML" in _error(garbage).problem
    encoding = tmp_path / "encoding.als"
    encoding.write_bytes(gzip.compress(b'<?xml version="1.0" encoding="U-F-8"?><Ableton><LiveSet /></Ableton>'))
    assert "XML" in _error(encoding).problem
    foreign = tmp_path / "foreign.als"
    foreign.write_bytes(gzip.compress(b"<svg><g /></svg>"))
    assert "not an Ableton Live set" in _error(foreign).problem


def test_set_without_tempo(tmp_path):
    path = tmp_path / "empty.als"
    path.write_bytes(gzip.compress(b'<Ableton><LiveSet><Tracks /></LiveSet></Ableton>'))
    assert "no tempo" in _error(path).problem
    path.write_bytes(gzip.compress(b'<Ableton><LiveSet><MainTrack><DeviceChain><Mixer /></DeviceChain>'
                                   b'</MainTrack></LiveSet></Ableton>'))
    assert "no tempo" in _error(path).problem


@pytest.mark.parametrize("events", [[(INITIAL, 0)], [(INITIAL, 120), (8, -5)], [(INITIAL, 120), (8, float("nan"))]])
def test_bad_tempo_values(write_als, events):
    assert "tempo" in _error(write_als("10", tempo_events=events)).problem.lower()


@pytest.mark.parametrize("value", [-1, 693, 1e300])
def test_bad_time_signature_value(write_als, value):
    assert "time signature" in _error(write_als("10", meter_events=[(INITIAL, 201), (8, value)])).problem
    assert "time signature" in _error(write_als("12", manual_meter=value, name="manual.als")).problem


# -- ramp timing: exact vs as Live plays it ------------------------------------------------

#: A linear ramp 150 -> 50 BPM over 4 bars of 4/4, timed at bars 2..5 by a user on the Ableton
#: forum (viewtopic.php?t=251307, 2024): Live's own playback, and Cubase / the closed form.
FORUM_RAMP = [(INITIAL, 150), (0, 150), (16, 50)]
LIVE_MEASURED = [1.740, 3.867, 6.604, 10.447]
EXACT_MEASURED = [1.750, 3.892, 6.654, 10.547]


def test_exact_ramps_match_the_closed_form_and_cubase(write_als):
    tempo_map = load_timeline(write_als("11", tempo_events=FORUM_RAMP))
    assert [tempo_map.bar_start_seconds(bar) for bar in (2, 3, 4, 5)] == pytest.approx(EXACT_MEASURED, abs=1e-3)


def test_live_ramps_reproduce_lives_measured_playback(write_als):
    tempo_map = load_timeline(write_als("11", tempo_events=FORUM_RAMP), ramps="live")
    assert [tempo_map.bar_start_seconds(bar) for bar in (2, 3, 4, 5)] == pytest.approx(LIVE_MEASURED, abs=1.5e-3)
    assert len(tempo_map.tempo) == 64 + 1  # one step per 16th note, then 50 BPM
    assert not any(point.ramp for point in tempo_map.tempo)


def test_live_mode_moves_an_off_grid_change_to_the_next_sixteenth(write_als):
    tempo_map = load_timeline(write_als("12", tempo_events=[(INITIAL, 120), (1.1, 120), (1.1, 60)]), ramps="live")
    assert tempo_map.tempo == (TempoPoint(0.0, 120.0), TempoPoint(1.25, 60.0))


def test_unknown_ramp_mode_is_an_input_error(write_als):
    with pytest.raises(InputError, match="ramps"):
        load_timeline(write_als("12"), ramps="smooth")


def _envelope_bpm(events: list[tuple[float, float]], beat: float) -> float:
    """Live's tempo envelope read straight: held before the first breakpoint and after the last,
    a straight line between breakpoints, the later value after two breakpoints at one time."""
    if beat < events[0][0]:
        return events[0][1]
    for (t0, v0), (t1, v1) in zip(events, events[1:]):
        if t0 <= beat < t1:
            return v0 + (v1 - v0) * (beat - t0) / (t1 - t0)
    return events[-1][1]


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from(["9", "10", "12"]),
    st.lists(st.tuples(st.integers(0, 256).map(lambda n: n / 2), st.integers(40, 300).map(float)),
             min_size=1, max_size=12, unique_by=lambda e: e[0]),
    st.sets(st.integers(0, 11), max_size=3),
    st.floats(min_value=0.0, max_value=140.0),
)
def test_random_envelopes_time_like_the_integral_of_the_drawn_line(tmp_path_factory, als_file_writer, version,
                                                                    breakpoints, steps, beat):
    """Breakpoints (some doubled into vertical steps) vs numerical integration of the drawn line."""
    events = []
    for i, (time, bpm) in enumerate(sorted(breakpoints)):
        events.append((time, bpm))
        if i in steps:
            events.append((time, 320.0 - bpm))  # a vertical step: a second breakpoint at the same time
    path = als_file_writer(tmp_path_factory.mktemp("als") / "random.als", version,
                           tempo_events=[(INITIAL, events[0][1]), *events])
    tempo_map = load_timeline(path)
    breaks = sorted({t for t, _v in events if 0 < t < beat})
    expected, _error = quad(lambda b: 60.0 / _envelope_bpm(events, b), 0.0, beat,
                            points=breaks or None, limit=200, epsabs=1e-12, epsrel=1e-11)
    assert tempo_map.seconds_at(beat) == pytest.approx(expected, rel=1e-8, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-16, 400).map(lambda n: n / 8), st.integers(40, 300).map(float), st.booleans()),
                min_size=1, max_size=15))
def test_live_staircase_equals_sampling_every_sixteenth(points):
    tempo_map = TempoMap(tuple(TempoPoint(beat, bpm, ramp) for beat, bpm, ramp in points))
    first = math.floor(min(0.0, tempo_map.tempo[0].beat) * 4)
    last = math.ceil(tempo_map.tempo[-1].beat * 4) + 4
    samples = [(line / 4, tempo_map.bpm_at(line / 4)) for line in range(first, last + 1)]
    expected = [TempoPoint(*samples[0])]
    for beat, bpm in samples[1:]:
        if bpm != expected[-1].bpm:
            expected.append(TempoPoint(beat, bpm))
    assert step_like_live(tempo_map).tempo == tuple(expected)


def test_a_ramp_too_long_to_step_is_an_input_error(write_als):
    path = write_als("12", tempo_events=[(INITIAL, 120), (0, 120), (1e9, 130)])
    assert load_timeline(path).bpm_at(5e8) == pytest.approx(125.0)
    with pytest.raises(InputError, match="too long"):
        load_timeline(path, ramps="live")


def test_a_huge_tag_is_refused_while_long_text_reads(tmp_path, monkeypatch):
    """Expat holds a tag, attribute or comment whole and rescans it per chunk (a 400 MB attribute took 1.2 GB and
    minutes); text is reported as it comes, so a long plugin state in hex is still read."""
    import bridge.timeline.als as als

    monkeypatch.setattr(als, "MAX_XML_PIECE_BYTES", 2 * als.MiB)
    head = b'<Ableton><LiveSet><MasterTrack><DeviceChain><Mixer><Tempo><Manual Value="120" /></Tempo></Mixer>'
    tail = b"</DeviceChain></MasterTrack></LiveSet></Ableton>"
    text = tmp_path / "text.als"
    text.write_bytes(gzip.compress(head + b"<Buffer>" + b"0a1b" * (1 << 20) + b"</Buffer>" + tail))
    assert load_timeline(text).bpm_at(0.0) == 120.0
    for name, piece in (("attribute", b'<Buffer Value="' + b"A" * (5 << 20) + b'" />'),
                        ("comment", b"<!--" + b"A" * (5 << 20) + b"-->")):
        path = tmp_path / f"{name}.als"
        path.write_bytes(gzip.compress(head + piece + tail))
        assert "a single XML tag, attribute or comment of more than 2 MB" in _error(path).problem
