"""The session without a window: rendering slower than the display keeps frames on time instead of falling behind."""

from __future__ import annotations

import time

import numpy as np

from bridge.senders.scripted import DawScript, stream_in_thread
from renderer.preview.session import PreviewOptions, PreviewSession


def play(session: PreviewSession, seconds: float) -> None:
    """A simulated DAW plays for ``seconds`` while the session ticks like a display; then the session stops."""
    try:
        daw = stream_in_thread(DawScript.from_steps([("play", seconds)]), session.listen[1])
        deadline = time.monotonic() + 10.0
        while daw.is_alive() and time.monotonic() < deadline:
            session.tick()
            time.sleep(session.period_seconds)
    finally:
        session.stop()


def test_rendering_slower_than_the_display_shows_fewer_frames_each_on_time(tiny_renderer, tmp_path):
    session = PreviewSession(tiny_renderer, PreviewOptions(listen=("127.0.0.1", 0), record=False,
                                                           refresh_hz=250.0)).start()  # a 4 ms display
    play(session, 3.0)
    shown = [s for s in session.shown if s.target.playing]
    assert len(shown) >= 10
    ticks = np.array([s.tick_seconds for s in shown])
    lag = ticks - np.array([s.target.tick_seconds for s in shown])  # shown this long after its planned tick
    assert session.engine.render_estimate_seconds > session.period_seconds  # slower than the display
    assert np.median(np.diff(ticks)) > session.period_seconds  # so fewer frames than ticks…
    # …each shown on time: planned a render ahead, a frame typically shows at its own tick (a worker rendering
    # for the next tick would show each one a render late, and FrameBuffer.take would drop most of them)
    assert np.median(lag) < session.engine.render_estimate_seconds
    third = len(lag) // 3
    assert np.median(lag[-third:]) < np.median(lag[:third]) + 0.05  # not falling behind
    beats = [s.target.beat for s in shown]
    assert all(b < c for b, c in zip(beats, beats[1:]))


def test_sinks_get_the_frames_shown_each_in_step_with_its_display(tiny_renderer, monkeypatch):
    from renderer.sinks import SINKS, open_sink
    from tests.renderer.sinks.probe import ROW

    monkeypatch.setitem(SINKS, "probe", ROW)  # a test-only sink: one registry row
    projector, monitor = open_sink("probe:projector", latency_seconds=0.04), open_sink("probe:monitor")
    session = PreviewSession(tiny_renderer, PreviewOptions(listen=("127.0.0.1", 0), record=False, refresh_hz=250.0),
                             sinks=[projector, monitor])
    for probe in (projector, monitor):
        probe.clock = lambda: session.display.tick_seconds  # stamped with the tick that hands the frame over
    assert session.display.latency_seconds == 0.04  # frames are rendered for the slowest display
    play(session.start(), 2.0)
    assert projector.ended == monitor.ended == "closed"
    assert [p.beat for p in projector.positions] == [s.target.beat for s in session.shown]  # what was shown
    assert [seen for seen, _, _ in projector.received] == [s.tick_seconds for s in session.shown]  # when
    playing = [(p, s) for p, s in zip(projector.positions, session.shown) if s.target.playing]
    assert playing and all(p.bar == int(s.label.split(".")[0]) for p, s in playing)
    assert monitor.positions == projector.positions[:len(monitor.positions)]
    for (seen, _, _), (later, _, _) in zip(projector.received, monitor.received):
        assert later - seen >= 0.04 - 0.5 * session.period_seconds - 1e-9  # held back by the difference


def test_a_sender_the_allow_list_refuses_is_named_instead_of_waiting(tiny_renderer):
    import socket

    from bridge.protocol.encode import encode
    from bridge.protocol.messages import HelloMessage
    from renderer.preview.status import REFUSING, WAITING

    session = PreviewSession(tiny_renderer, PreviewOptions(listen=("0.0.0.0", 0), allow=("10.9.9.9",),
                                                           record=False)).start()
    try:
        assert session.tick().status.state == WAITING
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(encode(HelloMessage("file", "1", "s")), ("127.0.0.1", session.listen[1]))
            deadline = time.monotonic() + 5.0
            while session.receiver.stats().dropped["not_allowed"] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
        status = session.tick().status
        assert status.state == REFUSING and status.headline.startswith("Refusing 127.0.0.1:")
        assert "--allow 127.0.0.1" in " ".join(status.detail)
    finally:
        session.stop()
