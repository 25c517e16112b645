"""End to end: the device's JavaScript under Node sends real OSC over UDP to the Python receiver."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bridge.protocol.messages import ByeMessage, HelloMessage, MacrosMessage, TransportMessage
from bridge.receiver import PcmAudio, Received, Receiver
from tests.receiving import wait_for

DRIVER = Path(__file__).resolve().parent / "e2e_drive.js"


def test_receiver_clock_follows_the_device_and_answers_its_hello() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 18+ is needed for the Max for Live device tests")
    events: list[Received] = []
    audio: list[PcmAudio] = []
    with Receiver("127.0.0.1", 0) as receiver:
        receiver.subscribe(events.append, kinds=[HelloMessage, TransportMessage, MacrosMessage, ByeMessage])
        receiver.subscribe(audio.append, kinds=[PcmAudio])
        result = subprocess.run([node, str(DRIVER), str(receiver.port)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        expected = summary["sent"] + summary["pcm_sent"] + summary["pcm_hellos"] + 1  # + the bye
        wait_for(receiver, lambda: receiver.stats().accepted >= expected, timeout=2.0)
        stats = receiver.stats()
        snapshot = receiver.snapshot()

    # every datagram the device sent decoded as protocol v1: types and arities as udpsend writes them
    assert stats.dropped_total == 0, stats.dropped
    assert stats.accepted == expected
    (session,) = stats.sessions
    assert (session.session_id, session.source, session.ended) == (summary["session_id"], "m4l", True)
    hello = next(e.message for e in events if isinstance(e.message, HelloMessage))
    assert hello.reply_port == summary["reply_port"]
    # the ack came back over UDP to the device's reply port and lit its status
    assert summary["status_texts"][-1] == "renderer answering"

    # while playing, the clock's fitted beat at each arrival matches what the device sent
    playing = [e for e in events if isinstance(e.message, TransportMessage) and e.message.playing]
    assert len(playing) >= 20, "about 50 Hz for a second"
    played_beats = summary["played_ms"] / 500.0  # 120 BPM
    assert playing[-1].message.beat - playing[0].message.beat == pytest.approx(played_beats, abs=0.1)
    errors = sorted(abs(e.beat - e.message.beat) for e in playing[5:])
    assert errors[len(errors) // 2] < 0.02, f"median |fitted - sent| {errors[len(errors) // 2]:.4f} beats"
    assert errors[-1] < 0.15, f"worst |fitted - sent| {errors[-1]:.4f} beats"
    assert {e.message.bpm for e in playing} == {120.0}

    # after stop, seek and meter change the clock sits exactly where Live does
    assert not snapshot.playing
    assert snapshot.beat_at(time.monotonic()) == 20.0
    assert (snapshot.numerator, snapshot.denominator, snapshot.bar, snapshot.bar_start_beat) == (3, 4, 6, 20.0)
    assert [(m.name, m.beat) for m in snapshot.markers] == [("Intro", 0.0), ("Drop", 32.0)]
    macros = [e.message.macros for e in events if isinstance(e.message, MacrosMessage)]
    assert macros[-1] == (0.0, 0.0, 0.625, 0.0)

    # the mix: record~'s tone, read back from the buffer~ by the script, arrives whole and in order
    assert summary["pcm_sent"] >= 1.2 * 44100 / 512 and summary["pcm_skipped"] == 0
    assert stats.pcm.gaps == 0 and stats.pcm.duplicates == 0 and stats.pcm.late == 0, stats.pcm
    assert {a.block.sample_rate for a in audio} == {44100}
    firsts = [a.block.first_sample for a in audio]
    assert firsts[0] == 0 and all(b.block.first_sample == a.block.end_sample for a, b in zip(audio, audio[1:]))
    assert not any(a.block.gap for a in audio)
    heard = np.concatenate([a.block.samples for a in audio])
    tone = np.round(np.float32(0.5) * np.sin(2 * np.pi * 440 * np.arange(summary["recorded"]) / 44100)
                    .astype(np.float32) * 32767)
    start = next(k for k in range(44100) if np.abs(tone[k:k + 64] - heard[:64]).max() <= 1)  # the first head
    assert np.abs(tone[start:start + len(heard)] - heard).max() <= 1  # float32 and int16 rounding


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_barlight_record_shows_and_records_what_the_device_sends(tmp_path: Path) -> None:
    """The check in docs/m4l.md: `barlight record` receives the device's hello, transport, markers, macros."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 18+ is needed for the Max for Live device tests")
    port = _free_udp_port()
    out = tmp_path / "check.jsonl"
    record = subprocess.Popen([sys.executable, "-m", "barlight", "record", str(out), "--listen", f"127.0.0.1:{port}",
                               "--seconds", "30"], stderr=subprocess.PIPE, text=True)
    try:
        seen = [record.stderr.readline() for _ in range(1)]
        while "listening on 127.0.0.1" not in seen[-1] and seen[-1] and len(seen) < 50:
            seen.append(record.stderr.readline())  # skip anything printed before the banner
        assert "listening on 127.0.0.1" in seen[-1], "".join(seen)
        drive = subprocess.run([node, str(DRIVER), str(port)], capture_output=True, text=True, timeout=60)
        assert drive.returncode == 0, drive.stderr
        summary = json.loads(drive.stdout.strip().splitlines()[-1])
    finally:
        record.send_signal(signal.SIGINT)
        _, rest = record.communicate(timeout=30)
    assert record.returncode == 0, rest
    assert "from 1 session" in rest, rest

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    messages = [line for line in lines if "address" in line]
    by_address = {}
    for message in messages:
        by_address.setdefault(message["address"], []).append(message)
    assert {m["session"] for m in messages} == {summary["session_id"]}
    assert set(by_address) >= {"/daw/hello", "/daw/transport", "/daw/markers", "/daw/loop", "/daw/macros",
                               "/daw/bye"}
    assert summary["status_texts"][-1] == "renderer answering"
    assert len(messages) == summary["sent"] + summary["pcm_hellos"] + 1  # the PCM is kept as FLAC, not as lines
    anchors = [line["pcm"] for line in lines if "pcm" in line]
    assert anchors and {a["sample_rate"] for a in anchors} == {44100}
    assert (tmp_path / anchors[0]["file"]).is_file()
