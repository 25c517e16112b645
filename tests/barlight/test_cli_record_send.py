"""``barlight record`` and ``barlight send file`` as a user runs them: real processes, real UDP, Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from barlight.cli import main
from bridge.recording import read_recording, tempo_map_from_recording
from bridge.timeline.sources import load_timeline


def _sigint_ignored() -> None:
    """What a job started in the background by a non-interactive shell (``nohup .ci/run &``) inherits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("inherited", [None, _sigint_ignored], ids=["sigint-as-inherited", "sigint-ignored"])
def test_record_a_file_sender_then_stop_with_ctrl_c(tmp_path, capsys, inherited):
    audio = tmp_path / "a.wav"
    soundfile.write(audio, (0.2 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32), 16000)
    out = tmp_path / "take.jsonl"
    recorder = subprocess.Popen([sys.executable, "-m", "barlight", "record", str(out), "--listen", "127.0.0.1:0"],
                                stderr=subprocess.PIPE, text=True, preexec_fn=inherited)
    try:
        first = recorder.stderr.readline()
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", first).group(1))
        assert main(["send", "file", str(audio), "--bpm", "96", "--meter", "6/8", "--to", f"127.0.0.1:{port}",
                     "--seconds", "0.6"]) == 0
        recorder.send_signal(signal.SIGINT)
        _, err = recorder.communicate(timeout=20)
    finally:
        recorder.kill()
    assert recorder.returncode == 0, err
    assert "recorded" in err and "1 session" in err
    assert out.exists() and not (tmp_path / "take.jsonl.part").exists()
    recording = read_recording(out)
    assert recording.complete and recording.messages[-1].message.__class__.__name__ == "ByeMessage"
    tempo_map = tempo_map_from_recording(out)
    assert tempo_map.tempo[0].bpm == 96.0 and (tempo_map.meters[0].numerator, tempo_map.meters[0].denominator) == (6, 8)
    assert load_timeline(out) == tempo_map  # `barlight timeline take.jsonl` reads it
    assert "sent" in capsys.readouterr().err


def test_cli_errors_are_one_line_with_status_2(tmp_path, capsys):
    audio = tmp_path / "a.wav"
    soundfile.write(audio, np.zeros(1600, np.float32), 16000)
    low_rate = tmp_path / "low.wav"
    soundfile.write(low_rate, np.zeros(4000, np.float32), 4000)
    cases = [
        (["send", "file", str(audio)], "--timeline SOURCE or --bpm"),
        (["send", "file", str(tmp_path / "nope.wav"), "--bpm", "120"], "no such audio file"),
        (["send", "file", str(audio), "--bpm", "120", "--to", "here:there"], "--to"),
        (["send", "file", str(audio), "--bpm", "120", "--start-bar", "0"], "--start-bar"),
        (["record", str(tmp_path / "x.jsonl"), "--listen", "nohost:port"], "--listen"),
        (["record", str(tmp_path / "x.jsonl"), "--allow", "10.0.0.1,bad"], "--allow"),
        (["record", str(tmp_path / "x.txt"), "--listen", "127.0.0.1:0"], ".jsonl"),
        # a host that can't be found, a rate the feature extractor can't take, no time to run
        (["send", "file", str(audio), "--bpm", "120", "--to", "nohost.invalid:9420"],
         "nohost.invalid:9420: cannot find this host"),
        (["send", "file", str(low_rate), "--bpm", "120"], "sample rate 4000 Hz outside"),
        (["send", "file", str(audio), "--bpm", "120", "--seconds", "0"], "--seconds: must be a number of seconds > 0"),
        (["record", str(tmp_path / "x.jsonl"), "--listen", "127.0.0.1:0", "--seconds", "-1"],
         "--seconds: must be a number of seconds > 0"),
    ]
    for argv, text in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and text in err and "Traceback" not in err, err
    assert main(["send"]) == 2  # no source: help
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "x.jsonl.part").exists()


def test_record_status_line_shows_messages_sessions_and_position(tmp_path):
    import time

    from barlight.commands.record import status_line
    from bridge.protocol.encode import encode
    from bridge.protocol.messages import TransportMessage
    from bridge.receiver import Receiver
    from bridge.recording import Recorder

    rx = Receiver(port=0)
    with Recorder(tmp_path / "s.jsonl").attach(rx) as rec:
        assert status_line(rx, rec).startswith("0 messages  0 sessions  waiting for a sender")
        rx.handle_datagram(encode(TransportMessage(False, 13.0, 128.0, 4, 4, 12.0, 4)), ("127.0.0.1", 7), time.monotonic())
        line = status_line(rx, rec)
    assert line.startswith("1 messages  1 session  4.2.00  128.00 BPM stopped") and line.endswith("dropped 0")
