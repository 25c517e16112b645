"""Scheduling: which beat to render for, when, and which frame to show at a tick (pure, no Qt)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bridge.clock import TransportSnapshot
from renderer.preview.schedule import DisplayClock, FrameBuffer, LatencyMeter, PreviewFrame, RenderTarget, plan_target

PERIOD = 1.0 / 60.0


def playing(bpm: float = 120.0, latency_seconds: float = 0.0, generation: int = 1, session: str = "s") -> TransportSnapshot:
    return TransportSnapshot(playing=True, bpm=bpm, anchor_beat=8.0, anchor_seconds=100.0, generation=generation,
                             latency_seconds=latency_seconds, received_seconds=100.0, session_id=session)


def frame(tick: float, generation: int = 1, session: str = "s") -> PreviewFrame:
    target = RenderTarget(tick, tick, 0.0, generation, True, session)
    return PreviewFrame(np.zeros((2, 2, 3), np.uint8), target, "1.1", None, 0.01, tick - 0.01)


def test_next_tick_is_the_first_grid_tick_at_or_after():
    display = DisplayClock(0.02, tick_seconds=10.0)
    assert display.next_tick(10.0) == pytest.approx(10.0)
    assert display.next_tick(10.001) == pytest.approx(10.02)
    assert display.next_tick(10.039) == pytest.approx(10.04)
    assert display.next_tick(9.97) == pytest.approx(9.98)


def test_plan_target_renders_for_the_beat_audible_when_the_frame_is_on_screen():
    snapshot = playing()
    display = DisplayClock(PERIOD, tick_seconds=100.0, latency_seconds=0.012)
    target = plan_target(snapshot, now_seconds=101.0, render_seconds=0.03, display=display)
    assert target.tick_seconds >= 101.03 and target.tick_seconds - 101.03 < PERIOD
    assert target.host_seconds == pytest.approx(target.tick_seconds + 0.012)
    assert target.beat == pytest.approx(snapshot.beat_at(target.host_seconds))
    assert target.beat == pytest.approx(8.0 + 2.0 * (target.host_seconds - 100.0))
    assert (target.generation, target.session_id, target.playing) == (1, "s", True)


def test_plan_target_follows_the_latency_offset():
    display = DisplayClock(PERIOD, tick_seconds=100.0)
    early = plan_target(playing(), 101.0, 0.03, display)
    late = plan_target(playing(latency_seconds=0.1), 101.0, 0.03, display)
    assert late.tick_seconds == early.tick_seconds
    assert early.beat - late.beat == pytest.approx(0.1 * 2.0)  # 120 BPM: 0.1 s later is 0.2 beats


def test_plan_target_never_plans_before_not_before():
    display = DisplayClock(PERIOD, tick_seconds=100.0)
    first = plan_target(playing(), 101.0, 0.0, display)
    again = plan_target(playing(), 101.0, 0.0, display, not_before_seconds=first.tick_seconds + 0.5 * PERIOD)
    assert again.tick_seconds == pytest.approx(first.tick_seconds + PERIOD)


def test_a_stopped_transport_renders_its_held_beat():
    stopped = TransportSnapshot(playing=False, anchor_beat=12.5, received_seconds=1.0)
    assert plan_target(stopped, 50.0, 0.2, DisplayClock()).beat == 12.5


def test_latency_meter_estimates_a_high_quantile_plus_margin():
    meter = LatencyMeter(size=10, quantile=0.9, headroom=0.0, margin_seconds=0.001, initial_seconds=0.5)
    assert meter.estimate_seconds() == 0.5
    for ms in (10, 12, 11, 13, 10, 40, 11, 12, 10, 11):
        meter.add(ms / 1000)
    assert meter.estimate_seconds() == pytest.approx(0.013 + 0.001)  # 9th of 10: the one 40 ms outlier ignored
    assert meter.last_seconds == pytest.approx(0.011)


def test_latency_meter_by_default_aims_past_every_recent_render():
    """The sync goal is a 99th percentile: by default no recent render would have missed its tick, with a quarter
    to spare; the oldest render leaves the window after 32 more."""
    meter = LatencyMeter(margin_seconds=0.0)
    for ms in (10, 12, 40, 11, 13, 10):
        meter.add(ms / 1000)
    assert meter.estimate_seconds() == pytest.approx(0.040 * 1.25)
    for _ in range(32):
        meter.add(0.012)
    assert meter.estimate_seconds() == pytest.approx(0.012 * 1.25)


def test_buffer_shows_the_newest_due_frame_and_drops_older_ones_as_late():
    buffer = FrameBuffer()
    for tick in (1.00, 1.02, 1.04, 1.06):
        buffer.put(frame(tick))
    assert buffer.take(0.9, 0.02) is None  # nothing due yet
    shown = buffer.take(1.04, 0.02)
    assert shown.target.tick_seconds == 1.04
    assert (buffer.stats.shown, buffer.stats.late, len(buffer)) == (1, 2, 1)
    assert buffer.take(1.06 - 0.009, 0.02).target.tick_seconds == 1.06  # due within half a period
    assert buffer.take(1.08, 0.02) is None  # nothing new: the window keeps the last frame


def test_buffer_drops_frames_rendered_before_a_jump_or_for_another_session():
    buffer = FrameBuffer()
    buffer.put(frame(1.0, generation=1))
    buffer.put(frame(1.02, generation=2))
    buffer.put(frame(1.04, generation=2, session="other"))
    after_jump = playing(generation=2)
    shown = buffer.take(1.1, 0.02, after_jump)
    assert shown.target.generation == 2 and shown.target.session_id == "s"
    assert buffer.stats.stale == 2


def test_buffer_does_not_show_a_frame_due_long_ago():
    buffer = FrameBuffer(max_late_seconds=0.1)
    buffer.put(frame(1.0))
    assert buffer.take(1.5, 0.02) is None
    assert buffer.stats.late == 1 and len(buffer) == 0


def test_a_stopped_frame_is_never_too_late():
    buffer = FrameBuffer(max_late_seconds=0.1)
    held = frame(1.0)
    held = PreviewFrame(held.image, RenderTarget(1.0, 1.0, 4.0, 1, False, "s"), "2.1", None, 0.3, 1.3)
    buffer.put(held)
    assert buffer.take(1.5, 0.02) is held


def test_buffer_keeps_at_most_capacity_frames():
    buffer = FrameBuffer(capacity=3)
    for i in range(5):
        buffer.put(frame(1.0 + i * 0.02))
    assert len(buffer) == 3 and buffer.stats.late == 2
    assert math.isclose(buffer.take(1.04, 0.02).target.tick_seconds, 1.04)
