"""The render-ahead queue on a fake clock: frames come back in order, a frame that cannot be ready by its due
time is skipped rather than rendered late, and frames in flight overlap. The renderer here is a stand-in GPU
that takes a fixed time per frame, queued one after another (what the queue schedules around)."""

from __future__ import annotations

import math

from renderer.ahead import AheadJob, RenderAhead


class FakeClock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += max(seconds, 0.0)


class FixedSpeedGpu:
    """``submit`` returns at once; each frame is ready ``frame_seconds`` after the GPU is free of the previous."""

    def __init__(self, clock: FakeClock, frame_seconds: float) -> None:
        self.clock, self.frame_seconds, self.free_at, self.submitted = clock, frame_seconds, 0.0, []

    def submit(self, moment, state):
        self.free_at = max(self.clock.seconds, self.free_at) + self.frame_seconds
        self.submitted.append(moment)
        return _Pending(self.clock, self.free_at, moment)


class _Pending:
    state = None

    def __init__(self, clock: FakeClock, ready: float, moment) -> None:
        self.clock, self.ready_at, self.moment = clock, ready, moment

    def result(self):
        self.clock.seconds = max(self.clock.seconds, self.ready_at)  # waiting for the GPU
        return self.moment


def clock_jobs(count: int, fps: float, lead_seconds: float):
    return [AheadJob(k, due_seconds=lead_seconds + k / fps, start_seconds=k / fps) for k in range(count)]


def test_without_deadlines_every_frame_is_rendered_in_order_with_frames_in_flight():
    clock = FakeClock()
    gpu = FixedSpeedGpu(clock, 0.01)
    frames = list(RenderAhead(gpu, depth=3, now=clock.now, sleep=clock.sleep).run(AheadJob(k) for k in range(10)))
    assert [f.result for f in frames] == list(range(10))
    assert math.isclose(clock.seconds, 10 * 0.01)  # the GPU never idled
    assert max(f.latency_seconds for f in frames) > 0.01  # later frames waited behind earlier ones in flight


def test_a_gpu_slower_than_the_clock_skips_frames_and_is_never_late():
    clock = FakeClock()
    gpu = FixedSpeedGpu(clock, 1 / 30)
    ahead = RenderAhead(gpu, depth=2, now=clock.now, sleep=clock.sleep, frame_seconds=1 / 30)
    frames = list(ahead.run(clock_jobs(120, fps=60, lead_seconds=0.05)))
    rendered = [f for f in frames if not f.skipped]
    assert [f.job.moment for f in frames] == list(range(120))  # every job answered, in order
    assert not any(f.late for f in frames)
    assert 40 <= len(rendered) <= 62  # about one frame in two: what a 30 frames/s GPU can do for a 60 Hz clock


def test_a_gpu_faster_than_the_clock_renders_every_frame_on_time():
    clock = FakeClock()
    gpu = FixedSpeedGpu(clock, 1 / 240)
    frames = list(RenderAhead(gpu, depth=2, now=clock.now, sleep=clock.sleep, frame_seconds=1 / 240)
                  .run(clock_jobs(120, fps=60, lead_seconds=0.05)))
    assert not any(f.skipped or f.late for f in frames)
    assert all(f.ready_seconds <= f.job.due_seconds for f in frames)
    assert all(f.submitted_seconds >= f.job.start_seconds for f in frames)  # never started before its audio exists


def test_the_estimate_follows_the_measured_frames():
    clock = FakeClock()
    gpu = FixedSpeedGpu(clock, 0.02)
    ahead = RenderAhead(gpu, depth=1, now=clock.now, sleep=clock.sleep, frame_seconds=0.5)
    list(ahead.run(AheadJob(k) for k in range(20)))
    assert math.isclose(ahead.frame_seconds(), 0.02, rel_tol=1e-6)
