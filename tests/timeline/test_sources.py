"""load_timeline dispatch, parse_meter / parse_bpm, and the recording seam."""

from __future__ import annotations

import json
import sys
import types

import pytest

from barlight.cli import main
from bridge.errors import InputError
from bridge.timeline.sources import load_timeline, parse_bpm, parse_meter
from bridge.timeline.tempo_map import Marker, TempoMap


@pytest.mark.parametrize("text, expected", [("4/4", (4, 4)), ("7/8", (7, 8)), (" 6 / 8 ", (6, 8)),
                                            ("1/4", (1, 4)), ("99/64", (99, 64)), ("5/1", (5, 1))])
def test_parse_meter_accepts_what_a_daw_can_have(text, expected):
    assert parse_meter(text) == expected


@pytest.mark.parametrize("text", ["4/3", "0/4", "4/0", "100/4", "4/128", "4", "4/4/4", "four/four", "", "-3/4", "3.5/4"])
def test_parse_meter_refuses_the_rest_with_an_input_error(text):
    with pytest.raises(InputError) as err:
        parse_meter(text)
    assert err.value.where == "--meter"


@pytest.mark.parametrize("bpm", [0, -1, "nan", "inf", "fast", None, 2e6])
def test_parse_bpm_refuses_non_tempos(bpm):
    with pytest.raises(InputError, match="--bpm"):
        parse_bpm(bpm)


def test_constant_timeline_from_bpm_and_meter():
    assert load_timeline(None, bpm=128, meter="7/8") == TempoMap.constant(128.0, 7, 8)
    assert load_timeline("", bpm=90) == TempoMap.constant(90.0)


def test_no_source_and_no_bpm_is_no_tempo():
    with pytest.raises(InputError, match="no tempo"):
        load_timeline(None)


def test_extension_dispatch_is_case_insensitive(write_midi, tmp_path):
    path = write_midi([[]], name="SONG.MID")
    assert load_timeline(path) == TempoMap.constant(120.0)
    with pytest.raises(InputError, match="unknown timeline type '.wav'"):
        load_timeline(tmp_path / "song.wav")
    with pytest.raises(InputError, match="no extension"):
        load_timeline(tmp_path / "song")


def test_a_directory_is_not_a_timeline(tmp_path):
    folder = tmp_path / "set.als"
    folder.mkdir()
    with pytest.raises(InputError, match="directory"):
        load_timeline(folder)


def test_recordings_go_to_bridge_recording_and_set_the_table_end(monkeypatch, tmp_path, capsys):
    """The seam to the recording reader: .jsonl is handed to bridge.recording, imported on use."""
    recording = tmp_path / "session.jsonl"
    recording.write_text("{}\n")
    seen = []
    reader = types.ModuleType("bridge.recording")

    def tempo_map_from_recording(path):
        seen.append(path)
        return TempoMap.constant(100.0, markers=[Marker("Verse", 8.0)])

    reader.tempo_map_from_recording = tempo_map_from_recording
    reader.recording_end_beat = lambda path: 22.0  # bar 6 in 4/4
    monkeypatch.setitem(sys.modules, "bridge.recording", reader)

    assert load_timeline(recording).markers == (Marker("Verse", 8.0),)
    assert main(["timeline", str(recording), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [b["bar"] for b in data["bars"]] == [1, 2, 3, 4, 5, 6]
    assert seen == [recording, recording]


def test_recording_reader_errors_become_input_errors(monkeypatch, tmp_path):
    recording = tmp_path / "broken.jsonl"
    recording.write_text("not json\n")
    reader = types.ModuleType("bridge.recording")

    def tempo_map_from_recording(path):
        raise ValueError("line 1 is not JSON")

    reader.tempo_map_from_recording = tempo_map_from_recording
    monkeypatch.setitem(sys.modules, "bridge.recording", reader)
    with pytest.raises(InputError) as err:
        load_timeline(recording)
    assert err.value.where == str(recording) and "line 1 is not JSON" in err.value.problem
