"""FileSource through the sender runtime: the stream a DAW would send, checked at a live receiver
(time injected: runs fast)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from bridge.errors import InputError
from bridge.protocol.messages import (
    AudioMessage,
    ByeMessage,
    HelloMessage,
    LoopMessage,
    MarkersMessage,
    PcmMessage,
    TransportMessage,
)
from bridge.pcm_stream import pcm_samples, to_int16
from bridge.receiver import Receiver, Received
from bridge.senders.file import FileSource, combine_frames, transport_at
from bridge.senders.osc_out import ProtocolSender
from bridge.senders.runtime import Rates, SenderRuntime
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint
from tests.receiving import wait_for

SR = 16000


class FakeTime:
    def __init__(self) -> None:
        self.seconds = 50.0

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


def play(song: FileSource, osc: ProtocolSender, fake: FakeTime) -> SenderRuntime:
    """Stream ``song`` at 50 Hz, as ``barlight send file`` does, on fake time."""
    runtime = SenderRuntime(osc, song, Rates(step_hz=50.0, playing_hz=50.0), now=fake.now)
    runtime.run(sleep=fake.sleep)
    return runtime


@pytest.fixture
def tone(tmp_path):
    """3 s: silence for 1 s, then a loud 440 Hz tone."""
    t = np.arange(3 * SR) / SR
    signal = np.where(t >= 1.0, 0.5 * np.sin(2 * np.pi * 440.0 * t), 0.0).astype(np.float32)
    path = tmp_path / "tone.wav"
    soundfile.write(path, signal, SR)
    return path


TEMPO = TempoMap((TempoPoint(0.0, 120.0), TempoPoint(4.0, 60.0)), (Meter(0.0, 4, 4), Meter(4.0, 3, 4)),
                 (Marker("Verse", 4.0), Marker("Intro", 0.0)))


def test_transport_at_follows_tempo_and_meter():
    assert transport_at(TEMPO, 1.0) == TransportMessage(True, 2.0, 120.0, 4, 4, 0.0, 1)
    message = transport_at(TEMPO, 2.0 + 4.5)  # 4 beats at 120 then 4.5 beats at 60: beat 8.5, bar 3 of 3/4
    assert message.beat == pytest.approx(8.5) and message.bpm == 60.0
    assert (message.numerator, message.denominator, message.bar, message.bar_start_beat) == (3, 4, 3, 7.0)
    assert not transport_at(TEMPO, 0.0, playing=False).playing


def test_combine_frames_is_rms_of_rms_and_max_peak():
    class F:
        def __init__(self, rms, peak, bands):
            self.rms, self.peak, self.bands = rms, peak, bands
    levels = combine_frames([F(0.3, 0.5, [0.0] * 8), F(0.4, 0.9, [1.0] * 8)])
    assert levels.rms == pytest.approx(np.sqrt((0.09 + 0.16) / 2)) and levels.peak == 0.9
    assert levels.bands == pytest.approx((np.sqrt(0.5),) * 8)
    assert combine_frames([]) is None


def test_file_sender_streams_like_a_daw(tone):
    fake = FakeTime()
    got: list[Received] = []
    with Receiver(port=0, flood_limit=None) as rx:
        rx.subscribe(got.append, [HelloMessage, MarkersMessage, LoopMessage, TransportMessage, AudioMessage, ByeMessage,
                                  PcmMessage])
        with ProtocolSender(*rx.address, source="file", session_id="F") as osc, FileSource(tone, TEMPO) as song:
            play(song, osc, fake)
            total = osc.sent
        wait_for(rx, lambda: len(got) >= total)
    messages = [e.message for e in got]
    assert len(messages) == total and all(e.session_id == "F" for e in got)
    assert isinstance(messages[0], HelloMessage) and messages[0].source == "file"
    assert messages[1] == MarkersMessage((Marker("Intro", 0.0), Marker("Verse", 4.0)))
    assert messages[2] == LoopMessage(False, 0.0, 0.0)
    assert messages[3] == TransportMessage(False, 0.0, 120.0, 4, 4, 0.0, 1)  # stopped at the start before play
    assert isinstance(messages[-1], ByeMessage) and not messages[-2].playing
    transport = [m for m in messages if isinstance(m, TransportMessage) and m.playing]
    assert 140 <= len(transport) <= 152  # 3 s at 50 Hz
    assert sum(isinstance(m, HelloMessage) for m in messages) == 2  # on connect and after 2 s
    beats = [m.beat for m in transport]
    assert np.all(np.diff(beats) > 0) and beats[-1] == pytest.approx(TEMPO.beat_at(3.0), abs=1e-6)
    assert {m.bpm for m in transport} == {120.0, 60.0}
    audio = [m for m in messages if isinstance(m, AudioMessage)]
    quiet, loud = audio[10:40], audio[70:140]  # 0.2-0.8 s silent, 1.4-2.8 s tone
    assert max(a.rms for a in quiet) < 1e-4
    assert np.mean([a.rms for a in loud]) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)
    assert all(np.argmax(a.bands) == 3 for a in loud)  # 440 Hz: the 500 Hz band (353-707 Hz)
    # protocol 1.1: the audio itself, numbered by file position, at the file's rate, 512 samples a datagram
    pcm = [m for m in messages if isinstance(m, PcmMessage)]
    assert {m.sample_rate for m in pcm} == {SR} and max(len(m.samples) for m in pcm) <= 1024
    assert [m.first_sample for m in pcm] == list(np.cumsum([0] + [len(m.samples) // 2 for m in pcm[:-1]]))
    streamed = np.concatenate([pcm_samples(m.samples) for m in pcm])
    assert np.array_equal(streamed, to_int16(soundfile.read(tone, dtype="float32")[0]))
    # each step's PCM ends at the playhead its transport reported (within a sample)
    ends, last = [], None
    for m, after in zip(messages, messages[1:]):
        last = m if isinstance(m, TransportMessage) else last
        if isinstance(m, PcmMessage) and not isinstance(after, PcmMessage) and last.playing:
            ends.append((m.first_sample + len(m.samples) // 2, TEMPO.seconds_at(last.beat) * SR))
    assert len(ends) >= 140 and all(abs(end - playhead) <= 1.0 for end, playhead in ends)


def test_start_bar_and_bad_files(tone, tmp_path):
    fake = FakeTime()
    with ProtocolSender("127.0.0.1", 9, session_id="x") as osc, \
            FileSource(tone, TempoMap.constant(120.0), start_bar=2, seconds=0.1) as song:
        assert song.start_seconds == 2.0
        play(song, osc, fake)
        assert song.song_seconds == pytest.approx(2.1, abs=0.03)
    with pytest.raises(InputError, match="--start-bar"):
        FileSource(tone, TempoMap.constant(120.0), start_bar=3)
    with pytest.raises(InputError, match="no such audio file"):
        FileSource(tmp_path / "missing.wav", TEMPO)
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(InputError, match="cannot read audio"):
        FileSource(tmp_path / "text.wav", TEMPO)


class FakeOutputStream:
    """Stands in for sounddevice.OutputStream (the sound card is a system edge)."""

    instances: list[FakeOutputStream] = []

    def __init__(self, samplerate, channels, dtype, callback):
        self.samplerate, self.channels, self.callback = samplerate, channels, callback
        self.latency = 0.05
        self.started = self.closed = False
        FakeOutputStream.instances.append(self)

    def start(self):
        self.started = True

    def stop(self):
        pass

    def close(self):
        self.closed = True


def test_play_feeds_the_output_device_from_the_start_bar(tone, monkeypatch):
    import types
    monkeypatch.setitem(__import__("sys").modules, "sounddevice", types.SimpleNamespace(OutputStream=FakeOutputStream))
    fake = FakeTime()
    with ProtocolSender("127.0.0.1", 9, session_id="p") as osc, \
            FileSource(tone, TempoMap.constant(120.0), start_bar=2, play=True, seconds=0.1) as song:
        stream = FakeOutputStream.instances[-1]
        assert stream.samplerate == SR and stream.channels == 1
        play(song, osc, fake)
    assert stream.started and stream.closed
    out = np.zeros((400, 1), np.float32)
    stream.callback(out, 400, None, None)  # the device asks for the first 400 samples
    expected = soundfile.read(tone, dtype="float32", always_2d=True)[0][2 * SR:2 * SR + 400]
    assert np.array_equal(out, expected)
    assert song.song_seconds == pytest.approx(2.1, abs=0.03)


def test_play_without_sounddevice_is_a_one_line_error(tone, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "sounddevice", None)
    with pytest.raises(InputError, match="--play"):
        FileSource(tone, TEMPO, play=True)
