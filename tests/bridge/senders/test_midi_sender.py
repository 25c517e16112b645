"""The MIDI sender end to end: mido messages into MidiSource, the sender runtime, protocol v1 datagrams out
over real UDP, decoded."""

from __future__ import annotations

import socket
import time

import mido
import numpy as np
import pytest

from barlight.cli import main
from bridge.protocol.decode import decode
from bridge.protocol.messages import AudioMessage, HelloMessage, MarkersMessage, TransportMessage
from bridge.protocol.spec import PROTOCOL_VERSION
from bridge.senders.audio_in import AudioInput, resolve_device
from bridge.senders.scripted import DawScript, Play
from bridge.senders.midi import MidiSource, match_port, midi_rates
from bridge.senders.midi_sync import MidiSync
from bridge.senders.osc_out import ProtocolSender
from bridge.senders.runtime import SenderRuntime
from bridge.timeline.tempo_map import Marker, Meter, TempoMap, TempoPoint


@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)  # the test sends bursts without pacing
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    yield sock
    sock.close()


def drain(sock: socket.socket, wait: float = 0.2) -> list:
    """Decode every datagram waiting (then up to ``wait`` seconds for more)."""
    out = []
    if wait > 0:
        sock.settimeout(wait)
    else:
        sock.setblocking(False)
    while True:
        try:
            out.append(decode(sock.recv(65536)))
        except (TimeoutError, socket.timeout, BlockingIOError):
            return out


def midi_sender(sync: MidiSync, osc: ProtocolSender, rate_hz: float = 60.0, stopped_rate_hz: float = 4.0,
                **options) -> SenderRuntime:
    """``barlight send midi``'s runtime (``runtime.source`` is the MidiSource)."""
    return SenderRuntime(osc, MidiSource(sync, **options), midi_rates(rate_hz, stopped_rate_hz))


def test_streams_transport_with_bars_from_the_tempo_map(listener) -> None:
    grid = TempoMap((TempoPoint(0.0, 120.0),), (Meter(0.0, 4, 4), Meter(16.0, 7, 8)),
                    (Marker("verse", 0.0), Marker("chorus", 16.0)))
    script = DawScript(grid, [Play(0.5, 0.0, 24.0)])
    port = listener.getsockname()[1]
    with ProtocolSender("127.0.0.1", port, source="midi") as osc:
        sender = midi_sender(MidiSync(grid, grid_has_tempo=True), osc, rate_hz=30.0)
        arrivals = script.received(0.001, seed=2)
        sent: list[TransportMessage] = []
        received: list = []
        i = 0
        for seconds in np.arange(0.0, 13.0, 1 / 120):
            while i < len(arrivals) and arrivals[i].seconds <= seconds:
                sender.source.receive(arrivals[i].message, arrivals[i].seconds)
                i += 1
            message = sender.step(seconds)
            if message is not None:
                sent.append(message)
                received.extend(drain(listener, wait=0.0))
        osc.bye()
    received.extend(drain(listener))
    transports = [m for m in received if isinstance(m, TransportMessage)]
    assert transports == sent  # every transport went out and decodes to what was sent
    assert isinstance(received[0], HelloMessage) and received[0].source == "midi"
    markers = [m for m in received if isinstance(m, MarkersMessage)]
    assert markers and [m.name for m in markers[0].markers] == ["verse", "chorus"]
    playing = [m for m in transports if m.playing]
    assert 25 <= len(playing) / (24 * 0.5) <= 31  # ~30 Hz while playing
    stopped = [m for m in transports if not m.playing]
    assert stopped and len(stopped) < 60  # a few per second when stopped
    # bars follow the map's meter change: beat 16 starts bar 5 in 7/8 (3.5 beats a bar)
    late = [m for m in playing if m.beat > 18.0][0]
    assert (late.numerator, late.denominator, late.bar) == (7, 8, 5 + int((late.beat - 16.0) // 3.5))
    assert late.bar_start_beat == pytest.approx(16.0 + 3.5 * (late.bar - 5))
    first_play = next(i for i, m in enumerate(sent) if m.playing)
    assert sent[first_play].beat == 0.0  # Start: beat 0 before the first tick


def test_sends_at_once_on_start_stop_and_seek(listener) -> None:
    with ProtocolSender("127.0.0.1", listener.getsockname()[1], source="midi") as osc:
        sender = midi_sender(MidiSync(), osc, rate_hz=60.0, stopped_rate_hz=2.0)
        assert sender.step(0.0) is not None  # first state
        assert sender.step(0.1) is None  # stopped: next in 0.5 s
        sender.source.receive(mido.Message("songpos", pos=32), 0.15)
        message = sender.step(0.15)
        assert message is not None and message.beat == 8.0 and not message.playing  # a locate goes at once
        sender.source.receive(mido.Message("continue"), 0.2)
        assert sender.step(0.2).playing
        sender.source.receive(mido.Message("stop"), 0.21)
        assert not sender.step(0.21).playing
        assert sender.step(0.5) is None and sender.step(0.72) is not None  # stopped again: 2 Hz from the stop


def test_offset_moves_the_playhead_ahead() -> None:
    sync = MidiSync()
    for k in range(48):
        sync.feed(mido.Message("start") if k == 0 else mido.Message("clock"), k * 0.5 / 24)
    plain = MidiSource(sync).transport_at(1.0)
    ahead = MidiSource(sync, offset_seconds=0.05).transport_at(1.0)
    assert ahead.beat - plain.beat == pytest.approx(0.05 * 120 / 60, abs=1e-6)


class FakeStream:
    """Stands in for sounddevice.InputStream: the test calls the callback with blocks."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True


def test_audio_input_sends_daw_audio_from_the_feature_extractor(listener) -> None:
    streams: list[FakeStream] = []

    def factory(**kwargs):
        streams.append(FakeStream(**kwargs))
        return streams[-1]

    audio = AudioInput("Loopback", 48000, channels=2, stream_factory=factory)
    with audio:
        stream = streams[0]
        assert stream.started and stream.kwargs["samplerate"] == 48000
        sine = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(4800) / 48000).astype(np.float32)
        block = np.stack((sine, sine), axis=1)
        for start in range(0, 4800, 480):
            stream.kwargs["callback"](block[start:start + 480], 480, None, None)
        with ProtocolSender("127.0.0.1", listener.getsockname()[1], source="midi") as osc:
            midi_sender(MidiSync(), osc, audio=audio).step(0.0)
    assert streams[0].closed
    received = [m for m in drain(listener) if isinstance(m, AudioMessage)]
    assert received
    bands = received[-1].bands
    assert int(np.argmax(bands)) == 4  # the 1 kHz band
    assert received[-1].rms == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


def test_device_and_port_matching_errors_are_one_line() -> None:
    devices = [(0, "MacBook Pro Microphone", 1, 48000.0), (3, "BlackHole 2ch", 2, 48000.0)]
    assert resolve_device("blackhole", devices)[0] == 3
    assert resolve_device("3", devices)[1] == "BlackHole 2ch"
    with pytest.raises(ValueError, match="no such input device.*BlackHole"):
        resolve_device("Loopback", devices)
    assert match_port("IAC", ["IAC Driver Bus 1", "Network Session 1"]) == "IAC Driver Bus 1"
    with pytest.raises(ValueError, match="several"):
        match_port("bus", ["IAC Driver Bus 1", "IAC Driver Bus 2"])
    # one rule for both: a name equal but for case wins over names that only contain it
    assert match_port("iac driver bus 1", ["IAC Driver Bus 1", "IAC Driver Bus 10"]) == "IAC Driver Bus 1"
    assert resolve_device("blackhole 2ch", devices + [(4, "BlackHole 2ch (Aggregate)", 2, 48000.0)])[0] == 3


def test_cli_rejects_bad_options_in_one_line(capsys) -> None:
    assert main(["send", "midi", "--meter", "4/3"]) == 2
    assert main(["send", "midi", "--rate", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("barlight send: error: --rate")


def _alsa_sequencer() -> str | None:
    """None when rtmidi can open the ALSA sequencer (or CoreMIDI/WinMM), else why not."""
    try:
        mido.get_input_names()
    except Exception as err:  # rtmidi raises its own error types
        return f"no MIDI system here ({str(err).strip().splitlines()[-1]}; e.g. no /dev/snd/seq in a container)"
    return None


@pytest.mark.skipif(_alsa_sequencer() is not None, reason=str(_alsa_sequencer()))
def test_through_a_real_virtual_port() -> None:
    from bridge.senders.midi import open_input

    osc = ProtocolSender("127.0.0.1", 9)
    sender = midi_sender(MidiSync(), osc)
    port = open_input(None, "barlight-test-in", sender.source.receive)
    try:
        name = next(n for n in mido.get_output_names() if "barlight-test-in" in n)  # "Client:port N:M" on ALSA
        with mido.open_output(name) as out:
            out.send(mido.Message("start"))
            for _ in range(48):
                out.send(mido.Message("clock"))
                time.sleep(0.5 / 24)  # a real port delivers in real time; nothing to replay here
        time.sleep(0.05)
        sender.step()
        state = sender.source.sync.state_at(sender.now())
        assert state.playing and sender.source.sync.counts["clock"] == 48
        assert state.bpm == pytest.approx(120.0, abs=3.0)  # loose: wall-clock delivery on a loaded machine
    finally:
        port.close()
        osc.close()


def test_audio_sender_alone_with_a_free_running_beat(listener) -> None:
    from bridge.senders.audio_in import AudioInSource
    from bridge.senders.runtime import Rates

    streams: list[FakeStream] = []
    audio = AudioInput(None, 16000, channels=1, stream_factory=lambda **kw: streams.append(FakeStream(**kw)) or streams[-1])
    noise = np.random.default_rng(0).uniform(-0.25, 0.25, (16000, 1)).astype(np.float32)
    with ProtocolSender("127.0.0.1", listener.getsockname()[1], source="audio") as osc:
        sender = SenderRuntime(osc, AudioInSource(audio, bpm=90.0, meter=(3, 4)), Rates(step_hz=60.0, playing_hz=60.0))
        sender.step(10.0)
        streams[0].kwargs["callback"](noise, 16000, None, None)
        sender.step(12.0)
    received = drain(listener)
    assert received[0] == HelloMessage("audio", PROTOCOL_VERSION, received[0].session_id)
    transports = [m for m in received if isinstance(m, TransportMessage)]
    assert transports[-1] == TransportMessage(True, 3.0, 90.0, 3, 4, 3.0, 2)  # 2 s at 90 BPM, bar 2 of 3/4
    assert [m for m in received if isinstance(m, AudioMessage)][-1].rms == pytest.approx(0.25 / np.sqrt(3), rel=0.1)


def test_send_plugdata_copies_the_patch(tmp_path, capsys) -> None:
    from bridge.senders.plugdata import PATCH

    assert main(["send", "plugdata", "--copy", str(tmp_path)]) == 0
    assert (tmp_path / "barlight-sender.pd").read_bytes() == PATCH.read_bytes()
    assert str(tmp_path / "barlight-sender.pd") in capsys.readouterr().out
    assert main(["send", "plugdata", "--copy", str(tmp_path / "missing")]) == 2


def test_the_renderer_receiver_follows_the_midi_sender(listener) -> None:
    # MIDI sync in, protocol v1 over real UDP, the renderer's Receiver/TransportClock out
    from bridge.receiver import Receiver

    grid = TempoMap((TempoPoint(0.0, 110.0), TempoPoint(32.0, 128.0)), (Meter(0.0, 4, 4),),
                    (Marker("intro", 0.0), Marker("drop", 32.0)))
    script = DawScript(grid, [Play(0.5, 0.0, 40.0)])
    arrivals = script.received(0.001, seed=9)
    clock = {"now": 0.0}
    receiver = Receiver("127.0.0.1", 0, now=lambda: clock["now"], send_acks=False)
    errors_ms = []
    with ProtocolSender("127.0.0.1", listener.getsockname()[1], source="midi") as osc:
        sender = midi_sender(MidiSync(grid, grid_has_tempo=True), osc, rate_hz=50.0)
        listener.setblocking(False)
        i = 0
        for seconds in np.arange(0.0, 20.0, 0.005):
            clock["now"] = seconds
            while i < len(arrivals) and arrivals[i].seconds <= seconds:
                sender.source.receive(arrivals[i].message, arrivals[i].seconds)
                i += 1
            sender.step(seconds)
            while True:
                try:
                    datagram, address = listener.recvfrom(65536)
                except BlockingIOError:
                    break
                assert receiver.handle_datagram(datagram, address, seconds)
            playing, beat, bpm = script.true_state(seconds)
            snapshot = receiver.snapshot()
            if playing and seconds > 2.0 and abs(seconds - (0.5 + grid.seconds_at(32.0))) > 0.6:
                errors_ms.append((snapshot.beat_at(seconds) - beat) * 60000.0 / bpm)
    snapshot = receiver.snapshot()
    assert snapshot.playing and snapshot.bpm == pytest.approx(128.0)
    assert [m.name for m in snapshot.markers] == ["intro", "drop"]
    assert snapshot.section(snapshot.beat_at(clock["now"])).name == "drop"
    # delays of 0..1 ms (mean 0.5 ms) are all the error there is
    assert np.max(np.abs(errors_ms)) < 1.0


def test_cli_send_midi_runs_with_a_stand_in_port(listener, monkeypatch, capsys) -> None:
    # the MIDI system is the only thing mocked: a port object that delivers Start and clock at once
    import bridge.senders.midi as midi_module

    class StandInPort:
        name = "IAC Driver Bus 1"
        closed = False

        def close(self) -> None:
            self.closed = True

    ports = []

    def open_input(port, virtual, callback):
        assert port == "IAC" and virtual is None
        callback(mido.Message("songpos", pos=16))
        callback(mido.Message("continue"))
        for _ in range(30):
            callback(mido.Message("clock"))
        ports.append(StandInPort())
        return ports[-1]

    monkeypatch.setattr(midi_module, "open_input", open_input)
    target = f"127.0.0.1:{listener.getsockname()[1]}"
    assert main(["send", "midi", "--port", "IAC", "--meter", "3/4", "--to", target, "--seconds", "0.3"]) == 0
    assert ports[0].closed
    received = drain(listener)
    assert isinstance(received[0], HelloMessage) and received[0].source == "midi"
    transports = [m for m in received if isinstance(m, TransportMessage)]
    assert transports and all(m.playing and (m.numerator, m.denominator) == (3, 4) for m in transports)
    assert transports[0].beat >= 4.0  # SPP 16 sixteenths = beat 4
    assert type(received[-1]).__name__ == "ByeMessage"
    assert "received 30 clock, 1 continue, 1 songpos" in capsys.readouterr().err


def test_audio_input_streams_pcm_numbered_by_capture_with_dropped_blocks_left_out() -> None:
    from bridge.errors import InputWarning
    from bridge.pcm_stream import pcm_samples, to_int16

    streams: list[FakeStream] = []
    audio = AudioInput(None, 16000, channels=2, stream_factory=lambda **kw: streams.append(FakeStream(**kw)) or streams[-1])
    rng = np.random.default_rng(1)
    blocks = [rng.uniform(-0.5, 0.5, (100, 2)).astype(np.float32) for _ in range(300)]
    blocks[1][5, 0] = np.nan  # repaired by the one sanitiser before it is analysed or sent
    for block in blocks:  # the queue holds 256 blocks: the last 44 are dropped before anyone reads
        streams[0].kwargs["callback"](block, 100, None, None)
    assert audio.dropped == 44
    with pytest.warns(InputWarning, match="audio input: replaced 1 NaN"):
        heard = audio.heard()
    assert heard.levels is not None
    assert [m.first_sample for m in heard.payload] == list(range(0, 256 * 100, 512))  # consecutive: 512 a datagram
    blocks[1][5, 0] = 0.0
    mono = to_int16(np.concatenate(blocks[:256]).mean(axis=1))
    assert np.array_equal(np.concatenate([pcm_samples(m.samples) for m in heard.payload]), mono)
    streams[0].kwargs["callback"](blocks[0], 100, None, None)  # after the drop: numbered on from 30000
    assert [m.first_sample for m in audio.heard().payload] == [300 * 100]
