"""The session without a window: rendering slower than the display keeps frames on time instead of falling behind."""

from __future__ import annotations

import time

import numpy as np

from renderer.preview.session import PreviewOptions, PreviewSession
from tests.preview.daw import ScriptedDaw


def test_rendering_slower_than_the_display_shows_fewer_frames_each_on_time(tiny_renderer, tmp_path):
    session = PreviewSession(tiny_renderer, PreviewOptions(listen=("127.0.0.1", 0), record=False,
                                                           refresh_hz=250.0)).start()  # a 4 ms display
    try:
        daw = ScriptedDaw(session.listen[1], [("play", 3.0)]).start()
        deadline = time.monotonic() + 10.0
        while not daw.done and time.monotonic() < deadline:
            session.tick()
            time.sleep(session.period_seconds)
    finally:
        session.stop()
    shown = [s for s in session.shown if s.target.playing]
    assert len(shown) >= 10
    ticks = np.array([s.tick_seconds for s in shown])
    lag = ticks - np.array([s.target.tick_seconds for s in shown])  # shown this long after its planned tick
    assert session.worker.meter.estimate_seconds() > session.period_seconds  # slower than the display
    assert np.median(np.diff(ticks)) > session.period_seconds  # so fewer frames than ticks…
    assert lag.max() <= 0.1 + session.period_seconds  # …each shown on time (late ones were dropped)
    third = len(lag) // 3
    assert np.median(lag[-third:]) < np.median(lag[:third]) + 0.05  # not falling behind
    beats = [s.target.beat for s in shown]
    assert all(b < c for b, c in zip(beats, beats[1:]))
