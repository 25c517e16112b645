"""The preview with its renderer in a process of its own (a RendererSpec: the tiny preset), its window offscreen,
driven by `barlight send file`: a render process killed or hung mid-session is replaced within 2 s while the
window keeps its last frame and the HUD says what happened, the recording loses no message and exports, and
closing the preview leaves no render process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import soundfile

from barlight.cli import main
from bridge.pcm_stream import to_int16
from bridge.recording import read_recording
from renderer.preview.session import PreviewOptions, PreviewSession
from renderer.preview.status import PLAYING
from renderer.preview.window import PreviewWindow
from tests.receiving import kernel_drops
from tests.renderer.preview.conftest import write_song
from tests.renderer.preview.processes import render_processes, running

#: The restart bound of issue 14, seconds: from the failure to the first frame of the replacement on screen.
RECOVERY_SECONDS = 2.0
#: Loading a model in a fresh process on the shared 2-core machine, at worst, seconds.
LOAD_SECONDS = 180.0


def shown_after(session: PreviewSession, seconds: float):
    return next((s for s in session.shown if s.tick_seconds > seconds and s.target.playing), None)


def window_image(session: PreviewSession):
    window_sink = session.outputs.sinks[0]
    return window_sink.view.image


def break_renderer(session: PreviewSession, qtbot, how: signal.Signals) -> tuple[int, float]:
    """Send ``how`` to the active render process once a standby is ready; wait until frames are back.
    Returns the victim's pid and how long frames were away."""
    qtbot.waitUntil(lambda: session.engine.standby_ready, timeout=LOAD_SECONDS * 1000)
    qtbot.waitUntil(lambda: shown_after(session, time.monotonic() - 0.5) is not None, timeout=10000)
    victim, restarts = session.engine.active_pid, len(session.engine.restarts)
    broken_at = time.monotonic()
    os.kill(victim, how)
    qtbot.waitUntil(lambda: len(session.engine.restarts) > restarts, timeout=10000)
    assert window_image(session) is not None  # the window holds the last frame meanwhile
    restart = session.engine.restarts[-1]
    qtbot.waitUntil(lambda: restart.recovered_seconds is not None, timeout=10000)
    back_at = restart.at_seconds + restart.recovered_seconds  # the replacement's first frame reached the preview
    qtbot.waitUntil(lambda: shown_after(session, back_at - session.period_seconds) is not None, timeout=5000)
    assert session.engine.active_pid != victim
    return victim, back_at - broken_at


def test_a_killed_or_hung_renderer_is_replaced_within_2_s_and_the_recording_loses_nothing(
        qtbot, tiny_spec, tmp_path, monkeypatch):
    monkeypatch.setenv("BARLIGHT_SESSIONS", str(tmp_path / "sessions"))
    song = write_song(tmp_path / "song.wav", seconds=150.0)
    session = PreviewSession(tiny_spec, PreviewOptions(listen=("127.0.0.1", 0))).start()
    window = PreviewWindow(session, ["neon"], "neon")
    qtbot.addWidget(window)
    window.show()
    window.start()
    sender = None
    try:
        session.wait_ready(LOAD_SECONDS)
        sender = subprocess.Popen([sys.executable, "-m", "barlight", "send", "file", str(song), "--bpm", "120",
                                   "--to", f"127.0.0.1:{session.listen[1]}"], stderr=subprocess.PIPE, text=True)
        qtbot.waitUntil(lambda: session.status.state == PLAYING, timeout=30000)

        killed, gap = break_renderer(session, qtbot, signal.SIGKILL)
        assert gap < RECOVERY_SECONDS, f"frames came back {gap:.2f} s after the kill"
        assert session.engine.restarts[-1].reason == "crashed (killed by SIGKILL)"
        qtbot.waitUntil(lambda: window.view.hud is not None and "restarted" in window.view.hud.lines[-1], timeout=3000)
        assert "renderer crashed (killed by SIGKILL): restarted, frames back after" in window.view.hud.lines[-1]

        hung, gap = break_renderer(session, qtbot, signal.SIGSTOP)  # alive, but its render loop stands still
        assert gap < RECOVERY_SECONDS, f"frames came back {gap:.2f} s after the hang"
        assert session.engine.restarts[-1].reason.startswith("stopped responding for ")
        assert len(session.engine.restarts) == 2 and not running(killed)
        qtbot.waitUntil(lambda: not running(hung), timeout=5000)  # a hung renderer is killed, not left behind

        sender.send_signal(signal.SIGTERM)
        summary = sender.communicate(timeout=30)[1]
        sent, port = int(re.search(r"sent (\d+) messages", summary)[1]), session.listen[1]
        qtbot.waitUntil(lambda: session.receiver.stats().received + kernel_drops(port) >= sent, timeout=10000)
        dropped_by_kernel = kernel_drops(port)  # while the socket is open
    finally:
        if sender is not None:
            sender.kill()
        children = session.engine.pids
        window.close()
        path = session.stop()
    assert children and not any(running(pid) for pid in children)  # closing the preview ends its render processes

    recording, stats = read_recording(path), session.receiver.stats()
    # every datagram sent reached the receiver (or is in the kernel's count of those a full buffer dropped),
    # and the receiver took each one
    assert stats.received + dropped_by_kernel == sent and stats.accepted == stats.received
    # each one it took is in the recording: /daw/pcm as its audio (one stream, kept in one FLAC), the rest as lines
    pcm = stats.pcm
    assert recording.complete and pcm.blocks > 0 and pcm.restarts == 0
    assert len(recording.of_session()) + pcm.blocks + pcm.duplicates + pcm.late == stats.accepted
    assert_kept_audio_is_the_song(path, song, pcm)
    code = main(["export", str(song), "--session", str(path), "--out", str(tmp_path / "out"), "--preset",
                 tiny_spec.preset, "--fps", "10", "--size", "64x64", "--bars", "1:2", "--quiet"])
    assert code == 0 and (tmp_path / "out" / "song.mp4").stat().st_size > 0


def assert_kept_audio_is_the_song(path, song, pcm) -> None:
    """The recording's FLAC holds the song's samples as the sender numbered them, from the first on: every one
    the receiver released (``pcm``), exactly, and silence where it filled a gap, nothing cut short."""
    flacs = list(path.parent.glob(f"{path.stem}.pcm*.flac"))
    assert len(flacs) == 1 and [(a.frame, a.first_sample) for a in read_recording(path).pcm][0] == (0, 0)
    kept = soundfile.read(flacs[0], dtype="int16")[0]
    assert len(kept) == pcm.samples + pcm.gap_samples
    sent = to_int16(soundfile.read(song, dtype="float32")[0])[:len(kept)]
    differs = kept != sent
    assert len(sent) == len(kept) and not kept[differs].any() and differs.sum() <= pcm.gap_samples


def test_a_preset_the_render_process_cannot_use_fails_before_any_process_starts():
    from bridge.errors import InputError
    from renderer.preview.child import RendererSpec

    with pytest.raises(InputError, match="no such preset"):
        PreviewSession(RendererSpec("no-such-preset"), PreviewOptions(listen=("127.0.0.1", 0), record=False))
    assert not render_processes(os.getpid())
