"""Full exports through the real parsers, features, renderer (tiny embedded weights) and encoders."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile
from scipy.signal import correlate

from bridge.errors import InputError
from bridge.timeline.sources import load_timeline
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint
from renderer.export.job import run_export
from renderer.export.keyframes import read_keyframes
from renderer.export.request import ExportRequest, rerender_request
from renderer.export.timing import BarRange

SIZE = (64, 64)


def export(tmp_path: Path, make_renderer, tempo_map: TempoMap, audio: Path, fps: Fraction, name: str = "out",
           bars: BarRange = BarRange(), preset="neon", sinks=(), **kwargs):
    renderer = make_renderer(preset, seed=kwargs.get("seed"))
    request = ExportRequest(audio=audio, out_dir=tmp_path / name, tempo_map=tempo_map, fps=fps, size=SIZE,
                            bars=bars, preset=str(preset), **kwargs)
    return run_export(request, renderer=renderer, progress=False, sinks=sinks)


def audio_seconds(path: Path) -> Fraction:
    info = soundfile.info(str(path))
    return Fraction(info.frames, info.samplerate)


def decoded_video(path: Path) -> tuple[list, object]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(frame.pts, frame.time_base, frame.to_ndarray(format="rgb24")) for frame in container.decode(stream)]
        return frames, (stream.duration, stream.time_base, stream.average_rate)


def decoded_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)


def audio_lag(video: Path, audio: Path) -> int:
    original, _ = soundfile.read(str(audio), dtype="float32", always_2d=True)
    decoded = decoded_audio(video)[0]
    n = min(len(decoded), len(original))
    cc = correlate(decoded[:n], original[:n, 0], mode="full", method="fft")
    return int(np.argmax(cc)) - (n - 1)


def check_keyframes(out: Path, tempo_map: TempoMap, fps: Fraction, duration: Fraction, first_bar: int = 1):
    """Every bar that starts within the audio, with the TempoMap's seconds and frame = round((s - start) * fps)."""
    sheet = read_keyframes(out / "keyframes.json")
    start = Fraction(tempo_map.bar_start_seconds(first_bar))
    expected = []
    bar = first_bar
    while Fraction(tempo_map.bar_start_seconds(bar)) - start < duration:
        expected.append(tempo_map.bar(bar))
        bar += 1
    assert [kf.bar for kf in sheet.bars] == [row.bar for row in expected]
    for kf, row in zip(sheet.bars, expected):
        assert kf.seconds == row.seconds  # exactly the TempoMap's, through JSON
        assert kf.beat == row.beat and kf.bpm == row.bpm
        assert (kf.numerator, kf.denominator) == (row.numerator, row.denominator)
        assert kf.frame == round((Fraction(kf.seconds) - start) * fps)
        marker = tempo_map.marker_at(row.beat)
        assert kf.section == (marker.name if marker else None)
        assert (out / kf.image).is_file()
    if first_bar == 1:
        assert all(kf.frame == round(Fraction(kf.seconds) * fps) for kf in sheet.bars)
    rows = list(csv.DictReader((out / "keyframes.csv").open(encoding="utf-8")))
    assert [(int(r["bar"]), int(r["frame"]), float(r["seconds"])) for r in rows] == [
        (kf.bar, kf.frame, kf.seconds) for kf in sheet.bars]
    parseq = json.loads((out / "keyframes.parseq.json").read_text(encoding="utf-8"))
    seeded = {k["frame"]: k for k in parseq["keyframes"] if "info" in k}
    assert sorted(seeded) == [kf.frame for kf in sheet.bars]
    assert parseq["options"]["output_fps"] == pytest.approx(float(fps))
    return sheet


def check_video(path: Path, fps: Fraction, duration: Fraction):
    frames, (stream_duration, time_base, rate) = decoded_video(path)
    count = -(-duration * fps // 1)  # ceil
    assert len(frames) == count
    assert rate == fps
    for k, (pts, frame_base, _) in enumerate(frames):
        assert pts * frame_base == Fraction(k) / fps
    assert stream_duration * time_base == Fraction(count) / fps
    return frames


# -- timelines with ramps, steps and meter changes, from each kind of file ---------------------------------

def midi_case(tmp_path: Path, build):
    ramp = [(8 + i * 0.5, 180 + 15 * i) for i in range(8)]  # a ramp as a DAW exports it: dense steps
    path = build.write_midi(tmp_path / "song.mid", [(0, 240), (4, 180), *ramp, (12, 300)],
                      [(0, 4, 4), (12, 7, 8), (15.5, 3, 4)], [(0, "intro"), (12, "odd")])
    return path, Fraction(30000, 1001)


def als_case(tmp_path: Path, build):
    path = build.write_als(tmp_path / "song.als", [(0, 200), (4, 200), (8, 320), (12, 320), (12, 150)],
                     [(0, 4, 4), (12, 5, 8), (14.5, 2, 4)], [(4, "verse"), (12, "break")])
    return path, Fraction(25)


def recording_case(tmp_path: Path, build):
    truth = TempoMap((TempoPoint(0, 210), TempoPoint(8, 280)), (Meter(0, 4, 4), Meter(8, 6, 8)),
                     (Marker("a", 0), Marker("b", 8)))
    return build.write_recording(tmp_path / "session.jsonl", truth, 5.0), Fraction(24)


@pytest.mark.parametrize("case", [midi_case, als_case, recording_case], ids=["midi", "als", "recording"])
def test_keyframes_video_and_audio_follow_the_timeline(tmp_path, make_renderer, case, build):
    source, fps = case(tmp_path, build)
    tempo_map = load_timeline(source)
    assert len(tempo_map.meters) >= 2 and len(tempo_map.tempo) >= 2
    audio = build.write_clicks(tmp_path / "bounce.wav", build.click_times(tempo_map, 4.0), 4.0)
    result = export(tmp_path, make_renderer, tempo_map, audio, fps, timeline_source=str(source))
    duration = audio_seconds(audio)
    sheet = check_keyframes(result.video.parent, tempo_map, fps, duration)
    assert len(sheet.bars) >= 4
    assert sheet.timeline["source"] == str(source)
    assert TempoMap.from_dict(sheet.timeline) == tempo_map
    check_video(result.video, fps, duration)
    assert abs(audio_lag(result.video, audio)) <= 1
    assert not (result.video.parent / ".barlight-work").exists()


@pytest.mark.parametrize("fps", [Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30)],
                         ids=["24", "25", "29.97", "30"])
def test_frame_count_duration_and_audio_alignment_at_each_rate(tmp_path, make_renderer, fps, build):
    tempo_map = TempoMap.constant(150.0)
    audio = build.write_clicks(tmp_path / "clicks.wav", build.click_times(tempo_map, 1.3), 1.3 + 1 / 44100)
    result = export(tmp_path, make_renderer, tempo_map, audio, fps)
    duration = audio_seconds(audio)
    frames = check_video(result.video, fps, duration)
    assert len(frames) == result.plan.frame_count
    assert abs(audio_lag(result.video, audio)) <= 1


def test_a_bar_range_starts_the_video_at_its_first_bar(tmp_path, make_renderer, build):
    tempo_map = TempoMap((TempoPoint(0, 240), TempoPoint(8, 200)), (Meter(0, 4, 4), Meter(12, 3, 4)))
    start = tempo_map.bar_start_seconds(3)
    end = tempo_map.bar_start_seconds(6)
    # the bounce of bars 3..5 (plus a tail the range cuts off), starting at bar 3
    audio = build.write_clicks(tmp_path / "part.wav", build.click_times(tempo_map, end + 1), end - start + 0.5,
                         offset_seconds=start)
    fps = Fraction(24)
    result = export(tmp_path, make_renderer, tempo_map, audio, fps, bars=BarRange(3, 5))
    duration = Fraction(end) - Fraction(start)
    sheet = check_keyframes(result.video.parent, tempo_map, fps, duration, first_bar=3)
    assert [kf.bar for kf in sheet.bars] == [3, 4, 5]
    assert sheet.bars[0].frame == 0 and sheet.bars[0].seconds == start
    assert sheet.start_bar == 3 and sheet.start_seconds == start
    check_video(result.video, fps, duration)
    assert abs(audio_lag(result.video, audio)) <= 1


def test_a_full_bounce_is_cut_to_the_bar_range(tmp_path, make_renderer, build):
    tempo_map = TempoMap((TempoPoint(0, 240), TempoPoint(8, 200)), (Meter(0, 4, 4), Meter(12, 3, 4)))
    start = tempo_map.bar_start_seconds(3)
    end = tempo_map.bar_start_seconds(5)
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, end + 1), end + 1)
    fps = Fraction(25)
    result = export(tmp_path, make_renderer, tempo_map, audio, fps, bars=BarRange(3, 4), audio_from_bar_1=True)
    duration = Fraction(end) - Fraction(start)
    sheet = check_keyframes(result.video.parent, tempo_map, fps, duration, first_bar=3)
    assert sheet.audio_start_seconds == 0.0 and sheet.start_seconds == start
    check_video(result.video, fps, duration)
    original, rate = soundfile.read(str(audio), dtype="float32", always_2d=True)
    part = original[round(start * rate):, 0]
    decoded = decoded_audio(result.video)[0]
    n = min(len(decoded), round(float(duration) * rate))
    cc = correlate(decoded[:n], part[:n], mode="full", method="fft")
    assert abs(int(np.argmax(cc)) - (n - 1)) <= 1


def test_a_click_track_flashes_on_the_frames_nearest_the_clicks(tmp_path, make_renderer, flash_preset, build):
    # 96 BPM at 24 fps: a beat every 15 frames. Clicks sit 6 ms before or 4 ms after a frame, so the
    # nearest frame is unambiguous even though the feature extractor stamps onsets up to one hop
    # (11.6 ms) late; a past-only window would flash one frame late on the early clicks.
    tempo_map = TempoMap.constant(96.0)
    fps = Fraction(24)
    seconds = 3.3
    beats = build.click_times(tempo_map, seconds - 0.1)[1:]
    clicks = [t + (-0.006 if i % 2 == 0 else 0.004) for i, t in enumerate(beats)]
    audio = build.write_clicks(tmp_path / "clicks.wav", clicks, seconds)
    result = export(tmp_path, make_renderer, tempo_map, audio, fps, preset=flash_preset)
    frames, _ = decoded_video(result.video)
    brightness = np.array([frame.mean() / 255.0 for _, _, frame in frames])
    nearest = [round(Fraction(t) * fps) for t in clicks]
    assert nearest == [15 * (i + 1) for i in range(len(clicks))]
    for k in nearest:
        window = brightness[k - 2:k + 3]
        assert brightness[k] > 0.4, (k, window)  # the flash scales with the onset strength
        assert brightness[k - 1] < 0.2, (k, window)  # not a frame early
        assert brightness[k] == window.max(), (k, window)  # the peak is on the nearest frame
    quiet = [k for k in range(len(frames)) if all(abs(k - n) > 4 for n in nearest)]
    assert quiet and brightness[quiet].max() < 0.2


class Interrupted(KeyboardInterrupt):
    pass


def interrupt_after(request: ExportRequest, renderer, frame: int, sinks=()) -> None:
    """Run ``request`` and interrupt it, like Ctrl-C, right after frame ``frame`` is kept."""

    def crash_at(k):
        if k == frame:
            raise Interrupted

    with pytest.raises(Interrupted):
        run_export(request, renderer=renderer, progress=False, on_frame=crash_at, sinks=sinks)


def test_a_sink_gets_every_frame_in_order_with_the_position_it_shows(tmp_path, make_renderer, build, monkeypatch):
    from renderer.sinks import SINKS, open_sink
    from tests.renderer.sinks.probe import ROW

    monkeypatch.setitem(SINKS, "probe", ROW)  # a test-only sink: one registry row
    tempo_map = TempoMap((TempoPoint(0, 180), TempoPoint(6, 240)), (Meter(0, 3, 4), Meter(6, 5, 8)),
                         (Marker("a", 0), Marker("b", 6)))
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, 2.4), 2.4)
    fps = Fraction(25)
    whole, cut = open_sink("probe:whole"), open_sink("probe:cut")
    result = export(tmp_path, make_renderer, tempo_map, audio, fps, name="whole", sinks=[whole], chunk_bars=1)
    plan = result.plan
    assert whole.ended == "closed" and [p.frame for p in whole.positions] == list(range(plan.frame_count))
    for p in whole.positions:
        assert p.seconds == plan.song_seconds(p.frame) and p.beat == tempo_map.beat_at(p.seconds)
        bar = tempo_map.position_at(p.beat)
        assert (p.bar, p.numerator, p.denominator, p.bpm) == (bar.bar, bar.numerator, bar.denominator,
                                                              tempo_map.bpm_at(p.beat))
        assert p.section == tempo_map.marker_at(p.beat).name
    for kf in read_keyframes(result.keyframes[0]).bars:  # the frame at a bar line shows that bar (or ends the one before)
        assert whole.positions[min(kf.frame, plan.frame_count - 1)].bar in (kf.bar, kf.bar - 1)

    # interrupted in bar 2 and resumed: the rerun renders from bar 2's chunk on, the same pixels and positions
    request = ExportRequest(audio=audio, out_dir=tmp_path / "cut", tempo_map=tempo_map, fps=fps, size=SIZE,
                            chunk_bars=1)
    first = open_sink("probe:first")
    interrupt_after(request, make_renderer(), 30, sinks=[first])
    assert first.ended == "aborted" and [p.frame for p in first.positions] == list(range(31))
    resumed = run_export(request, renderer=make_renderer(), progress=False, sinks=[cut])
    assert resumed.resumed_from == 25 and cut.positions == whole.positions[25:]
    assert all(np.array_equal(a, b) for (_, a, _), (_, b, _) in zip(cut.received, whole.received[25:]))


def test_an_interrupted_export_resumes_to_the_same_output(tmp_path, make_renderer, build):
    tempo_map = TempoMap.constant(180.0, 3, 4)
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, 2.0), 2.0)
    fps = Fraction(25)
    whole = export(tmp_path, make_renderer, tempo_map, audio, fps, name="whole", chunk_bars=1)

    out = tmp_path / "resumed"
    request = ExportRequest(audio=audio, out_dir=out, tempo_map=tempo_map, fps=fps, size=SIZE, chunk_bars=1)
    interrupt_after(request, make_renderer(), 31)  # in bar 2: bar 1's chunk is finished
    assert not (out / "song.mp4").exists() and not (out / "keyframes.json").exists()
    assert not [p for p in out.iterdir() if p.name != ".barlight-work"]  # nothing final, nothing torn
    resumed = run_export(request, renderer=make_renderer(), progress=False)
    assert resumed.resumed_from == 25 and resumed.rendered_frames == whole.plan.frame_count - 25
    a, _ = decoded_video(whole.video)
    b, _ = decoded_video(resumed.video)
    assert len(a) == len(b)
    for (pa, _, fa), (pb, _, fb) in zip(a, b):
        assert pa == pb and np.array_equal(fa, fb)
    first = json.loads((whole.video.parent / "keyframes.json").read_text())
    again = json.loads((out / "keyframes.json").read_text())
    assert first["bars"] == again["bars"]
    for kf in first["bars"]:
        assert (whole.video.parent / kf["image"]).read_bytes() == (out / kf["image"]).read_bytes()


def test_a_killed_export_resumes_from_its_last_finished_chunk(tmp_path, make_renderer, build):
    """A hard kill finishes nothing on the way out and may leave a torn segment and image: the rerun starts at
    the first chunk without a segment and ignores them."""
    tempo_map = TempoMap.constant(180.0, 3, 4)
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, 1.6), 1.6)
    fps = Fraction(25)
    whole = export(tmp_path, make_renderer, tempo_map, audio, fps, name="whole", chunk_bars=1)

    out = tmp_path / "killed"
    request = ExportRequest(audio=audio, out_dir=out, tempo_map=tempo_map, fps=fps, size=SIZE, chunk_bars=1)
    interrupt_after(request, make_renderer(), 30)
    work = out / ".barlight-work"
    assert sorted(p.name for p in (work / "segments").iterdir()) == ["00000.mp4"]
    (work / "segments" / ".00001.incomplete.mp4").write_bytes(b"torn")  # as if killed mid-chunk
    (work / "frames" / ".000025.0123456789ab.png").write_bytes(b"torn")  # ... while writing bar 2's image
    resumed = run_export(request, renderer=make_renderer(), progress=False)
    assert resumed.resumed_from == 25
    a, _ = decoded_video(whole.video)
    b, _ = decoded_video(resumed.video)
    assert len(a) == len(b) and all(np.array_equal(fa, fb) for (_, _, fa), (_, _, fb) in zip(a, b))
    for kf in json.loads((whole.video.parent / "keyframes.json").read_text())["bars"]:
        assert (whole.video.parent / kf["image"]).read_bytes() == (out / kf["image"]).read_bytes()


def test_rerendering_from_keyframes_keeps_bars_sections_and_seeds(tmp_path, make_renderer, build):
    tempo_map = TempoMap((TempoPoint(0, 200), TempoPoint(8, 150)), (Meter(0, 4, 4), Meter(8, 5, 8)),
                         (Marker("in", 0), Marker("out", 8)))
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, 3.0), 3.0)
    first = export(tmp_path, make_renderer, tempo_map, audio, Fraction(24), name="first", seed=99)
    sheet = read_keyframes(first.keyframes[0])
    with pytest.raises(InputError, match="--bars"):  # the bars are the keyframes'
        rerender_request(sheet, first.keyframes[0], tmp_path / "again", bars=BarRange(2, 3))
    same = rerender_request(sheet, first.keyframes[0], tmp_path / "again")
    assert (same.audio, same.fps, same.size, same.preset) == (audio, Fraction(24), SIZE, "neon")
    request = rerender_request(sheet, first.keyframes[0], tmp_path / "again", fps=Fraction(12), size=(96, 64))
    assert request.tempo_map == tempo_map and request.seed == 99 and request.size == (96, 64)
    assert request.bars == BarRange(1, sheet.bars[-1].bar) and request.seeds == sheet.seeds()
    renderer = make_renderer(size=(96, 64), seed=request.seed)
    again = run_export(request, renderer=renderer, progress=False)
    old = read_keyframes(first.keyframes[0])
    new = read_keyframes(again.keyframes[0])
    assert [(k.bar, k.section, k.seed, k.seconds) for k in new.bars] == [
        (k.bar, k.section, k.seed, k.seconds) for k in old.bars]
    assert all(k.frame == round(Fraction(k.seconds) * 12) for k in new.bars)
    assert (new.width, new.height, new.fps) == (96, 64, Fraction(12))
    assert new.base_seed == 99


def test_seeds_edited_in_a_keyframes_file_are_rendered(tmp_path, make_renderer, build):
    tempo_map = TempoMap.constant(240.0)
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, 2.0), 2.0)
    first = export(tmp_path, make_renderer, tempo_map, audio, Fraction(12), name="first")
    sheet = read_keyframes(first.keyframes[0])
    edited = {**sheet.seeds(), 2: 12345}
    again = export(tmp_path, make_renderer, tempo_map, audio, Fraction(12), name="again", seeds=edited)
    new = read_keyframes(again.keyframes[0])
    assert new.seeds() == edited
    assert new.bars[0].seed == sheet.bars[0].seed
    frame_of_bar2 = new.bars[1].frame
    old_image = (first.video.parent / sheet.bars[1].image).read_bytes()
    assert (again.video.parent / new.bars[1].image).read_bytes() != old_image
    assert frame_of_bar2 == 12


def test_each_bars_conditioning_is_the_one_its_image_was_rendered_with(tmp_path, make_renderer, build):
    from renderer.export.job import prepare_export, render_frames

    tempo_map = TempoMap((TempoPoint(0, 125),), (Meter(0, 7, 8),), (Marker("a", 0), Marker("b", 7)))
    audio = build.write_clicks(tmp_path / "song.wav", build.click_times(tempo_map, 4.0), 4.0)
    fps = Fraction(24)  # bars of 1.68 s start between frames (40.32 frames apart)
    result = export(tmp_path, make_renderer, tempo_map, audio, fps)
    sheet = read_keyframes(result.keyframes[0])
    job = prepare_export(ExportRequest(audio=audio, out_dir=tmp_path / "again", tempo_map=tempo_map, fps=fps,
                                       size=SIZE), renderer=make_renderer())
    used = {k: json.loads(json.dumps(r.conditioning.to_dict())) for k, r in render_frames(job, 0, sheet.frame_count)}
    assert [kf.frame for kf in sheet.bars] == [0, 40, 81] and [kf.image_frame for kf in sheet.bars] == [0, 40, 81]
    for kf in sheet.bars:
        assert kf.conditioning == used[kf.image_frame], kf.bar  # not the bar line's, up to half a frame away
        assert kf.section == ("a" if kf.bar < 3 else "b")

