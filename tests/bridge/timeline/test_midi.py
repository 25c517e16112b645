"""Standard MIDI Files -> TempoMap through load_timeline: meta events, formats, duplicates, exact beats."""

from __future__ import annotations

import math
from fractions import Fraction

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import InputError
from bridge.timeline.sources import load_timeline
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint


def tempo(bpm: float) -> mido.MetaMessage:
    return mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))


def stored(bpm: float) -> float:
    """The BPM a file holds for ``bpm``: SMF stores whole microseconds per quarter note."""
    return 60_000_000 / mido.bpm2tempo(bpm)


def us_tempo(microseconds: int) -> mido.MetaMessage:
    return mido.MetaMessage("set_tempo", tempo=microseconds)


def meter(numerator: int, denominator: int) -> mido.MetaMessage:
    return mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)


def marker(text: str, kind: str = "marker") -> mido.MetaMessage:
    return mido.MetaMessage(kind, text=text)


def note(tick_note: int) -> mido.Message:
    return mido.Message("note_on", note=tick_note, velocity=64)


def test_format_0_reads_tempo_meters_markers_and_cue_markers(write_midi):
    path = write_midi([[
        (0, tempo(100)), (0, meter(4, 4)), (0, marker("Intro")),
        (960 * 8, tempo(150)), (960 * 8, meter(7, 8)), (960 * 8, marker("Drop", "cue_marker")),
        (960 * 8 + 1, note(60)),
    ]], ticks_per_beat=960, file_type=0)
    tempo_map = load_timeline(path)
    assert tempo_map.tempo == (TempoPoint(0.0, 100.0), TempoPoint(8.0, 150.0))
    assert tempo_map.meters == (Meter(0.0, 4, 4), Meter(8.0, 7, 8))
    assert tempo_map.markers == (Marker("Intro", 0.0), Marker("Drop", 8.0))
    assert tempo_map.seconds_at(8.0) == pytest.approx(8 * 0.6)
    assert tempo_map.bar_at(8.0) == 3
    assert tempo_map.bar_start_beat(4) == 11.5  # 7/8 bars are 3.5 quarter notes


def test_format_1_takes_tempo_from_any_track_and_collapses_duplicates(write_midi):
    conductor = [(0, tempo(120)), (0, marker("A")), (1920, marker("B"))]
    notes = [(0, note(60)), (480, tempo(90)), (1920, marker("B")), (1920, tempo(90 + 0))]
    copy = [(480, tempo(90)), (960, meter(3, 4)), (960, meter(3, 4))]
    tempo_map = load_timeline(write_midi([conductor, notes, copy]))
    assert tempo_map.tempo == (TempoPoint(0.0, 120.0), TempoPoint(1.0, stored(90)), TempoPoint(4.0, stored(90)))
    assert tempo_map.meters == (Meter(0.0, 4, 4), Meter(2.0, 3, 4))
    assert tempo_map.markers == (Marker("A", 0.0), Marker("B", 4.0))


def test_two_tempos_at_one_tick_the_later_in_file_order_holds(write_midi):
    tempo_map = load_timeline(write_midi([[(0, tempo(120)), (480, tempo(60)), (480, tempo(180))]]))
    assert tempo_map.bpm_at(1.0) == stored(180)
    assert tempo_map.seconds_at(2.0) == pytest.approx(0.5 + mido.bpm2tempo(180) / 1e6, rel=1e-15)


@pytest.mark.parametrize("ticks_per_beat", [96, 480, 960, 1000])
def test_ticks_become_beats_exactly(write_midi, ticks_per_beat):
    ticks = [1, 7, ticks_per_beat * 3 + 5, ticks_per_beat * 1001 + 1]
    path = write_midi([[(tick, marker(f"m{tick}")) for tick in ticks]], ticks_per_beat=ticks_per_beat)
    beats = [m.beat for m in load_timeline(path).markers]
    assert beats == [float(Fraction(tick, ticks_per_beat)) for tick in ticks]


def test_hundreds_of_tempo_events_and_markers_match_exact_tick_arithmetic(write_midi):
    """A ramp written as 600 set_tempo steps (as DAWs export them) plus 150 markers."""
    tpb = 480
    events = []
    micros = []
    for step in range(600):
        us = round(60_000_000 / (90 + step * 0.1))  # 90 -> 150 BPM in steps of a 16th note
        micros.append(us)
        events.append((step * tpb // 4, us_tempo(us)))
    events += [(bar * 4 * tpb, marker(f"Bar {bar + 1}")) for bar in range(150)]
    tempo_map = load_timeline(write_midi([events, [(0, note(60))]], ticks_per_beat=tpb))
    assert len(tempo_map.tempo) == 600
    assert len(tempo_map.markers) == 150
    exact = sum(Fraction(tpb // 4, tpb) * Fraction(us, 1_000_000) for us in micros[:-1])
    last_beat = 599 / 4
    assert abs(tempo_map.seconds_at(last_beat) - float(exact)) <= 2 * math.ulp(float(exact))
    assert tempo_map.markers[-1] == Marker("Bar 150", 596.0)
    assert tempo_map.beat_at(float(exact)) == pytest.approx(last_beat, rel=1e-14)


def test_without_a_tempo_the_smf_default_or_the_given_bpm_applies(write_midi):
    path = write_midi([[(0, marker("start")), (480, tempo(60))]])
    assert load_timeline(path).tempo[0] == TempoPoint(0.0, 120.0)
    assert load_timeline(path, bpm=95).tempo[0] == TempoPoint(0.0, 95.0)
    assert load_timeline(path, meter="6/8").meters[0] == Meter(0.0, 6, 8)


def test_marker_text_is_read_as_utf8_and_stripped(write_midi):
    path = write_midi([[(0, marker("  Chorus ✨ サビ ")), (480, marker("Bridge"))]])
    assert [m.name for m in load_timeline(path).markers] == ["Chorus ✨ サビ", "Bridge"]


def test_latin1_marker_text_falls_back(tmp_path):
    midi = mido.MidiFile(type=0, ticks_per_beat=480)  # mido's default charset: latin-1
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("marker", text="Café")]))
    path = tmp_path / "latin.mid"
    midi.save(str(path))
    assert load_timeline(path).markers[0].name == "Café"


@pytest.mark.parametrize("content", [b"", b"garbage, not midi", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02"])
def test_garbage_midi_is_an_input_error_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_timeline(path)
    assert err.value.where == str(path)


def test_truncated_midi_is_an_input_error(write_midi):
    path = write_midi([[(0, tempo(120)), (480, marker("x")), (960, note(60))]])
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(InputError, match="MIDI"):
        load_timeline(path)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from([24, 96, 480, 960]),
    st.lists(st.tuples(st.integers(0, 20_000), st.integers(250_000, 3_000_000)), min_size=1, max_size=40),
    st.lists(st.tuples(st.integers(0, 20_000), st.sampled_from([(3, 4), (7, 8), (1, 4), (6, 8), (4, 4)])), max_size=6),
    st.integers(1, 3),
)
def test_random_files_round_trip_to_the_map_of_their_events(tmp_path_factory, midi_file_writer, tpb, tempos, meters, tracks):
    """Whatever track an event sits on, the map equals the one built from the events themselves."""
    by_tick = dict(sorted(tempos))  # one tempo per tick: the file can't order duplicates across tracks
    meter_by_tick = dict(sorted(meters))
    layout = [[] for _ in range(tracks)]
    for i, (tick, us) in enumerate(by_tick.items()):
        layout[i % tracks].append((tick, us_tempo(us)))
    for i, (tick, (num, den)) in enumerate(meter_by_tick.items()):
        layout[(i + 1) % tracks].append((tick, meter(num, den)))
    path = midi_file_writer(tmp_path_factory.mktemp("midi") / "random.mid", layout, ticks_per_beat=tpb)
    expected_tempo = {0: 120.0, **{tick: 60_000_000 / us for tick, us in by_tick.items()}}
    expected_meters = {0: (4, 4), **meter_by_tick}
    expected = TempoMap(
        tuple(TempoPoint(tick / tpb, bpm) for tick, bpm in sorted(expected_tempo.items())),
        tuple(Meter(tick / tpb, *m) for tick, m in sorted(expected_meters.items())),
    )
    assert load_timeline(path) == expected
