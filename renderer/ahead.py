"""A render-ahead queue: keeps the GPU busy with up to ``depth`` frames in flight, and never starts a frame
that the measured time per frame says cannot be in host memory by its due time. A frame that then takes
longer than measured still arrives late, and is counted as such (on a GPU rarely; on a CPU shared with other
jobs, 2 of 12 in one tiny ``gpu_check.sh`` run at load 10).

Each job is a frame's moment, the host time it is due (on screen, or written), and the earliest time it
may be started (live, the audio of a moment exists only once it has been played). :class:`RenderAhead`
submits jobs through :meth:`renderer.renderer.Renderer.submit`, so the CPU builds the next frame's
conditioning while the GPU still runs the previous ones, and yields every job in order: rendered,
or skipped because the measured time per frame says it would be late. A skipped frame costs
nothing; a late one would be worse than none.

Pure scheduling plus the renderer: the clock and the sleep are injected (tests run on a fake clock).
Thread-safety: one thread drives :meth:`RenderAhead.run`. Realtime-safety: it sleeps and waits on the GPU.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

#: Extra time allowed per frame, as a fraction of the measured time, before a frame counts as makeable.
SAFETY = 0.25

if TYPE_CHECKING:
    from renderer.moment import Moment
    from renderer.renderer import PendingRender, Renderer, RenderResult, RenderState


@dataclass(frozen=True)
class AheadJob:
    """A frame to make: its ``moment``, due in host memory by ``due_seconds`` (``inf``: whenever), not
    started before ``start_seconds``."""

    moment: Moment
    due_seconds: float = math.inf
    start_seconds: float = -math.inf


@dataclass(frozen=True, eq=False)
class AheadFrame:
    """What became of a job: ``result`` (None when skipped), when it was submitted and ready (host seconds)."""

    job: AheadJob
    result: RenderResult | None
    submitted_seconds: float = math.nan
    ready_seconds: float = math.nan

    @property
    def skipped(self) -> bool:
        return self.result is None

    @property
    def late(self) -> bool:
        return self.result is not None and self.ready_seconds > self.job.due_seconds

    @property
    def latency_seconds(self) -> float:
        """From submitting to the frame in host memory."""
        return self.ready_seconds - self.submitted_seconds


class RenderAhead:
    """``depth`` frames in flight at most (1: one at a time, the plain loop). ``frame_seconds`` is the
    time per frame assumed until frames have been measured (the 90th percentile of recent ones)."""

    def __init__(self, renderer: Renderer, depth: int = 2, now: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep, frame_seconds: float = 0.05) -> None:
        if depth < 1:
            raise ValueError("depth must be >= 1")
        self.renderer, self.depth, self.now, self.sleep = renderer, depth, now, sleep
        self._service: deque[float] = deque([frame_seconds], maxlen=16)
        self._busy_until = -math.inf  #: when the frames in flight are expected to be done

    def frame_seconds(self) -> float:
        """The GPU time one frame is expected to take (the 90th percentile of recent frames)."""
        ordered = sorted(self._service)
        return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]

    def run(self, jobs: Iterable[AheadJob], state: RenderState | None = None) -> Iterator[AheadFrame]:
        """Render ``jobs`` in order, ``depth`` at a time; yields one :class:`AheadFrame` per job, in order."""
        flight: deque[tuple[AheadJob, PendingRender, float]] = deque()
        last_ready = -math.inf
        for job in jobs:
            wait = job.start_seconds - self.now()
            if wait > 0:
                self.sleep(wait)
            now = self.now()
            if max(now, self._busy_until) + self.frame_seconds() * (1.0 + SAFETY) > job.due_seconds:
                while flight and flight[0][0].due_seconds < job.due_seconds:  # nothing newer may overtake them
                    frame, last_ready = self._finish(flight, last_ready)
                    yield frame
                yield AheadFrame(job, None)
                continue
            pending = self.renderer.submit(job.moment, state)
            state = pending.state
            self._busy_until = max(now, self._busy_until) + self.frame_seconds()
            flight.append((job, pending, now))
            if len(flight) >= self.depth:
                frame, last_ready = self._finish(flight, last_ready)
                yield frame
        while flight:
            frame, last_ready = self._finish(flight, last_ready)
            yield frame

    def _finish(self, flight: deque[tuple[AheadJob, PendingRender, float]], last_ready: float
                ) -> tuple[AheadFrame, float]:
        """Wait for the oldest frame in flight; measure it and re-plan the rest from when it was ready."""
        job, pending, submitted = flight.popleft()
        result = pending.result()
        ready = self.now()
        self._service.append(max(ready - max(submitted, last_ready), 0.0))
        self._busy_until = ready + len(flight) * self.frame_seconds()
        return AheadFrame(job, result, submitted, ready), ready
