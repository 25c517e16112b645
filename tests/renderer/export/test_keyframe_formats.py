"""Keyframe formats as a registry of writers: each writes its files for a sheet, whole."""

from __future__ import annotations

import json
from fractions import Fraction

from PIL import Image

from bridge.timeline.tempo_map import TempoMap
from renderer.export.keyframe_formats import KEYFRAME_FORMATS, keyframe_names, write_keyframes
from renderer.export.keyframes import BarKeyframe, KeyframeSheet, image_name, read_keyframes
from tests.renderer.export.bar_list_format import ROW


def sheet_of(tempo_map: TempoMap, fps: Fraction, frame_count: int, bars: int) -> KeyframeSheet:
    rows = [tempo_map.bar(n) for n in range(1, bars + 1)]
    return KeyframeSheet(
        fps=fps, width=4, height=2, audio="song.wav", timeline=tempo_map.to_dict(0), frame_count=frame_count,
        audio_start_seconds=0.0,
        bars=tuple(BarKeyframe(bar=r.bar, beat=r.beat, seconds=r.seconds, video_seconds=r.seconds,
                               frame=round(Fraction(r.seconds) * fps),
                               image_frame=round(Fraction(r.seconds) * fps) + r.bar - 1, bpm=r.bpm, numerator=r.numerator,
                               denominator=r.denominator, section=None, seed=r.bar * 11, image=image_name(r.bar))
                   for r in rows))


def test_every_registered_format_is_written_and_a_new_one_is_one_row(tmp_path, monkeypatch):
    monkeypatch.setitem(KEYFRAME_FORMATS, "bar list", ROW)
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(8):
        Image.new("RGB", (4, 2), (k * 30, 0, 0)).save(frames / f"{k:06d}.png")
    out = tmp_path / "out"
    out.mkdir()
    sheet = sheet_of(TempoMap.constant(240.0, 4, 4), Fraction(4), frame_count=8, bars=2)  # a bar every 4 frames

    written = write_keyframes(sheet, out, lambda k: frames / f"{k:06d}.png")
    assert list(written) == [*KEYFRAME_FORMATS]  # in table order
    assert written["bar list"] == (out / "bars.txt",)
    assert (out / "bars.txt").read_text() == "1 0 000000.png\n2 4 000004.png\n"
    assert [p.name for p in written["images"]] == ["bar_0001.png", "bar_0002.png"]
    assert (out / "keyframes" / "bar_0002.png").read_bytes() == (frames / "000005.png").read_bytes()  # image_frame
    assert read_keyframes(out) == sheet  # keyframes.json reads back as the sheet it was written from
    parseq = json.loads((out / "keyframes.parseq.json").read_text())
    assert [k["frame"] for k in parseq["keyframes"]] == [0, 4, 7]
    assert sorted(p.name for p in out.iterdir()) == ["bars.txt", "keyframes", "keyframes.csv", "keyframes.json",
                                                     "keyframes.parseq.json"]
    # what each format says it writes covers every file it wrote (the output rule and the set's swap read it)
    names = keyframe_names()
    assert "bars.txt" in names
    assert all(any(path.relative_to(out).match(name) for name in names) for paths in written.values() for path in paths)
