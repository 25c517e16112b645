"""A test-only frame sink: one file and one registry row (``SINKS["probe"] = "tests.renderer.sinks.probe:ProbeSink"``),
as a real one (NDI, Syphon, Spout) would be. It keeps what it is sent and when it arrived."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from renderer.sinks.base import FramePosition, FrameSink

ROW = "tests.renderer.sinks.probe:ProbeSink"


class ProbeSink(FrameSink):
    name = "probe"

    def __init__(self, target: str | None = None, latency_seconds: float = 0.0,
                 clock: Callable[[], float] = time.monotonic, fail_on_close: bool = False) -> None:
        super().__init__(latency_seconds)
        self.target = target
        self.clock = clock
        self.fail_on_close = fail_on_close
        self.received: list[tuple[float, np.ndarray, FramePosition]] = []
        self.ended: str | None = None  # "closed" or "aborted"

    def send(self, frame: np.ndarray, position: FramePosition) -> None:
        self.received.append((self.clock(), frame, position))

    def close(self) -> None:
        self.ended = "closed"
        if self.fail_on_close:
            raise OSError(f"{self.target}: gone")

    def abort(self) -> None:
        self.ended = "aborted"

    @property
    def positions(self) -> list[FramePosition]:
        return [position for _, _, position in self.received]
