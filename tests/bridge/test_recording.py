"""Session recordings: JSON Lines written safely, read back into a TempoMap and a FeatureTrack."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from barlight.cli import main
from bridge.clock import Discontinuity
from bridge.errors import InputError
from bridge.protocol.messages import AudioMessage, HelloMessage, LoopMessage, MarkersMessage, TransportMessage
from bridge.receiver import Receiver, Received
from bridge.recording import (
    Recorder,
    feature_track_from_recording,
    latest_session,
    new_session_path,
    read_recording,
    session_path,
    recording_end_beat,
    sessions_dir,
    tempo_map_from_recording,
    timeline_from_recording,
)
from bridge.senders.osc_out import ProtocolSender
from bridge.timeline.sources import load_timeline
from bridge.timeline.tempo_map import Marker, TempoMap
from tests.receiving import wait_for


def received(message, seconds: float, beat: float | None = None, session: str = "s1") -> Received:
    return Received(message, session, ("127.0.0.1", 5000), seconds, beat)


def scripted_recording(path) -> None:
    """120 BPM 4/4 for 8 beats from t=0, then 90 BPM; 3/4 from beat 16; audio with every transport."""
    with Recorder(path) as rec:
        rec.write(received(HelloMessage("test", "1", "s1"), 0.0))
        rec.write(received(MarkersMessage((Marker("Old", 0.0),)), 0.0))
        rec.write(received(MarkersMessage((Marker("A", 0.0), Marker("B", 16.0))), 0.0))
        seconds, beat, bpm = 0.0, 0.0, 120.0
        while beat < 24.0:
            if beat >= 8.0:
                bpm = 90.0
            num, den = (3, 4) if beat >= 16.0 else (4, 4)
            bar_start = (beat // 4) * 4 if num == 4 else 16.0 + ((beat - 16.0) // 3) * 3
            bar = int(bar_start // 4) + 1 if num == 4 else 5 + int((beat - 16.0) // 3)
            rec.write(received(TransportMessage(True, beat, bpm, num, den, bar_start, bar), seconds, beat))
            rec.write(received(AudioMessage(0.5, 0.7, (0.25,) * 8), seconds, beat))
            seconds += 0.02
            beat += 0.02 * bpm / 60.0
        rec.write(Discontinuity("stop", seconds, beat, beat, 2, "s1"))
        rec.write(received(TransportMessage(False, beat, bpm, 3, 4, 22.0, 7), seconds, beat))
        rec.write(received(AudioMessage(0.0, 0.0, (0.0,) * 8), seconds + 0.02, beat))


def test_recording_round_trips_into_a_tempo_map(tmp_path):
    path = tmp_path / "take.jsonl"
    scripted_recording(path)
    assert path.exists() and not (tmp_path / "take.jsonl.part").exists()
    recording = read_recording(path)
    assert recording.complete and recording.main_session() == "s1"
    assert [j["event"] for j in recording.jumps] == ["stop"]
    timeline = timeline_from_recording(path)
    tm = timeline.tempo_map
    assert [p.bpm for p in tm.tempo] == [120.0, 90.0]
    assert tm.tempo[1].beat == pytest.approx(8.0, abs=0.05)
    assert [(m.beat, m.numerator, m.denominator) for m in tm.meters] == [(0.0, 4, 4), (16.0, 3, 4)]
    assert [m.name for m in tm.markers] == ["A", "B"]  # the last list
    assert tm.bar_at(16.0) == 5 and tm.bar_at(19.0) == 6
    assert tm.seconds_at(8.0) == pytest.approx(4.0, abs=0.03) and tm.seconds_at(20.0) == pytest.approx(12.0, abs=0.03)
    assert timeline.start_beat == 0.0 and timeline.end_beat == pytest.approx(24.0, abs=0.05)
    assert recording_end_beat(path) == timeline.end_beat and tempo_map_from_recording(path) == tm


def test_feature_track_in_song_and_arrival_time(tmp_path):
    path = tmp_path / "take.jsonl"
    scripted_recording(path)
    song = feature_track_from_recording(path)
    arrival = feature_track_from_recording(path, timebase="arrival")
    assert len(arrival) == len(song) + 1  # the frame after stop is not in song time
    assert np.all(np.diff(song.seconds) >= 0) and song.seconds[-1] == pytest.approx(4.0 + 16.0 / 1.5, abs=0.05)
    assert song.rms[0] == pytest.approx(0.5) and song.bands.shape == (len(song), 8)
    assert song.mel is None  # a DAW feed has no mel: missing, not invented
    assert arrival.seconds[0] == 0.0


def test_live_receiver_to_recorder(tmp_path):
    path = tmp_path / "live.jsonl"
    with Receiver(port=0) as rx, Recorder(path).attach(rx) as rec, ProtocolSender(*rx.address, session_id="L") as tx:
        tx.hello()
        tx.loop(True, 0.0, 8.0)
        for k in range(5):
            tx.transport(True, k * 0.04, 120.0, 4, 4, 0.0, 1)
            tx.audio(0.1, 0.2, [0.0] * 8)
        wait_for(rx, lambda: rec.messages >= 12)
    recording = read_recording(path)
    kinds = [type(m.message).__name__ for m in recording.messages]
    assert kinds[:2] == ["HelloMessage", "LoopMessage"] and kinds.count("TransportMessage") == 5
    assert recording.messages[-1].beat is not None and recording.main_session() == "L"
    assert recording.of_session("L", LoopMessage)[0].message == LoopMessage(True, 0.0, 8.0)
    # hello makes L the driver ("source"); its first transport message is "connect"; the beats
    # above advance faster than real time, so later ones are seeks
    assert [j["event"] for j in recording.jumps][:2] == ["source", "connect"]


def test_lines_reach_disk_within_a_second_and_a_crash_leaves_a_readable_part(tmp_path):
    path = tmp_path / "crash.jsonl"
    rec = Recorder(path, flush_seconds=0.5)
    written = time.monotonic()
    rec.write(received(TransportMessage(True, 1.0, 120.0, 4, 4, 0.0, 1), 1.0, 1.0))
    while "daw/transport" not in rec.part_path.read_text():
        assert time.monotonic() - written < 1.0, "not flushed within a second"
        time.sleep(0.01)
    with open(rec.part_path, "a", encoding="utf-8") as torn:
        torn.write('{"t": 2.0, "session": "s1", "addr')  # the crash tore the last line
    recording = read_recording(rec.part_path)
    assert not recording.complete and len(recording.messages) == 1
    # what the crash left is a timeline like any recording: `barlight timeline crash.jsonl.part`
    assert load_timeline(rec.part_path) == TempoMap.constant(120.0)
    assert main(["timeline", str(rec.part_path), "--json"]) == 0
    rec.close()


def test_an_existing_recording_is_never_overwritten(tmp_path, capsys):
    path = Recorder(tmp_path / "take.jsonl").close()
    before = path.read_bytes()
    with pytest.raises(InputError, match="take.jsonl: exists: a recording is never overwritten"):
        Recorder(path)
    assert main(["record", str(path), "--listen", "127.0.0.1:0", "--seconds", "0.1"]) == 2
    assert "exists" in capsys.readouterr().err
    assert path.read_bytes() == before and not Path(str(path) + ".part").exists()


def test_bad_recordings_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "nope"}\n')
    with pytest.raises(InputError, match="not a barlight session"):
        read_recording(bad)
    bad.write_text('{"format": "barlight-session"}\n{"t": 1, "address": "/daw/bye"}\n{"end": true}\n')
    with pytest.raises(InputError, match="line 2"):
        read_recording(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"format": "barlight-session"}\n{"end": true}\n')
    with pytest.raises(InputError, match="no /daw/transport"):
        tempo_map_from_recording(empty)
    with pytest.raises(InputError, match=".jsonl"):
        Recorder(tmp_path / "x.txt")


def test_sessions_folder_and_latest_session(tmp_path, monkeypatch):
    monkeypatch.setenv("BARLIGHT_SESSIONS", str(tmp_path / "s"))
    assert sessions_dir() == tmp_path / "s" and latest_session() is None
    first = new_session_path()
    Recorder(first).close()
    second = new_session_path()
    assert second != first
    Recorder(second).close()
    os.utime(first, (time.time() + 10, time.time() + 10))
    assert latest_session() == first
    part = Recorder(new_session_path())
    try:
        assert latest_session() == first
        os.utime(part.part_path, (time.time() + 20, time.time() + 20))
        assert latest_session(include_partial=True) == part.part_path
    finally:
        part.close()
    assert json.loads(first.read_text().splitlines()[0])["format"] == "barlight-session"


def test_session_path_finds_recordings_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv("BARLIGHT_SESSIONS", str(tmp_path))
    with pytest.raises(InputError, match="no recorded sessions"):
        session_path("latest")
    path = Recorder(tmp_path / "20260101-120000.jsonl").close()
    assert session_path("20260101-120000") == path
    assert session_path("20260101-120000.jsonl") == path
    assert session_path(str(path)) == path
    assert session_path("latest") == path
    with pytest.raises(InputError, match="no such session"):
        session_path("nope")


def test_latest_offers_a_crashed_part_but_not_one_being_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("BARLIGHT_SESSIONS", str(tmp_path))
    done = new_session_path()
    Recorder(done).close()
    live = Recorder(tmp_path / "live.jsonl")
    try:
        os.utime(live.part_path, (time.time() + 10, time.time() + 10))
        assert session_path("latest") == done  # the newest part file is locked by its live recorder
    finally:
        live.close()
    crashed = tmp_path / "crashed.jsonl.part"
    crashed.write_bytes(done.read_bytes().rsplit(b"\n", 2)[0] + b"\n")  # no footer: a recorder that died
    os.utime(crashed, (time.time() + 20, time.time() + 20))
    assert session_path("latest") == crashed
    assert not read_recording(crashed).complete


def test_recorded_pcm_is_kept_as_flac_and_read_back_on_the_song_timeline(tmp_path):
    """/daw/pcm streamed from song second 1.0 at 120 BPM, one block lost: the recording keeps it beside the
    JSON lines (FLAC, 16 bit), and session_audio puts it back at song second 1.0, the lost block silent."""
    from bridge.pcm_stream import pcm_messages, to_int16
    from bridge.session_audio import session_audio

    rate = 8000
    audio = (0.5 * np.sin(np.arange(2 * rate) * 0.07)).astype(np.float32)
    messages = pcm_messages(5 * rate, rate, audio, block_samples=400)  # the sender's clock starts at 5 s
    receiver = Receiver("127.0.0.1", 0)  # not started: datagrams handed in at chosen arrival times
    path = tmp_path / "take.jsonl"
    recorder = Recorder(path).attach(receiver)
    source, zero = ("127.0.0.1", 5000), 300.0  # host time of song second 0
    from bridge.protocol.encode import encode

    for k, message in enumerate(messages):
        song_seconds = 1.0 + (k + 1) * 0.05  # each block as its last sample is played
        receiver.handle_datagram(encode(TransportMessage(True, song_seconds * 2.0, 120.0, 4, 4, 0.0, 1)), source,
                                 zero + song_seconds)
        if k != 7:
            receiver.handle_datagram(encode(message), source, zero + song_seconds + 0.001)
    recorder.close()
    flac = tmp_path / "take.pcm1.flac"
    assert flac.exists() and not list(tmp_path.glob("*.part"))
    recording = read_recording(path)
    assert recording.pcm[0].file == "take.pcm1.flac" and recording.pcm[0].first_sample == 5 * rate
    assert any(a.gap for a in recording.pcm)
    song = session_audio(recording, tempo_map_from_recording(recording))
    assert song.sample_rate == rate and song.first_seconds == pytest.approx(1.0, abs=0.002)
    start = round(song.first_seconds * rate)
    expected = to_int16(audio) / 32768.0
    expected[7 * 400:8 * 400] = 0.0
    assert np.allclose(song.samples[start:start + len(audio)], expected, atol=1e-4)
    assert not song.samples[:start].any()
    # a recording that kept no audio says so in one line
    scripted_recording(tmp_path / "bands.jsonl")
    with pytest.raises(InputError, match="kept no audio of the mix"):
        session_audio(read_recording(tmp_path / "bands.jsonl"), TempoMap.constant(120.0))


def test_a_hostile_pcm_anchor_cannot_name_a_file_outside_the_sessions_folder(tmp_path):
    path = tmp_path / "take.jsonl"
    scripted_recording(path)
    lines = path.read_text().splitlines()
    anchor = {"t": 1.0, "session": "s1", "pcm": {"file": "../../etc/passwd.pcm1.flac", "frame": 0, "first_sample": 0,
                                                 "sample_rate": 8000, "beat": 0.0, "playing": True, "gap": False}}
    path.write_text("\n".join(lines[:3] + [json.dumps(anchor)] + lines[3:]) + "\n")
    with pytest.raises(InputError, match="line 4: malformed.*pcm file must be a NAME.pcmN.flac"):
        read_recording(path)


def test_the_audio_of_a_recording_a_crash_left_open_reads_back_up_to_its_last_flush(tmp_path):
    """A killed recorder leaves NAME.pcm1.flac.part, whose FLAC header never learnt its length: it is read
    up to the last whole piece written."""
    import subprocess
    import sys

    script = (
        "import os, numpy as np\n"
        "from bridge.pcm_stream import PcmBlock\n"
        "from bridge.receiver import PcmAudio\n"
        "from bridge.session_audio import PcmWriter\n"
        f"writer = PcmWriter({str(tmp_path / 'take.jsonl')!r})\n"
        "x = (0.5 * np.sin(np.arange(8000 * 4) * 0.07) * 32767).astype(np.int16)\n"
        "lines = writer.write(PcmAudio('s', PcmBlock(0, 8000, x, 10.0), 0.0, True))\n"
        "writer.flush()\n"
        "os._exit(0)\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], check=True, env={**os.environ, "PYTHONPATH": str(root)})
    from bridge.session_audio import read_pcm_file

    assert (tmp_path / "take.pcm1.flac.part").exists()
    samples, rate = read_pcm_file(tmp_path / "take.jsonl", "take.pcm1.flac")
    expected = np.sin(np.arange(8000 * 4) * 0.07) * 0.5
    assert rate == 8000 and 8000 * 3 <= len(samples) <= 8000 * 4
    assert np.allclose(samples, expected[:len(samples)], atol=1e-4)
