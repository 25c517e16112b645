"""Issue 17's cases that must work, not be refused: broken samples are repaired and reported, recordings read
back whatever their marker names, a crashed recording is offered, and a stop signal finalises like Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from bridge.files import COMMIT_NAME, STAGE_NAME
from renderer.export.checkpoint import WORK_DIR_NAME
from tests.hostile.conftest import TINY_EXPORT, recording_lines, write_jsonl
from tests.hostile.harness import REPO, assert_sane, assert_unchanged, limit_memory, run_cli, snapshot


def _broken_song(home: Path, *, nan: bool = True, huge: float = 1e30) -> Path:
    samples, rate = soundfile.read(home / "song.wav", dtype="float32")
    if nan:
        samples[1000], samples[2000], samples[3000] = np.nan, np.inf, -np.inf
    samples[4000:4010] = huge
    soundfile.write(home / "broken.wav", samples, rate, subtype="FLOAT")
    return home / "broken.wav"


def test_export_of_nan_inf_and_huge_samples_repairs_them_says_so_once_and_leaves_no_work(home, tiny_model):
    _broken_song(home)
    before = snapshot(home)
    run = run_cli("export", "broken.wav", "--bpm", "120", "--out", "out", "--model", str(tiny_model), *TINY_EXPORT,
                  cwd=home)
    assert_sane(run)
    assert run.returncode == 0, run.stderr
    warnings = [line for line in run.error_lines if "warning" in line]
    assert warnings == ["barlight export: warning: broken.wav: replaced 3 NaN/inf samples by 0; "
                        "limited 10 samples beyond ±16 (+24 dBFS) to it"]
    assert sorted(p.name for p in (home / "out").iterdir()) == [
        "broken.mp4", "keyframes", "keyframes.csv", "keyframes.json", "keyframes.parseq.json"]
    assert not (home / "out" / WORK_DIR_NAME).exists()
    assert_unchanged(before, snapshot(home), allowed_new=("out",))


def test_analyze_of_huge_finite_samples_writes_json(home):
    _broken_song(home, nan=False, huge=3e38)
    run = run_cli("analyze", "broken.wav", "--bpm", "120", "--json", "a.json", cwd=home)
    assert_sane(run)
    assert run.returncode == 0, run.stderr
    data = json.loads((home / "a.json").read_text())
    assert data["limited_samples"] == 10 and data["nonfinite_samples"] == 0
    assert all(np.isfinite(v) for v in data["frames"]["rms"])


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_a_recording_with_line_separators_in_marker_names_reads_back(home, separator):
    names = (f"verse{separator}one", f"drop{separator}")
    write_jsonl(home / "rec.jsonl", recording_lines(markers=names))
    run = run_cli("timeline", "rec.jsonl", "--json", cwd=home)
    assert_sane(run)
    assert run.returncode == 0, run.stderr
    assert [m["name"] for m in json.loads(run.stdout)["markers"]] == list(names)


def test_session_latest_offers_a_crashed_part_says_so_and_exports_it(home, tiny_model):
    sessions = home / "sessions"
    sessions.mkdir()
    write_jsonl(sessions / "20260101-000000.jsonl", recording_lines(markers=("old",)))
    lines = recording_lines(markers=("a\u2028b", "c"))[:-1]  # no footer: the recorder never closed it
    write_jsonl(sessions / "20260102-000000.jsonl.part", lines)
    with open(sessions / "20260102-000000.jsonl.part", "a", encoding="utf-8") as handle:
        handle.write('{"t": 104.1, "session": "li')  # the line being written when it was killed
    before = snapshot(home)
    run = run_cli("export", "song.wav", "--session", "latest", "--out", "out", "--model", str(tiny_model),
                  *TINY_EXPORT, cwd=home)
    assert_sane(run)
    assert run.returncode == 0, run.stderr
    assert "20260102-000000.jsonl.part: recovered a recording that was not closed" in run.stderr
    sheet = json.loads((home / "out" / "keyframes.json").read_text())
    assert [bar["section"] for bar in sheet["bars"]] == ["a\u2028b", "c"]
    assert_unchanged(before, snapshot(home), allowed_new=("out",))


def _wait_for(predicate, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _start(home: Path, *argv: str) -> subprocess.Popen:
    env = {"PYTHONPATH": str(REPO), "BARLIGHT_SESSIONS": str(home / "sessions"), "QT_QPA_PLATFORM": "offscreen",
           "PATH": "/usr/bin:/bin", "HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "barlight", *argv], cwd=home, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit_memory)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _send_some(port: int) -> None:
    from bridge.protocol.encode import encode
    from bridge.protocol.messages import HelloMessage, TransportMessage

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for k in range(5):
            sock.sendto(encode(HelloMessage("file", "1", "s")), ("127.0.0.1", port))
            sock.sendto(encode(TransportMessage(True, k * 0.1, 120.0, 4, 4, 0.0, 1)), ("127.0.0.1", port))
            time.sleep(0.02)


def _flushed(part: Path) -> bool:
    """Whether the recording ``part`` (still being written) holds the transport messages :func:`_send_some` sent."""
    return part.read_text(encoding="utf-8").count('"/daw/transport"') == 5


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_finalises_a_recording_like_ctrl_c(home, signum):
    port = _free_port()
    before = snapshot(home)
    process = _start(home, "record", "take.jsonl", "--listen", f"127.0.0.1:{port}")
    try:
        _wait_for(lambda: (home / "take.jsonl.part").exists())
        _send_some(port)
        _wait_for(lambda: _flushed(home / "take.jsonl.part"))  # what was sent is on disk before the signal
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Traceback" not in err and process.returncode == 0, err
    assert (home / "take.jsonl").exists() and not (home / "take.jsonl.part").exists()
    assert json.loads((home / "take.jsonl").read_text().splitlines()[-1])["end"] is True
    assert_unchanged(before, snapshot(home), allowed_new=("take.jsonl",))


def test_a_stop_signal_closes_the_preview_and_keeps_its_recording(home, tiny_model):
    port = _free_port()
    before = snapshot(home)
    process = _start(home, "preview", "--listen", f"127.0.0.1:{port}", "--model", str(tiny_model),
                     "--size", "32x32", "--screenshots", "shots")
    try:
        _wait_for(lambda: any((home / "sessions").glob("*.jsonl.part")), 120)
        _send_some(port)
        _wait_for(lambda: any(_flushed(part) for part in (home / "sessions").glob("*.jsonl.part")))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    # stopped in its event loop the window closes (exit 0); stopped while its render process still
    # loads, it ends like any command (exit 143, "stopped by SIGTERM"); the recording is kept either way
    assert "Traceback" not in err and process.returncode in (0, 128 + signal.SIGTERM), err
    assert process.returncode == 0 or err.strip().splitlines()[-1] == "barlight preview: stopped by SIGTERM"
    assert len(list((home / "sessions").glob("*.jsonl"))) == 1 and not list((home / "sessions").glob("*.part"))
    assert_unchanged(before, snapshot(home), allowed_new=("sessions", "shots"))


def test_a_stop_signal_ends_an_export_like_ctrl_c_keeping_the_earlier_set(home, tiny_model):
    before = snapshot(home / "earlier")
    process = _start(home, "export", "song.wav", "--bpm", "120", "--out", "earlier", "--model", str(tiny_model),
                     "--size", "64x64", "--fps", "24", "--seed", "9")
    try:
        _wait_for(lambda: any((home / "earlier" / WORK_DIR_NAME / "frames").glob("0000*.png")), 120)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Traceback" not in err and process.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "barlight export: stopped by SIGTERM"
    after = snapshot(home / "earlier")
    assert {k: v for k, v in after.items() if not k.startswith(WORK_DIR_NAME)} == before  # the earlier set, whole
    assert not (home / "earlier" / STAGE_NAME).exists() and not (home / "earlier" / COMMIT_NAME).exists()
    assert any(k.startswith(f"{WORK_DIR_NAME}/frames/") for k in after)  # the work folder is kept for a rerun
