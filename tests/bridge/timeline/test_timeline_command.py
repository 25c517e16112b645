"""``barlight timeline`` through the real CLI: tables, JSON, the shipped example, one-line errors."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys

import mido
import pytest

from barlight.cli import main
from bridge.timeline.examples import example_path
from bridge.timeline.examples.make_example import build_example


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["timeline", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_example_json_has_tempo_meters_markers_and_bars_through_last_event_plus_eight(capsys):
    code, out, err = run_cli(capsys, "--example", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert set(data) == {"tempo", "meters", "markers", "bars"}
    assert [(m["bar"], m["numerator"], m["denominator"]) for m in data["meters"]] == \
        [(1, 4, 4), (17, 7, 4), (21, 6, 8), (29, 4, 4)]
    assert [(m["name"], m["bar"]) for m in data["markers"]] == \
        [("Intro", 1), ("Build", 9), ("Seven", 17), ("Lilt", 21), ("Outro", 29)]
    assert data["bars"][-1]["bar"] == 29 + 8
    assert [b["bar"] for b in data["bars"]] == list(range(1, 38))
    assert data["bars"][1] == {"bar": 2, "beat": 4.0, "seconds": 2.4, "numerator": 4, "denominator": 4, "bpm": 100.0}
    assert len(data["tempo"]) == 34 and all(set(p) == {"beat", "bpm", "ramp"} for p in data["tempo"])
    seven = next(m for m in data["markers"] if m["name"] == "Seven")
    assert seven["seconds"] == pytest.approx(36.062, abs=1e-3)


def test_example_table_shows_positions_times_and_sections(capsys):
    code, out, _err = run_cli(capsys, "--example")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    bar_17 = next(r for r in rows if r[:2] == ["17", "17.1"])
    assert bar_17 == ["17", "17.1", "64", "0:36.062", "128.000", "7/4", "Seven"]
    bar_22 = next(r for r in rows if r[:2] == ["22", "22.1"])
    assert bar_22[2:] == ["95", "0:50.593", "128.000", "6/8", "Lilt"]
    assert any(r[:2] == ["29.1.00", "116"] and r[-1] == "Outro" for r in rows)


def test_constant_tempo_without_a_source(capsys):
    code, out, _err = run_cli(capsys, "--bpm", "90", "--meter", "7/8", "--bars", "3", "--json")
    data = json.loads(out)
    assert code == 0
    assert [(b["bar"], b["beat"], b["seconds"]) for b in data["bars"]] == \
        [(1, 0.0, 0.0), (2, 3.5, pytest.approx(60 / 90 * 3.5)), (3, 7.0, pytest.approx(60 / 90 * 7))]
    assert data["meters"] == [{"beat": 0.0, "bar": 1, "numerator": 7, "denominator": 8}]


def test_a_midi_songs_bar_table_runs_through_its_last_note(capsys, write_midi):
    """A 20-bar song whose tempo map ends in bar 5 shows all 20 bars, not 5 + 8."""
    tempo = [(0, mido.MetaMessage("set_tempo", tempo=500_000)), (480 * 16, mido.MetaMessage("set_tempo", tempo=400_000))]
    notes = []
    for beat in range(20 * 4):  # a note on every beat of 20 bars: the last one ends on bar 21's line
        notes += [(480 * beat, mido.Message("note_on", note=60, velocity=90)),
                  (480 * (beat + 1), mido.Message("note_off", note=60, velocity=0))]
    code, out, _err = run_cli(capsys, str(write_midi([tempo, notes])), "--json")
    assert code == 0 and [b["bar"] for b in json.loads(out)["bars"]] == list(range(1, 21))
    # a tempo-map-only file (a DAW's tempo export) still gets 8 bars past its last event
    code, out, _err = run_cli(capsys, str(write_midi([tempo], name="map.mid")), "--json")
    assert code == 0 and json.loads(out)["bars"][-1]["bar"] == 5 + 8


def test_als_source_and_bars_option(capsys, write_als):
    path = write_als("12", tempo_events=[(-63072000, 120), (0, 120), (8, 180)], locators=[(4, ""), (0, "Start")])
    code, out, _err = run_cli(capsys, str(path), "--bars", "3")
    assert code == 0
    assert "(unnamed)" in out
    assert "ramp to 180" in out
    assert out.rstrip().splitlines()[-1].split()[:2] == ["3", "3.1"]


def test_an_event_absurdly_far_away_needs_an_explicit_bar_count(capsys, write_als):
    path = write_als("12", tempo_events=[(-63072000, 120)], locators=[(4e9, "far")])
    code, _out, err = run_cli(capsys, str(path))
    assert code == 2 and "pass --bars N" in err and str(path) in err
    code, out, _err = run_cli(capsys, str(path), "--bars", "2", "--json")
    assert code == 0 and json.loads(out)["markers"][0]["bar"] == 1_000_000_001


def _bad_inputs(tmp_path, write_als):
    truncated = write_als("11", tempo_events=[(-63072000, 120)], name="cut.als")
    truncated.write_bytes(truncated.read_bytes()[:40])
    plain = tmp_path / "plain.als"
    plain.write_text("<Ableton />")
    garbage = tmp_path / "garbage.mid"
    garbage.write_bytes(b"\x00garbage")
    no_tempo = tmp_path / "notempo.als"
    no_tempo.write_bytes(gzip.compress(b"<Ableton><LiveSet /></Ableton>"))
    wav = tmp_path / "song.wav"
    wav.write_bytes(b"RIFF")
    empty_midi = tmp_path / "empty.mid"
    empty_midi.write_bytes(b"")
    cut_midi = tmp_path / "cut.mid"
    cut_midi.write_bytes(example_path().read_bytes()[:60])
    return [
        ([str(empty_midi)], str(empty_midi), "empty file (0 bytes)"),
        ([str(cut_midi)], str(cut_midi), "truncated Standard MIDI File"),
        ([str(truncated)], str(truncated), "truncated"),
        ([str(plain)], str(plain), "gzip"),
        ([str(garbage)], str(garbage), "MIDI"),
        ([str(no_tempo)], str(no_tempo), "no tempo"),
        ([str(wav)], str(wav), "use .mid, .midi, .smf, .als or .jsonl"),
        ([str(tmp_path / "missing.mid")], "missing.mid", "no such file"),
        (["--bpm", "0"], "--bpm", "1..999 BPM"),
        (["--bpm", "-120"], "--bpm", "1..999 BPM"),
        (["--bpm", "120", "--meter", "4/3"], "--meter", "power of two"),
        (["--bpm", "120", "--meter", "four"], "--meter", "4/4"),
        ([], "timeline", "no tempo"),
        (["--example", "--bars", "0"], "--bars", "1..100000"),
        (["--example", "--bars", "100001"], "--bars", "1..100000"),
        (["--example", str(garbage)], "--example", "not both"),
    ]


def test_bad_input_prints_one_line_naming_the_file_and_exits_2(capsys, tmp_path, write_als):
    for argv, where, problem in _bad_inputs(tmp_path, write_als):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2, argv
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("barlight timeline: error: ")
        assert where in lines[0] and problem in lines[0], (argv, lines[0])


def test_bad_input_through_the_installed_entry_point_has_no_traceback(tmp_path, write_als):
    bad = write_als("10", tempo_events=[(-63072000, 120)], name="broken.als")
    bad.write_bytes(bad.read_bytes()[:30])
    result = subprocess.run([sys.executable, "-m", "barlight", "timeline", str(bad)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"barlight timeline: error: {bad}: truncated")
    assert len(result.stderr.strip().splitlines()) == 1


def test_shipped_example_is_what_the_generator_builds():
    buffer = io.BytesIO()
    build_example().save(file=buffer)
    assert example_path().read_bytes() == buffer.getvalue()
    assert mido.MidiFile(str(example_path())).type == 1


def test_a_table_cut_short_by_a_closed_pipe_ends_quietly(tmp_path):
    """``barlight timeline … | head``: the reader goes away; no BrokenPipeError traceback."""
    process = subprocess.Popen([sys.executable, "-m", "barlight", "timeline", "--example", "--bars", "20000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().strip()
    process.stdout.close()
    _out, err = process.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert process.returncode == 141
