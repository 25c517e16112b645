"""The frame sink interface: sinks found by name, several fed as one, each in step with its display."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.errors import InputError
from renderer.sinks import SINKS, open_sink, open_video_out, video_outs
from renderer.sinks.base import FramePosition, Outputs
from tests.renderer.sinks.probe import ROW, ProbeSink


def position(frame: int) -> FramePosition:
    return FramePosition(seconds=frame / 10, beat=frame / 5, bar=1 + frame // 20, beat_in_bar=(frame / 5) % 4,
                         bpm=120.0, numerator=4, denominator=4, section="drop", frame=frame)


def frame(k: int) -> np.ndarray:
    return np.full((2, 3, 3), k, np.uint8)


def test_a_sink_is_one_registry_row_away(monkeypatch):
    monkeypatch.setitem(SINKS, "probe", ROW)
    sink = open_sink("probe:Stage left", latency_seconds=0.02)
    assert isinstance(sink, ProbeSink) and sink.target == "Stage left" and sink.latency_seconds == 0.02
    assert open_sink("probe").target is None
    with pytest.raises(InputError, match=r"--video-out: unknown sink 'nid' \(available: window, video, ndi, syphon, "
                                         r"spout, probe\)"):
        open_sink("nid:Stage", where="--video-out")


def test_a_video_out_is_a_sink_that_announces_itself_the_others_are_refused():
    assert video_outs() == ("ndi", "syphon", "spout")
    for spec in ("video", "window:x"):
        with pytest.raises(InputError, match=r"--video-out: '(video|window)' is not a video output \(available: "
                                             r"ndi, syphon, spout\)"):
            open_video_out(spec, fps=30)


def test_offline_every_sink_gets_every_frame_in_order_with_its_position():
    sinks = [ProbeSink("a"), ProbeSink("b", latency_seconds=0.5)]
    outputs = Outputs(sinks)
    for k in range(5):
        outputs.send(frame(k), position(k))
    for sink in sinks:
        assert [p.frame for p in sink.positions] == [0, 1, 2, 3, 4]
        assert all(np.array_equal(f, frame(p.frame)) for _, f, p in sink.received)


def test_live_a_faster_display_gets_each_frame_later_by_the_difference():
    now = [0.0]
    slow, fast, middle = (ProbeSink(name, latency, clock=lambda: now[0])
                          for name, latency in (("slow", 0.05), ("fast", 0.0), ("middle", 0.02)))
    outputs = Outputs([slow, fast, middle])
    assert outputs.latency_seconds == 0.05  # what frames are rendered ahead for
    for tick in range(40):  # a 100 Hz display; a frame due every 3rd tick
        now[0] = tick * 0.01
        if tick % 3 == 0:
            outputs.schedule(frame(tick), position(tick), now[0])
        outputs.flush(now[0], tolerance_seconds=0.005)
    due = {p.frame: p.frame * 0.01 for p in slow.positions}
    assert [p.frame for p in slow.positions] == list(range(0, 40, 3))
    for sink in (slow, fast, middle):
        assert sink.positions == slow.positions[:len(sink.positions)]  # the same frames, in order
        assert len(sink.positions) >= len(slow.positions) - 2  # only the last 50 ms still held back
        for arrived, _, p in sink.received:
            # seen at due + its latency + its hold-back = due + the slowest latency, to the nearest tick
            assert arrived + sink.latency_seconds == pytest.approx(due[p.frame] + 0.05, abs=0.005 + 1e-9)


def test_ending_reaches_every_sink_even_when_one_fails():
    sinks = [ProbeSink("a"), ProbeSink("b", fail_on_close=True), ProbeSink("c")]
    outputs = Outputs(sinks)
    outputs.schedule(frame(0), position(0), 0.0)
    with pytest.raises(OSError, match="b: gone"):
        outputs.close()
    assert [s.ended for s in sinks] == ["closed", "closed", "closed"]
    outputs.flush(1.0)
    assert not sinks[0].received  # a frame still held back when the stream ended is dropped
    Outputs(sinks[:1]).abort()
    assert sinks[0].ended == "aborted"


def test_the_window_shows_a_frame_whatever_its_memory_layout():
    from renderer.sinks.window import WindowSink

    class View:
        image = None

    rgb = np.random.default_rng(3).integers(0, 256, (3, 4, 5), np.uint8)  # channels first, as torch renders
    frame = rgb.transpose(1, 2, 0)  # a 4x5 RGB view, not C-ordered (the in-process renderer's frames)
    assert not frame.flags.c_contiguous
    sink = WindowSink(View())
    sink.send(frame, position(0))
    image = sink.view.image
    assert (image.width(), image.height()) == (5, 4)
    assert image.format() == image.Format.Format_RGB32  # the backing store's own: painted without converting
    assert all(image.pixel(x, y) & 0xFFFFFF == int.from_bytes(bytes(frame[y, x]), "big")
               for y in range(4) for x in range(5))
