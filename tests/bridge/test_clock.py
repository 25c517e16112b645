"""TransportClock and TransportSnapshot with an injected clock: extrapolation, smoothing, snaps."""

from __future__ import annotations

import random

import pytest

from bridge.clock import TransportClock, TransportSnapshot, fit_offset
from bridge.protocol.messages import LoopMessage, TransportMessage
from bridge.timeline.tempo_map import Marker


class FakeClock:
    def __init__(self, seconds: float = 100.0) -> None:
        self.seconds = seconds

    def __call__(self) -> float:
        return self.seconds


def tm(beat: float, bpm: float = 120.0, playing: bool = True, num: int = 4, den: int = 4) -> TransportMessage:
    bar_beats = num * 4 / den
    bar_start = (beat // bar_beats) * bar_beats
    return TransportMessage(playing, beat, bpm, num, den, bar_start, int(beat // bar_beats) + 1)


def feed_line(clock: TransportClock, start_seconds: float, start_beat: float, bpm: float, count: int,
              jitter_seconds: float = 0.0, seed: int = 1) -> float:
    """Messages every 20 ms on a straight line, arriving with uniform jitter; returns the last nominal time."""
    rng = random.Random(seed)
    seconds = start_seconds
    for k in range(count):
        seconds = start_seconds + k * 0.02
        clock.update(tm(start_beat + (seconds - start_seconds) * bpm / 60.0, bpm),
                     seconds + rng.uniform(-jitter_seconds, jitter_seconds))
    return seconds


def test_extrapolates_forward_and_backward_from_one_message():
    clock = TransportClock(now=FakeClock(10.0))
    event = clock.update(tm(8.0, 120.0))
    assert event is not None and event.kind == "connect"
    assert clock.beat_at(11.0) == pytest.approx(10.0)
    assert clock.beat_at(9.5) == pytest.approx(7.0)
    assert clock.beat_at() == pytest.approx(8.0)  # now() == arrival


def test_stopped_transport_stands_still():
    clock = TransportClock(now=FakeClock())
    clock.update(tm(4.0, playing=False), 1.0)
    assert clock.beat_at(50.0) == 4.0 and not clock.snapshot().playing


def test_snapshot_seconds_inverts_beat():
    snap = TransportSnapshot(True, 96.0, 4, 4, 10.0, 3.0, received_seconds=3.0)
    for beat in (-2.0, 10.0, 33.3):
        assert snap.beat_at(snap.host_seconds_at(beat)) == pytest.approx(beat)


def test_fit_smooths_jitter_better_than_the_last_message():
    clock = TransportClock(now=FakeClock())
    rng = random.Random(7)
    fitted, last_only = [], []
    for k in range(200):
        seconds = 5.0 + k * 0.02
        beat = 2.0 + (seconds - 5.0) * 2.0
        arrival = seconds + rng.uniform(-0.005, 0.005)
        clock.update(tm(beat), arrival)
        if k >= 50:
            true_later = beat + 0.02 * 2.0
            fitted.append(abs(clock.beat_at(seconds + 0.02) - true_later) / 2.0)
            last_only.append(abs(beat + (seconds + 0.02 - arrival) * 2.0 - true_later) / 2.0)
    fitted.sort(), last_only.sort()
    assert fitted[len(fitted) // 2] < 0.001  # median under 1 ms
    assert fitted[-1] < 0.002
    assert fitted[len(fitted) // 2] < last_only[len(last_only) // 2] / 2


def test_late_outlier_does_not_snap():
    clock = TransportClock(now=FakeClock())
    last = feed_line(clock, 0.0, 0.0, 120.0, 50)
    generation = clock.snapshot().generation
    assert clock.update(tm((last + 0.02) * 2.0), last + 0.02 + 0.06) is None  # 60 ms late
    assert clock.snapshot().generation == generation
    assert clock.beat_at(last + 0.04) == pytest.approx((last + 0.04) * 2.0, abs=0.004)


def test_seek_snaps_at_once():
    clock = TransportClock(now=FakeClock())
    last = feed_line(clock, 0.0, 0.0, 120.0, 50, jitter_seconds=0.005)
    event = clock.update(tm(64.0), last + 0.02)
    assert event is not None and event.kind == "seek"
    assert event.beat_after == 64.0 and event.beat_before == pytest.approx((last + 0.02) * 2.0, abs=0.02)
    assert clock.beat_at(last + 0.02) == pytest.approx(64.0)
    assert clock.beat_at(last + 0.52) == pytest.approx(65.0)


def test_small_consistent_shift_snaps_after_a_few_messages():
    clock = TransportClock(now=FakeClock())
    last = feed_line(clock, 0.0, 0.0, 120.0, 50)
    events = [clock.update(tm((last + k * 0.02) * 2.0 + 0.05), last + k * 0.02) for k in range(1, 5)]
    kinds = [e.kind if e else None for e in events]
    assert kinds == [None, None, "seek", None]
    assert clock.beat_at(last + 0.1) == pytest.approx((last + 0.1) * 2.0 + 0.05, abs=1e-6)


def test_loop_wrap_is_extrapolated_and_then_reported():
    clock = TransportClock(now=FakeClock())
    clock.set_loop(LoopMessage(True, 4.0, 8.0))
    clock.update(tm(7.5), 0.0)
    assert clock.beat_at(0.25) == pytest.approx(4.0)  # the snapshot wraps by itself at the loop end
    assert clock.beat_at(0.5) == pytest.approx(4.5)
    clock.update(tm(7.54), 0.02)
    event = clock.update(tm(4.02), 0.26)
    assert event is not None and event.kind == "loop"
    assert clock.beat_at(0.26) == pytest.approx(4.02)


def test_stop_start_and_tempo_jump_snap_and_bump_generation():
    clock = TransportClock(now=FakeClock())
    last = feed_line(clock, 0.0, 0.0, 120.0, 20, jitter_seconds=0.005)
    g0 = clock.snapshot().generation
    stop = clock.update(tm(9.0, playing=False), last + 0.1)
    assert stop.kind == "stop" and clock.beat_at(last + 5) == 9.0
    start = clock.update(tm(9.0), last + 2.0)
    assert start.kind == "start" and clock.beat_at(last + 2.5) == pytest.approx(10.0)
    tempo = clock.update(tm(10.0, bpm=60.0), last + 2.5)
    assert tempo.kind == "tempo" and clock.beat_at(last + 3.5) == pytest.approx(11.0)
    assert clock.snapshot().generation == g0 + 3


def test_latency_offset_shows_the_beat_later():
    clock = TransportClock(now=FakeClock(), latency_seconds=0.1)
    clock.update(tm(8.0), 10.0)
    assert clock.beat_at(10.1) == pytest.approx(8.0)
    clock.latency_seconds = -0.05
    assert clock.beat_at(10.0) == pytest.approx(8.1)
    assert clock.snapshot().daw_beat_at(10.0) == pytest.approx(8.0)  # the DAW's own playhead, unshifted


def test_bar_position_and_section_follow_the_daw_grid():
    clock = TransportClock(now=FakeClock())
    clock.set_markers([Marker("Drop", 12.0), Marker("Intro", 0.0)])
    clock.update(TransportMessage(True, 10.5, 120.0, 6, 8, 9.0, 4), 0.0)  # 6/8: bars of 3 beats
    snap = clock.snapshot()
    assert snap.position_at(0.0).bar == 4 and snap.position_at(0.0).beat_in_bar == pytest.approx(1.5)
    assert snap.bar_at(1.0) == 5  # beat 12.5
    assert snap.section(snap.beat_at(0.0)).name == "Intro" and snap.section(snap.beat_at(1.0)).name == "Drop"


def test_fit_offset_ignores_outliers_and_rejects_empty():
    assert fit_offset([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 100.0, -100.0]) == 1.0
    assert fit_offset([2.0]) == 2.0
    with pytest.raises(ValueError):
        fit_offset([])


def test_loop_wraps_when_the_fitted_anchor_lands_just_past_the_loop_end():
    clock = TransportClock(now=FakeClock())
    clock.set_loop(LoopMessage(True, 4.0, 8.0))
    # Jittery arrivals can put the fitted anchor a hair past the end before the wrap message comes.
    clock.update(tm(7.99), 0.0)
    clock.update(tm(8.0), 0.0)
    assert clock.snapshot().anchor_beat > 7.99
    late = TransportSnapshot(playing=True, bpm=120.0, anchor_beat=8.01, anchor_seconds=0.0,
                             loop=LoopMessage(True, 4.0, 8.0), received_seconds=0.0)
    assert late.beat_at(0.5) == pytest.approx(5.01)
    beyond = TransportSnapshot(playing=True, bpm=120.0, anchor_beat=9.0, anchor_seconds=0.0,
                               loop=LoopMessage(True, 4.0, 8.0), received_seconds=0.0)
    assert beyond.beat_at(0.5) == pytest.approx(10.0)  # a playhead truly beyond the loop plays on
