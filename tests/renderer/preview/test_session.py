"""The session without a window: rendering slower than the display drops frames instead of queueing them, the
frames go to the sinks in step with their displays, and the HUD names the display's pauses."""

from __future__ import annotations

import time

import pytest

from bridge.senders.scripted import DawScript, stream_in_thread
from renderer.preview.schedule import MAX_LATE_SECONDS
from renderer.preview.session import PAUSE_WINDOW_SECONDS, PreviewOptions, PreviewSession


def play(session: PreviewSession, seconds: float) -> list[float]:
    """A simulated DAW plays for ``seconds`` while the session ticks like a display; then the session stops.
    Returns the times of the ticks."""
    ticks = []
    try:
        session.wait_ready(60.0)
        daw = stream_in_thread(DawScript.from_steps([("play", seconds)]), session.listen[1])
        deadline = time.monotonic() + 10.0
        while daw.is_alive() and time.monotonic() < deadline:
            ticks.append(session.now())
            session.tick(ticks[-1])
            time.sleep(session.period_seconds)
    finally:
        session.stop()
    return ticks


def test_rendering_slower_than_the_display_drops_frames_instead_of_queueing_them(tiny_renderer):
    """A 1 ms display, slower than any render of the model. At most one frame per tick, in order, never before
    its tick; a frame that missed its tick by more than the buffer allows is dropped and counted, never shown
    late, so the picture does not fall behind the music however slow the machine. (How close to their ticks the
    frames are shown on a loaded machine is a figure of bench/bench_preview.py, not a test.)"""
    session = PreviewSession(tiny_renderer, PreviewOptions(listen=("127.0.0.1", 0), record=False,
                                                           refresh_hz=1000.0)).start()
    ticks = play(session, 3.0)
    assert session.engine.render_estimate_seconds > session.period_seconds  # slower than the display
    shown = [s for s in session.shown if s.target.playing]
    assert len(shown) >= 10
    during = [t for t in ticks if shown[0].tick_seconds <= t <= shown[-1].tick_seconds]
    assert len(shown) < len(during)  # ticks without a new frame keep the last one up
    assert all(a.tick_seconds < b.tick_seconds and a.target.tick_seconds < b.target.tick_seconds
               and a.target.beat < b.target.beat for a, b in zip(shown, shown[1:]))
    period, late = session.period_seconds, max(MAX_LATE_SECONDS, session.period_seconds)
    assert all(s.target.tick_seconds <= s.tick_seconds + 0.5 * period for s in session.shown)  # never early
    assert all(s.target.tick_seconds >= s.tick_seconds - late for s in shown)  # nor later than the buffer allows
    buffer = session.buffer.stats
    assert buffer.put == session.engine.rendered and buffer.shown == len(session.shown)
    assert buffer.put == buffer.shown + buffer.late + buffer.stale + len(session.buffer)  # shown once, or dropped


def test_the_hud_names_the_longest_pause_between_display_ticks_of_the_last_seconds(tiny_renderer):
    """A display held up 300 ms (a busy machine) says so on the HUD while it is recent, then no more."""
    session = PreviewSession(tiny_renderer, PreviewOptions(listen=("127.0.0.1", 0), record=False, refresh_hz=50.0))

    def tick_every_20_ms(start: float, seconds: float) -> float:
        count = round(seconds / 0.02)
        for k in range(count + 1):
            session.tick(start + k * 0.02)
        return start + count * 0.02

    try:
        paused_at = tick_every_20_ms(100.0, 1.0)
        now = tick_every_20_ms(paused_at + 0.3, 4.0)
        assert session.stats(now).max_tick_gap_seconds == pytest.approx(0.3)
        assert "longest pause 300 ms" in session.hud(now).lines[2]
        now = tick_every_20_ms(now + 0.02, PAUSE_WINDOW_SECONDS)
        assert session.stats(now).max_tick_gap_seconds == pytest.approx(0.02)
        assert "longest pause 20 ms" in session.hud(now).lines[2]
    finally:
        session.stop()


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
