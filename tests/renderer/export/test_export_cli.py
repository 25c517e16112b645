"""``barlight export`` on the command line: outputs, messages, one-line errors; the demo piece."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from barlight.cli import main
from bridge.timeline.sources import load_timeline
from bridge.timeline.tempo_map import TempoMap
from renderer.export.demo import demo_tempo_map, write_demo


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A saved embedded model with tiny seeded weights, passed as ``--model`` like a trained one."""
    from renderer.embedded.config import tiny_pipeline

    folder = tmp_path_factory.mktemp("tiny-model")
    tiny_pipeline(seed=0).save_pretrained(folder)
    return folder


@pytest.fixture
def clicks(tmp_path, build) -> Path:
    tempo_map = TempoMap.constant(150.0)
    return build.write_clicks(tmp_path / "take.wav", build.click_times(tempo_map, 2.0), 2.0)


def test_export_with_a_constant_tempo_writes_video_and_keyframes(tmp_path, clicks, tiny_model, capsys):
    out = tmp_path / "out"
    code = main(["export", str(clicks), "--bpm", "150", "--meter", "3/4", "--out", str(out), "--fps", "12",
                 "--size", "64x64", "--model", str(tiny_model), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    assert (out / "take.mp4").is_file() and str(out / "take.mp4") in printed
    for name in ("keyframes.json", "keyframes.csv", "keyframes.parseq.json"):
        assert str(out / name) in printed
    sheet = json.loads((out / "keyframes.json").read_text())
    assert [(b["bar"], b["seconds"], b["frame"], b["numerator"]) for b in sheet["bars"]] == [
        (1, 0.0, 0, 3), (2, 1.2, 14, 3)]  # 3/4 at 150 BPM: a bar every 1.2 s
    assert sheet["timeline"]["source"] == "--bpm 150 --meter 3/4"


def test_export_without_a_timeline_beat_tracks_and_says_so(tmp_path, clicks, tiny_model, capsys):
    code = main(["export", str(clicks), "--out", str(tmp_path / "out"), "--fps", "8", "--size", "64x64",
                 "--model", str(tiny_model), "--quiet"])
    err = capsys.readouterr().err
    assert code == 0
    assert "beat-tracked the audio" in err and "BPM" in err
    sheet = json.loads((tmp_path / "out" / "keyframes.json").read_text())
    assert 140 <= sheet["bars"][0]["bpm"] <= 160
    assert sheet["timeline"]["source"].startswith("beat-tracked")


@pytest.mark.parametrize(("extra", "message"), [
    (["--fps", "0"], "--fps"),
    (["--size", "63x64"], "--size"),
    (["--bars", "4:2"], "--bars"),
    (["--meter", "4/3"], "--meter"),
    (["--timeline", "missing.mid"], "missing.mid: no such file"),
    (["--timeline", "notes.txt"], "unknown timeline type"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, clicks, capsys, extra, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    args = ["export", str(clicks), "--out", str(tmp_path / "out")]
    if not any(a in extra for a in ("--timeline", "--meter")):
        args += ["--bpm", "120"]
    elif "--meter" in extra:
        args += ["--bpm", "120"]
    code = main(args + extra)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out" / "keyframes.json").exists()


def test_a_missing_audio_file_is_named(tmp_path, capsys):
    code = main(["export", str(tmp_path / "nope.wav"), "--bpm", "120", "--out", str(tmp_path / "out")])
    assert code == 2
    assert "nope.wav: no such audio file" in capsys.readouterr().err


def test_the_demo_piece_and_its_midi_tempo_map_agree(tmp_path):
    wav, mid, piece = write_demo(tmp_path)
    assert load_timeline(mid) == demo_tempo_map() == piece.tempo_map
    tempo_map = piece.tempo_map
    assert [m.name for m in tempo_map.markers] == ["intro", "drop"]
    assert {(m.numerator, m.denominator) for m in tempo_map.meters} == {(4, 4), (7, 8)}
    assert {p.bpm for p in tempo_map.tempo} == {100.0, 125.0}
    assert 20.0 <= piece.duration_seconds <= 30.0
    import soundfile

    data, rate = soundfile.read(str(wav))
    assert rate == piece.sample_rate and data.shape == (piece.samples.shape[1], 2)
    assert 0.5 < abs(data).max() <= 1.0


def test_export_from_the_latest_session_as_prores(tmp_path, build, tiny_model, monkeypatch, capsys):
    from bridge.timeline.tempo_map import Meter, TempoPoint

    truth = TempoMap((TempoPoint(0, 200), TempoPoint(4, 250)), (Meter(0, 4, 4), Meter(4, 3, 4)))
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    build.write_recording(sessions / "20260101-120000.jsonl", truth, 2.5)
    monkeypatch.setenv("BARLIGHT_SESSIONS", str(sessions))
    audio = build.write_clicks(tmp_path / "mix.wav", build.click_times(truth, 2.0), 2.0)
    out = tmp_path / "out"
    code = main(["export", str(audio), "--session", "latest", "--out", str(out), "--fps", "10", "--size", "64x64",
                 "--model", str(tiny_model), "--prores", "--quiet"])
    assert code == 0, capsys.readouterr().err
    import av

    with av.open(str(out / "mix.mov")) as container:
        assert container.streams.video[0].codec_context.name == "prores"
        assert container.streams.video[0].frames == 20
    sheet = json.loads((out / "keyframes.json").read_text())
    recorded = load_timeline(sessions / "20260101-120000.jsonl")
    assert [b["seconds"] for b in sheet["bars"]] == [row.seconds for row in recorded.bars(1, len(sheet["bars"]))]
    assert sheet["timeline"]["source"].endswith("20260101-120000.jsonl")


def test_a_re_render_from_keyframes_on_the_command_line(tmp_path, clicks, tiny_model, capsys):
    first = tmp_path / "first"
    assert main(["export", str(clicks), "--bpm", "150", "--out", str(first), "--fps", "8", "--size", "64x64",
                 "--model", str(tiny_model), "--seed", "7", "--quiet"]) == 0
    keyframes = str(first / "keyframes.json")
    capsys.readouterr()
    assert main(["export", "--keyframes", keyframes, "--bars", "1:1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--bars" in err and len(err.strip().splitlines()) == 1
    again = tmp_path / "again"
    assert main(["export", "--keyframes", keyframes, "--out", str(again), "--fps", "4",
                 "--model", str(tiny_model), "--quiet"]) == 0
    assert f"re-rendering 2 bars from {keyframes}" in capsys.readouterr().err
    old, new = (json.loads((folder / "keyframes.json").read_text()) for folder in (first, again))
    assert [(b["bar"], b["seed"], b["seconds"]) for b in new["bars"]] == [
        (b["bar"], b["seed"], b["seconds"]) for b in old["bars"]]
    assert (new["fps"], new["width"], new["base_seed"], new["audio"]) == ("4", 64, 7, old["audio"])
