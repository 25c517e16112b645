"""The preview without a window (``barlight preview --headless``): rendered locked to the DAW, sent to the sinks.

For a render box beside the DJ booth: the frames go out through the session's frame sinks
(``--video-out ndi``, Syphon, Spout) and nothing needs a display or Qt. :func:`run_headless`
ticks the session on the grid a window's display timer would, sleeping until each tick (a
tick missed on a busy machine is skipped, not made up), and says on stderr what a window's
HUD would: the sender's state as it changes, render errors and restarts of the renderer.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from renderer.preview.session import PreviewSession


def status_line(session: PreviewSession, now_seconds: float) -> tuple[tuple[str, ...], str]:
    """What a user of a headless preview is told, as one line, and what makes it news: the state, the sender,
    render errors and restarts (not the headline's running count of seconds)."""
    status, engine = session.status, session.engine
    notes = tuple(note for note in (f"render error: {engine.error}" if engine.error else "",
                                    engine.note(now_seconds)) if note)
    line = " · ".join((f"{status.state}: {status.headline or status.sender}".rstrip(": "), *notes))
    gist = status.headline.split(" — ")[0]  # "Sender lost", then "Sender ended": news; "nothing for N s" is not
    return (status.state, gist, status.sender, *notes), line


def run_headless(session: PreviewSession, seconds: float | None = None,
                 say: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
                 sleep: Callable[[float], None] = time.sleep) -> None:
    """Tick ``session`` at its refresh rate for ``seconds`` (None: until interrupted), saying each new status line."""
    period = session.period_seconds
    started = next_tick = session.now()
    said: tuple[str, ...] = ()
    while seconds is None or next_tick - started < seconds:
        now = session.now()
        session.tick(now)
        news, line = status_line(session, now)
        if news != said:
            say(line)
            said = news
        next_tick = max(next_tick + period, session.now())
        sleep(max(0.0, next_tick - session.now()))
