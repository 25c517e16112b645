"""The window offscreen, driven by a simulated DAW over loopback: frames in order with the clock's beat
labels, states a user understands, a recording, hot reload and the controls, and a GUI thread that
never stalls. The renderer is the embedded model's tiny architecture at 32x32 in a process of its
own, as `barlight preview` runs it (a RendererSpec of the tiny preset, see conftest)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bridge.recording import latest_session, tempo_map_from_recording
from bridge.senders.scripted import DawScript, stream_in_thread
from renderer.presets import preset_path
from renderer.preview.session import PreviewOptions, PreviewSession
from renderer.preview.status import LOST, PLAYING, STOPPED, WAITING
from renderer.preview.window import PreviewWindow

#: Loading the tiny model in a fresh process on the shared 2-core machine, at worst, seconds.
LOAD_SECONDS = 180.0


@pytest.fixture
def preview(qtbot, tiny_spec, tmp_path, monkeypatch):
    """A started session and its window (listening on a free port, recording into tmp_path/sessions), its render
    process loaded."""
    monkeypatch.setenv("BARLIGHT_SESSIONS", str(tmp_path / "sessions"))
    opened = []

    def open_preview(preset_file: Path | None = None, **options):
        session = PreviewSession(tiny_spec, PreviewOptions(listen=("127.0.0.1", 0), standby=False,
                                                           screenshots_folder=tmp_path / "shots", **options))
        session.start().wait_ready(LOAD_SECONDS)
        window = PreviewWindow(session, ["neon", "ink"], "neon", preset_file)
        qtbot.addWidget(window)
        window.show()
        window.start()
        states: list[tuple[float, str]] = []
        window.timer.timeout.connect(lambda: states.append((time.monotonic(), session.status.state)))
        opened.append((session, window))
        return session, window, states

    yield open_preview
    for session, window in opened:
        window.close()
        session.stop()


def playing_runs(shown):
    """Shown frames grouped by transport generation, playing frames only."""
    runs: dict[tuple, list] = {}
    for s in shown:
        if s.target.playing:
            runs.setdefault((s.target.session_id, s.target.generation), []).append(s)
    return list(runs.values())


def deduped(states):
    out = []
    for _, state in states:
        if not out or out[-1] != state:
            out.append(state)
    return out


def test_frames_follow_barlight_send_file_in_order_and_the_session_is_recorded(preview, qtbot, song):
    session, window, states = preview()
    port = session.listen[1]
    qtbot.waitUntil(lambda: window.view.status is not None and window.view.status.state == WAITING, timeout=5000)
    assert any(f"barlight send file song.wav --bpm 120 --to 127.0.0.1:{port}" in line
               for line in window.view.status.detail)
    sender = subprocess.Popen([sys.executable, "-m", "barlight", "send", "file", str(song), "--bpm", "120",
                               "--to", f"127.0.0.1:{port}", "--seconds", "4"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        qtbot.waitUntil(lambda: session.status.state == PLAYING, timeout=30000)
        qtbot.waitUntil(lambda: len(playing_runs(session.shown)) and max(map(len, playing_runs(session.shown))) >= 12,
                        timeout=20000)
        assert sender.wait(timeout=30) == 0
        qtbot.waitUntil(lambda: session.status.state == LOST, timeout=5000)  # it said bye: the last frame is held
    finally:
        sender.kill()
    assert "Sender ended" in window.view.status.headline and window.view.image is not None
    assert window.sink.shown == len(session.shown)  # the window is a frame sink: every frame shown reached it
    assert session.shown[-1].label.split(".")[0] == str(window.sink.position.bar)  # with the position it shows
    seen = deduped(states)
    assert seen[0] == WAITING and seen.index(PLAYING) < seen.index(LOST)  # a stopped moment before play is fine

    run = max(playing_runs(session.shown), key=len)
    beats = [s.target.beat for s in run]
    ticks = [s.tick_seconds for s in run]
    assert all(b < c for b, c in zip(beats, beats[1:])), "frames shown out of order"
    assert all(t < u for t, u in zip(ticks, ticks[1:]))
    matching = sum(s.label == s.audible_label for s in run) / len(run)
    assert matching >= 0.8, [(s.label, s.audible_label) for s in run]
    errors_beats = np.abs([s.target.beat - s.audible_beat for s in run])
    assert np.median(errors_beats) < 0.125  # an eighth note; the benchmark measures the milliseconds

    path = session.stop()
    assert path is not None and path.suffix == ".jsonl" and path.is_file()
    assert latest_session() == path
    from barlight.commands.export import session_timeline

    assert session_timeline("latest") == path  # `barlight export --session latest` finds it
    assert tempo_map_from_recording(path).bpm_at(1.0) == pytest.approx(120.0)


def test_states_stopped_lost_back_and_the_display_keeps_ticking(preview, qtbot):
    """The window ticks through every state while its renderer works in a process of its own, and its HUD names
    the longest pause between ticks. (How long the GUI thread works per tick and paint, and how long it pauses on
    a loaded machine, are figures of bench/bench_preview.py, not tests.)"""
    session, window, states = preview(max_fps=15.0)
    qtbot.waitUntil(lambda: session.status.state == WAITING and bool(states), timeout=5000)
    steps = [("play", 1.5), ("stop", 1.5), ("play", 1.0), ("silence", 1.6), ("play", 1.5)]
    daw = stream_in_thread(DawScript.from_steps(steps), session.listen[1])
    qtbot.waitUntil(lambda: session.status.state == PLAYING, timeout=5000)
    qtbot.waitUntil(lambda: not daw.is_alive(), timeout=15000)  # the event loop keeps running meanwhile
    qtbot.wait(100)
    assert deduped(states) == [WAITING, PLAYING, STOPPED, PLAYING, LOST, PLAYING]
    assert session.engine.active_pid != os.getpid()  # the GUI thread never renders
    stated = int(re.search(r"longest pause (\d+) ms", window.view.hud.lines[2])[1])  # as of the HUD's last refresh
    measured = [round(gap * 1000) for gap in session.tick_gaps]
    refreshed = range(len(measured) - 8, len(measured) + 1)  # the HUD is at most a few ticks old (HUD_HZ)
    assert stated in {max(measured[:k]) for k in refreshed}, (stated, measured[-8:])

    lost = [t for t, state in states if state == LOST]
    assert not [s for s in session.shown if lost[0] <= s.tick_seconds <= lost[-1]], "a frame changed while lost"
    stopped = [t for t, state in states if state == STOPPED]
    held = [s for s in session.shown if stopped[0] < s.tick_seconds <= stopped[-1]]
    assert held and all(not s.target.playing for s in held)
    assert len({round(s.target.beat, 6) for s in held}) == 1  # stopped: one position, rendered gently
    back = [s for s in session.shown if s.tick_seconds > lost[-1]]
    assert len(back) >= 3 and all(s.target.playing for s in back[1:])


def test_hot_reload_presets_and_controls(preview, qtbot, tmp_path):
    preset_file = tmp_path / "mine.toml"
    preset_file.write_text(preset_path("neon").read_text())
    session, window, _ = preview(preset_file=preset_file)
    daw = stream_in_thread(DawScript.from_steps([("play", 6.0)]), session.listen[1])
    qtbot.waitUntil(lambda: len(session.shown) >= 3, timeout=10000)

    preset_file.write_text(preset_path("neon").read_text().replace('name = "Neon"', 'name = "Neon Edit"'))
    qtbot.waitUntil(lambda: session.preset_name == "Neon Edit", timeout=5000)
    qtbot.waitUntil(lambda: session.current is not None and session.current.preset == "Neon Edit", timeout=5000)
    assert "reloaded preset Neon Edit" in window.note
    preset_file.write_text("name = [broken")
    qtbot.waitUntil(lambda: "not reloaded" in window.note, timeout=5000)
    assert session.preset_name == "Neon Edit" and str(preset_file) in window.note

    window.presets.setCurrentText("ink")
    assert session.preset_name.lower() == "ink"
    qtbot.waitUntil(lambda: session.current.preset.lower() == "ink", timeout=5000)  # same render process

    window.latency.setValue(40)
    assert session.receiver.latency_seconds == pytest.approx(0.04)
    assert session.receiver.snapshot().latency_seconds == pytest.approx(0.04)

    qtbot.keyClick(window, "P")  # freeze: the frame on screen stays
    qtbot.wait(100)
    frozen_at = len(session.shown)
    qtbot.wait(400)
    assert len(session.shown) == frozen_at and session.frozen
    qtbot.keyClick(window, "P")
    qtbot.waitUntil(lambda: len(session.shown) > frozen_at, timeout=5000)

    qtbot.keyClick(window, "H")
    assert not window.view.hud_visible
    qtbot.keyClick(window, "B")
    qtbot.wait(50)
    picture = window.view.grab().toImage()
    assert picture.pixelColor(picture.width() // 2, picture.height() // 3).value() == 0  # blackout
    qtbot.keyClick(window, "B")

    window.show_fullscreen(0)  # screen 0 of QGuiApplication.screens(): a projector would be another index
    qtbot.waitUntil(lambda: window.isFullScreen(), timeout=3000)
    assert not window.controls.isVisible()
    qtbot.keyClick(window, "F")
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=3000)
    assert window.controls.isVisible()
    with pytest.raises(IndexError):
        window.show_fullscreen(99)

    qtbot.keyClick(window, "S")
    shots = list((tmp_path / "shots").iterdir())
    assert len(shots) == 1 and shots[0].suffix == ".png" and str(shots[0]) in window.note
    assert shots[0].stat().st_size > 0
    qtbot.waitUntil(lambda: not daw.is_alive(), timeout=10000)


def test_the_window_paints_a_frame_when_a_new_one_is_due_not_at_every_refresh(preview, qtbot):
    """Repainting an unchanged frame at each refresh cost the GUI process a fifth of a core, and a process over its
    share of a busy machine wakes late for its next refresh: the view is painted when a frame is due (and for the
    HUD, hidden here), so at 5 frames/s most refreshes paint nothing, and every new frame is painted."""
    session, window, _ = preview(max_fps=5.0)
    window.set_hud(False)
    daw = stream_in_thread(DawScript.from_steps([("play", 2.5)]), session.listen[1])
    qtbot.waitUntil(lambda: session.status.state == PLAYING and len(session.shown) >= 2, timeout=10000)
    ticks, paints, shown = len(session.tick_gaps), window.view.paints, len(session.shown)
    qtbot.wait(1500)
    ticks, paints, shown = len(session.tick_gaps) - ticks, window.view.paints - paints, len(session.shown) - shown
    daw.join()
    assert ticks >= 30 and shown >= 3, (ticks, shown)
    assert shown <= paints <= shown + 3, (ticks, paints, shown)  # a state message may change once or twice
