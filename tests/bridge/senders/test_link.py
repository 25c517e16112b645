"""Link sender: session beats -> song beats and bars, streamed as protocol v1; aalink optional."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from barlight.cli import main
from bridge.protocol.decode import decode
from bridge.protocol.messages import HelloMessage, TransportMessage
from bridge.senders.link import LinkReading, LinkSource, LinkTransport
from bridge.senders.osc_out import ProtocolSender
from bridge.senders.runtime import Rates, SenderRuntime
from bridge.timeline.tempo_map import TempoMap


def test_a_start_counts_bars_from_the_quantum_boundary_where_play_began() -> None:
    transport = LinkTransport(quantum_beats=3.5)  # 7/8
    assert transport.update(LinkReading(100.0, 120.0, False, 1)) == (False, 0.0)
    playing, beat = transport.update(LinkReading(101.0, 120.0, True, 1))  # bar boundary at 98.0
    assert playing and beat == pytest.approx(3.0)
    assert transport.update(LinkReading(103.25, 120.0, True, 1)) == (True, pytest.approx(5.25))
    assert transport.update(LinkReading(104.0, 120.0, False, 1)) == (False, pytest.approx(5.25))  # holds at stop
    assert transport.update(LinkReading(113.0, 120.0, True, 1)) == (True, pytest.approx(1.0))  # bar at 112
    assert transport.starts == 2
    with pytest.raises(ValueError):
        LinkTransport(0.0)


def test_a_start_read_a_rounding_error_before_a_bar_line_starts_that_bar() -> None:
    transport = LinkTransport(quantum_beats=4.0)
    assert transport.update(LinkReading(16.0 - 1e-12, 120.0, True, 1)) == (True, pytest.approx(0.0, abs=1e-9))
    assert transport.origin_beat == 16.0


class FakeSession:
    def __init__(self) -> None:
        self.beat, self.tempo, self.playing, self.num_peers, self.quantum = 0.0, 128.0, False, 2, 4.0


def test_link_sender_streams_transport_over_udp() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    session = FakeSession()
    try:
        with ProtocolSender("127.0.0.1", sock.getsockname()[1], source="link") as osc:
            source = LinkSource(session, TempoMap.constant(120.0, 4, 4), offset_seconds=0.0)
            sender = SenderRuntime(osc, source, Rates(step_hz=60.0, playing_hz=60.0, stopped_hz=4.0))
            session.beat, session.playing = 17.0, True
            sent = [sender.step(0.0)]
            session.beat = 18.5
            sent.append(sender.step(0.1))
            session.playing = False
            sent.append(sender.step(0.11))  # a stop goes at once
            assert sender.step(0.2) is None  # stopped: 4 Hz
            sent.append(sender.step(0.37))
            assert source.reading == LinkReading(18.5, 128.0, False, 2)
        received = [decode(sock.recv(65536)) for _ in range(5)]
    finally:
        sock.close()
    assert isinstance(received[0], HelloMessage) and received[0].source == "link"
    assert received[1:] == sent
    assert sent[1] == TransportMessage(True, 2.5, 128.0, 4, 4, 0.0, 1)  # started in the bar at Link beat 16
    assert not sent[2].playing and sent[2].beat == 2.5 and sent[3] == sent[2]


def test_missing_aalink_is_a_one_line_error(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "aalink", None)  # import aalink -> ImportError
    assert main(["send", "link", "--seconds", "0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'barlight[link]'" in err[0]


def test_a_real_aalink_session_without_network() -> None:
    aalink = pytest.importorskip("aalink", reason="the link extra (aalink) is not installed")

    async def read() -> tuple[float, float]:
        link = aalink.Link(96.0)  # not enabled: no peers, no network
        first = link.beat
        await asyncio.sleep(0.05)
        return first, link.beat

    first, later = asyncio.run(read())
    assert later > first  # the session timeline runs at 96 BPM
