"""The HUD's words and meters, without Qt."""

from __future__ import annotations

import numpy as np

from bridge.clock import TransportSnapshot
from bridge.timeline.tempo_map import Marker
from renderer.preview.hud import PreviewStats, build_hud
from renderer.preview.schedule import PreviewFrame, RenderTarget
from renderer.preview.status import LOST, PLAYING, WAITING, PreviewStatus


def test_hud_shows_position_tempo_meter_section_sender_timing_and_meters():
    snapshot = TransportSnapshot(playing=True, bpm=128.0, numerator=7, denominator=8, anchor_beat=0.0,
                                 anchor_seconds=10.0, markers=(Marker("drop", 0.0),), received_seconds=10.0,
                                 session_id="s")
    frame = PreviewFrame(np.zeros((8, 8, 3), np.uint8), RenderTarget(10.0, 10.0, 0.0, 1, True, "s"), "1.1", "drop",
                         0.012, 10.0, "Neon", {"energy": 0.75, "brightness": 0.5, "onset": 1.0})
    hud = build_hud(snapshot, 10.0 + 60.0 / 128.0 * 1.5, PreviewStatus(PLAYING, "", (), "m4l 10.0.0.2:5000"), frame,
                    PreviewStats(59.9, 0.012, 0.02, 3, 1, 0.042), (1.0, 0.1, 0.001, 0, 0, 0, 0, 0.5), (0.0, 0.25, 0.5, 1.0),
                    "Neon", 20.0, "sessions/x.jsonl.part")
    assert hud.lines[0].split() == ["1.4", "128.00", "BPM", "7/8", "drop"]  # 1.5 quarters = 3 eighths in: beat 4
    assert "m4l 10.0.0.2:5000" in hud.lines[1] and "playing" in hud.lines[1]
    assert "59.9 fps" in hud.lines[2] and "render 12 ms" in hud.lines[2] and "3 late, 1 stale" in hud.lines[2]
    assert "longest pause 42 ms" in hud.lines[2]
    assert "offset +20 ms" in hud.lines[3] and "recording sessions/x.jsonl.part" in hud.lines[3]
    assert [m.value for m in hud.features] == [0.75, 0.5, 1.0]
    assert hud.bands[0].value == 1.0 and hud.bands[3].value == 0.0 and 0.0 < hud.bands[1].value < 1.0
    assert [m.value for m in hud.macros] == [0.0, 0.25, 0.5, 1.0]


def test_hud_without_a_sender():
    hud = build_hud(TransportSnapshot(), 1.0, PreviewStatus(WAITING, "Waiting"), None, PreviewStats(), None,
                    (0.0,) * 4, "Ink", 0.0, None)
    assert "no sender" in hud.lines[1] and "not recording" in hud.lines[3]
    assert all(m.value == 0.0 for m in hud.bands)


def test_a_lost_sender_shows_the_held_frames_position():
    snapshot = TransportSnapshot(playing=True, anchor_beat=0.0, anchor_seconds=0.0, received_seconds=0.0)
    frame = PreviewFrame(np.zeros((8, 8, 3), np.uint8), RenderTarget(1.0, 1.0, 2.0, 1, True, None), "1.3", "verse",
                         0.01, 1.0, "Neon")
    hud = build_hud(snapshot, 30.0, PreviewStatus(LOST, "Sender lost"), frame, PreviewStats(), None, (0.0,) * 4,
                    "Neon", 0.0, None)
    assert hud.lines[0].split()[0] == "1.3" and "(held)" in hud.lines[0] and "verse" in hud.lines[0]
