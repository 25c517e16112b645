"""`barlight preview --headless` as a user runs it on a box without a display: frames reach a real NDI receiver
while `barlight send file` plays, the states are told on stderr, and no render process outlives the preview,
whether it is stopped (SIGTERM) or killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from tests.renderer.preview.conftest import free_udp_port, write_tiny_preset
from tests.renderer.preview.processes import render_processes, running, wait_until
from tests.renderer.sinks.ndi_receiver import NdiReceiver

LOAD_SECONDS = 180.0


class Preview:
    """`barlight preview --headless ...` in a subprocess without DISPLAY; its stderr lines kept as they come."""

    def __init__(self, *options: str) -> None:
        env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                                               "QT_QPA_PLATFORM")}
        self.process = subprocess.Popen([sys.executable, "-m", "barlight", "preview", "--headless", *options],
                                        stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(self.process.stderr), daemon=True).start()

    def said(self, start: str) -> bool:
        return any(line.startswith(start) for line in self.lines)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)


@pytest.fixture
def tiny_preset(tmp_path):
    return str(write_tiny_preset(tmp_path / "tiny.toml", size=64))


def test_headless_preview_sends_ndi_frames_says_its_states_and_ends_its_render_processes(tiny_preset, song, tmp_path):
    name, port = f"barlight-headless-{os.getpid()}", free_udp_port()
    preview = Preview("--video-out", f"ndi:{name}", "--preset", tiny_preset, "--listen", f"127.0.0.1:{port}",
                      "--no-record")
    receiver = None
    try:
        assert wait_until(lambda: preview.said("waiting: "), LOAD_SECONDS), preview.lines
        receiver = NdiReceiver(name)
        sender = subprocess.run([sys.executable, "-m", "barlight", "send", "file", str(song), "--bpm", "120",
                                 "--to", f"127.0.0.1:{port}", "--seconds", "4"], capture_output=True, timeout=60)
        assert sender.returncode == 0
        assert wait_until(lambda: preview.said("lost: Sender ended"), 10), preview.lines
        children = render_processes(preview.process.pid)
        assert children
        preview.process.send_signal(signal.SIGTERM)
        assert preview.process.wait(30) == 128 + signal.SIGTERM
    finally:
        if receiver is not None:
            receiver.close()
        preview.close()
    assert not any(running(pid) for pid in children)
    said = [line.split(":")[0] for line in preview.lines if line.split(":")[0] in ("waiting", "playing", "lost")]
    assert said == ["waiting", "playing", "lost"], preview.lines
    frames = receiver.frames
    assert len(frames) >= 10 and all(frame.image.shape == (64, 64, 3) for frame in frames)
    bars = [int(frame.metadata["bar"]) for frame in frames]
    assert bars[0] == 1 and bars == sorted(bars) and bars[-1] >= 2  # 4 s at 120 BPM: bars 1 and 2, in order
    beats = [float(frame.metadata["song_beat"]) for frame in frames]
    assert all(b < c for b, c in zip(beats, beats[1:]))


def test_a_preview_killed_outright_leaves_no_render_process(tiny_preset):
    preview = Preview("--preset", tiny_preset, "--listen", "127.0.0.1:0", "--no-record")
    try:
        assert wait_until(lambda: preview.said("waiting: "), LOAD_SECONDS), preview.lines
        assert wait_until(lambda: len(render_processes(preview.process.pid)) == 2, LOAD_SECONDS)  # and the standby
        children = render_processes(preview.process.pid)
        preview.process.kill()  # no chance to clean up: each child notices its pipe closing
        preview.process.wait(30)
        assert wait_until(lambda: not any(running(pid) for pid in children), 15), [p for p in children if running(p)]
    finally:
        preview.close()
