"""The sender runtime with small position sources: the session, the rates, the levels, the end; real UDP, time
injected (no sleeps)."""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys

import pytest

from bridge.protocol.decode import decode
from bridge.protocol.encode import encode
from bridge.protocol.messages import AckMessage, AudioMessage, ByeMessage, HelloMessage, LoopMessage
from bridge.protocol.messages import MacrosMessage, TransportMessage
from bridge.protocol.spec import PROTOCOL_VERSION
from bridge.senders.osc_out import ProtocolSender
from bridge.senders.runtime import HELLO_SECONDS, Heard, PositionSource, Rates, Reading, SenderRuntime, transport_on
from bridge.timeline.tempo_map import Meter, TempoMap, TempoPoint
from tests.receiving import kernel_drops

GRID = TempoMap((TempoPoint(0.0, 120.0),), (Meter(0.0, 4, 4), Meter(8.0, 3, 4)))


class Scripted(PositionSource):
    """Plays at 120 BPM from 0 s until ``stop_at``; ``jumps`` counts seeks the test makes."""

    def __init__(self, stop_at: float = 1e9, levels_every: int = 1, end_at: float = 1e9) -> None:
        self.stop_at, self.levels_every, self.end_at = stop_at, levels_every, end_at
        self.jumps = 0
        self.reads = 0

    def read(self, seconds: float) -> Reading | None:
        if seconds >= self.end_at:
            return None
        self.reads += 1
        playing = seconds < self.stop_at
        beat = min(seconds, self.stop_at) * 2.0
        return Reading(transport_on(GRID, playing, beat, 120.0), jump=self.jumps)

    def heard(self) -> Heard:
        fresh = self.reads % self.levels_every == 0
        levels = AudioMessage((self.reads % 64) / 64, 0.75, (0.125,) * 8)  # exact in float32, as on the wire
        return Heard(levels if fresh else None, payload=(MacrosMessage((0.0, 0.0, 0.0, (self.reads % 64) / 64)),))

    def song(self) -> tuple:
        return (LoopMessage(True, 4.0, 8.0),)


@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    yield sock
    sock.close()


def drain(sock: socket.socket) -> list:
    out = []
    while True:
        try:
            out.append(decode(sock.recv(65536)))
        except BlockingIOError:
            return out


def osc_to(listener) -> ProtocolSender:
    return ProtocolSender(*listener.getsockname(), source="test", session_id="S")


def test_transport_on_takes_meter_and_bar_from_the_grid():
    assert transport_on(GRID, True, 9.5, 120.0) == TransportMessage(True, 9.5, 120.0, 3, 4, 8.0, 3)
    assert transport_on(GRID, False, 3.0, 96.0) == TransportMessage(False, 3.0, 96.0, 4, 4, 0.0, 1)


def test_hello_with_the_song_on_open_and_every_two_seconds(listener):
    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, Scripted(), Rates(step_hz=10.0, playing_hz=10.0))
        for k in range(51):  # 5 s at 10 Hz
            runtime.step(k / 10.0)
    received = drain(listener)
    hellos = [i for i, m in enumerate(received) if isinstance(m, HelloMessage)]
    assert len(hellos) == 3 and received[0] == HelloMessage("test", PROTOCOL_VERSION, "S")  # 0 s, 2 s, 4 s
    assert all(received[i + 1] == LoopMessage(True, 4.0, 8.0) for i in hellos)
    assert HELLO_SECONDS == 2.0


def test_transport_at_the_playing_rate_then_the_stopped_rate_and_at_once_on_a_stop_or_jump(listener):
    source = Scripted(stop_at=1.0)
    sent = {}
    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, source, Rates(step_hz=100.0, playing_hz=20.0, stopped_hz=2.0))
        for k in range(300):  # 3 s at 100 Hz
            seconds = k / 100.0
            if k == 201:
                source.jumps += 1  # a locate while stopped
            message = runtime.step(seconds)
            if message is not None:
                sent[k] = message
    playing = [k for k, m in sent.items() if m.playing]
    assert playing == list(range(0, 100, 5))  # 20 Hz on the 100 Hz steps, no drift
    stopped = [k for k, m in sent.items() if not m.playing]
    assert stopped == [100, 150, 200, 201, 251]  # the stop at once, 2 Hz, the jump at once, 2 Hz from it
    transports = [m for m in drain(listener) if isinstance(m, TransportMessage)]
    assert transports == list(sent.values())


def test_levels_go_once_with_the_next_transport_and_the_payload_every_step(listener):
    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, Scripted(), Rates(step_hz=100.0, playing_hz=25.0))
        for k in range(20):
            runtime.step(k / 100.0)
    received = drain(listener)
    after_transport = [received[i + 1] for i, m in enumerate(received) if isinstance(m, TransportMessage)]
    # 25 Hz: 5 transports (steps 0, 4, 8…), each followed by the levels heard at that step
    assert after_transport == [AudioMessage((k + 1) / 64, 0.75, (0.125,) * 8) for k in (0, 4, 8, 12, 16)]
    assert sum(isinstance(m, AudioMessage) for m in received) == 5
    assert [m.macros[3] for m in received if isinstance(m, MacrosMessage)] == [k / 64 for k in range(1, 21)]


def test_a_source_without_transport_sends_levels_when_new(listener):
    class LevelsOnly(Scripted):
        def read(self, seconds: float) -> Reading:
            self.reads += 1
            return Reading()

    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, LevelsOnly(levels_every=3))
        assert [runtime.step(k / 60.0) for k in range(9)] == [None] * 9
    received = drain(listener)
    assert not any(isinstance(m, TransportMessage) for m in received)
    assert sum(isinstance(m, AudioMessage) for m in received) == 3  # steps 3, 6, 9


def test_a_source_that_drives_the_transport_opens_and_closes_it_stopped(listener):
    class Player(Scripted):
        drives_transport = True

    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, Player(), Rates(step_hz=10.0, playing_hz=10.0))
        for k in range(3):
            runtime.step(1.0 + k / 10.0)
        runtime.close()
        runtime.close()  # once
    transports = [m for m in drain(listener) if isinstance(m, (TransportMessage, ByeMessage))]
    assert [(m.playing, m.beat) for m in transports[:-1]] == [(False, 2.0), (True, 2.0), (True, 2.2), (True, 2.4),
                                                              (False, 2.4)]
    assert transports[-1] == ByeMessage("S")


def test_run_paces_on_injected_time_until_the_source_ends_then_says_bye(listener):
    clock = {"now": 100.0}
    sends = []
    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, Scripted(end_at=100.5), Rates(step_hz=50.0, playing_hz=50.0),
                                now=lambda: clock["now"])
        runtime.run(seconds=10.0, sleep=lambda s: clock.__setitem__("now", clock["now"] + s),
                    on_send=lambda r, m: sends.append(clock["now"]))
    assert runtime.ended and runtime.steps == 25 and len(sends) == 25  # 0.5 s at 50 Hz
    assert sends == pytest.approx([100.0 + k / 50.0 for k in range(25)])
    assert isinstance(drain(listener)[-1], ByeMessage)


def test_after_a_stall_run_skips_the_missed_steps(listener):
    clock = {"now": 0.0, "sleeps": 0}

    def sleep(seconds: float) -> None:
        clock["sleeps"] += 1
        clock["now"] += seconds + (0.3 if clock["sleeps"] == 5 else 0.0)  # descheduled for 0.3 s once

    sends = []
    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, Scripted(end_at=0.5), Rates(step_hz=50.0, playing_hz=50.0),
                                now=lambda: clock["now"])
        runtime.run(sleep=sleep, on_send=lambda r, m: sends.append(clock["now"]))
    assert sends[:5] == pytest.approx([0.0, 0.02, 0.04, 0.06, 0.08])
    assert sends[5:] == pytest.approx([0.4, 0.42, 0.44, 0.46, 0.48])  # one step at once, then back on the grid
    assert runtime.steps == len(sends)  # no burst of steps to catch up


def test_an_ack_for_this_session_marks_the_renderer_as_answering(listener):
    with osc_to(listener) as osc:
        runtime = SenderRuntime(osc, Scripted())
        runtime.step(0.0)
        assert not runtime.acked
        hello, sender_address = listener.recvfrom(65536)
        assert isinstance(decode(hello), HelloMessage)
        listener.sendto(encode(AckMessage("someone else", "1")), sender_address)
        runtime.step(0.1)
        assert not runtime.acked
        listener.sendto(encode(AckMessage("S", "1")), sender_address)
        runtime.step(0.2)
        assert runtime.acked


def test_rates_must_be_positive():
    with pytest.raises(ValueError, match="stopped_hz"):
        Rates(stopped_hz=0.0)


SEND_UNTIL_STOPPED = """
import sys
from barlight.signals import stop_signals_interrupt
from bridge.senders.osc_out import ProtocolSender

osc = ProtocolSender("127.0.0.1", int(sys.argv[1]), source="test", session_id="S")
try:
    with stop_signals_interrupt():
        while True:
            osc.hello()
except KeyboardInterrupt:
    print(osc.sent)
"""


def test_a_stop_signal_during_a_send_leaves_the_sent_count_exact(listener):
    """``sent`` is what the summary line reports. A process sending back to back is stopped (SIGTERM) ten
    times; each time the datagrams that arrived (or the kernel dropped) are the ones it counted. Python runs
    the signal's handler right after a ``sendto`` returns, so a count after the send missed it ~40% of the time."""
    port = listener.getsockname()[1]
    dropped = kernel_drops(port)
    for _ in range(10):
        sender = subprocess.Popen([sys.executable, "-c", SEND_UNTIL_STOPPED, str(port)], stdout=subprocess.PIPE,
                                  text=True)
        ready, _, _ = select.select([listener], [], [], 60.0)  # until it is sending
        assert ready, "the sender sent nothing"
        received = len(drain(listener))
        sender.send_signal(signal.SIGTERM)
        sent = int(sender.communicate(timeout=60)[0])
        received += len(drain(listener))
        assert received + kernel_drops(port) - dropped == sent
        dropped = kernel_drops(port)
