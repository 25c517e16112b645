"""load_timeline dispatch, parse_meter / parse_bpm, and the recording seam."""

from __future__ import annotations

import json

import pytest

from barlight.cli import main
from bridge.errors import InputError
from bridge.timeline.sources import load_timeline, parse_bpm, parse_meter
from bridge.timeline.tempo_map import TempoMap


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


def test_a_broken_recording_is_an_input_error_naming_it(tmp_path, capsys):
    recording = tmp_path / "broken.jsonl"
    recording.write_text('{"format": "something-else"}\n')
    assert main(["timeline", str(recording)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"barlight timeline: error: {recording}: ")


def _recorded_session(path, bpm_changes_at_beat: float = 32.0):
    """A recording in bridge.recording's JSON Lines format: 120 BPM, then 150 BPM from beat 32, 4/4,
    one locator list, played from beat 0 to beat 47.5."""
    lines = [{"format": "barlight-session", "version": 1, "protocol": "1", "started_unix": 1.0,
              "started_host_seconds": 100.0, "host_clock": "monotonic"},
             {"t": 100.0, "session": "s1", "from": "127.0.0.1:5000", "beat": None, "address": "/daw/hello",
              "args": {"source": "m4l", "version": "1", "session_id": "s1", "reply_port": None}},
             {"t": 100.01, "session": "s1", "from": "127.0.0.1:5000", "beat": None, "address": "/daw/markers",
              "args": {"markers": [{"name": "Verse", "beat": 0.0}, {"name": "Chorus", "beat": 32.0}]}}]
    beat, t = 0.0, 100.02
    while beat <= 47.5:
        bpm = 120.0 if beat < bpm_changes_at_beat else 150.0
        lines.append({"t": t, "session": "s1", "from": "127.0.0.1:5000", "beat": beat, "address": "/daw/transport",
                      "args": {"playing": True, "beat": beat, "bpm": bpm, "numerator": 4, "denominator": 4,
                               "bar_start_beat": beat - beat % 4, "bar": int(beat // 4) + 1}})
        t += 0.5 * 60 / bpm
        beat += 0.5
    lines.append({"end": True, "t": t, "messages": len(lines) - 1})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_a_real_recording_through_the_cli(tmp_path, capsys):
    recording = _recorded_session(tmp_path / "take.jsonl")
    assert main(["timeline", str(recording), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(p["bpm"]) for p in data["tempo"]] == [120.0, 150.0]
    assert data["tempo"][1]["beat"] == pytest.approx(32.0, abs=0.5)
    assert [m["name"] for m in data["markers"]] == ["Verse", "Chorus"]
    assert data["bars"][-1]["bar"] == 12  # the recording's end (beat 47.5), not last event + 8
