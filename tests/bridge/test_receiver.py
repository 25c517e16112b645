"""Receiver over real loopback UDP: sessions, driver choice, acks, allow list, flood limit, stats."""

from __future__ import annotations

import time

import pytest

from bridge.clock import Discontinuity
from bridge.errors import InputError
from bridge.protocol.encode import encode
from bridge.protocol.endpoints import format_host_port
from bridge.protocol.messages import AudioMessage, ByeMessage, HelloMessage, LoopMessage, MarkersMessage, TransportMessage
from bridge.receiver import Receiver, Received, parse_allow, parse_listen
from bridge.senders.osc_out import ProtocolSender, parse_target
from bridge.timeline.tempo_map import Marker
from tests.receiving import wait_for


@pytest.fixture
def receiver():
    with Receiver(port=0) as rx:
        yield rx


def test_messages_from_a_sender_reach_clock_subscribers_and_stats(receiver):
    events = []
    receiver.subscribe(events.append)
    with ProtocolSender(*receiver.address, source="file", session_id="s1") as tx:
        tx.hello()
        tx.markers([Marker("B", 16.0), Marker("A", 0.0)])
        tx.loop(True, 0.0, 32.0)
        tx.transport(True, 4.0, 120.0, 4, 4, 4.0, 2)
        tx.audio(0.5, 0.75, [0.125] * 8)
        wait_for(receiver, lambda: receiver.stats().accepted == 5)
        assert [a.session_id for a in tx.poll_acks()] == ["s1"]
    stats = receiver.stats()
    assert stats.received == 5 and stats.dropped_total == 0 and stats.driver == "s1"
    assert stats.sessions[0].source == "file" and stats.sessions[0].playing
    snap = receiver.snapshot()
    assert snap.playing and snap.session_id == "s1" and [m.name for m in snap.markers] == ["A", "B"]
    assert snap.loop == LoopMessage(True, 0.0, 32.0)
    received = [e for e in events if isinstance(e, Received)]
    assert [type(e.message).__name__ for e in received] == [
        "HelloMessage", "MarkersMessage", "LoopMessage", "TransportMessage", "AudioMessage"]
    assert received[-1].beat == pytest.approx(4.0, abs=0.1) and received[0].beat is None
    assert {e.kind for e in events if isinstance(e, Discontinuity)} == {"connect", "source"}


def test_a_sender_finds_its_host_by_name_once_and_says_so_when_it_cannot(receiver):
    with ProtocolSender("localhost", receiver.port, source="file", session_id="by-name") as tx:
        for _ in range(3):
            tx.hello()
        wait_for(receiver, lambda: receiver.stats().accepted == 3)  # "localhost" is the IPv4 loopback receivers bind
    # an unknown host is a one-line error when the sender is made, not a traceback on its first datagram
    with pytest.raises(InputError, match=r"^nohost\.invalid:9420: cannot find this host"):
        ProtocolSender("nohost.invalid", 9420)


def test_bad_datagrams_are_counted_and_the_receiver_keeps_going(receiver):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        for datagram in (b"junk", b"/daw/nope\x00\x00\x00", encode(TransportMessage(True, 1.0, 120.0, 4, 4, 0.0, 1))):
            raw.sendto(datagram, receiver.address)
        wait_for(receiver, lambda: receiver.stats().received == 3)
    stats = receiver.stats()
    assert stats.accepted == 1 and stats.dropped["undecodable"] == 1 and stats.dropped["unknown_address"] == 1
    assert receiver.alive


def test_newest_playing_session_drives_and_bye_hands_back(receiver):
    with ProtocolSender(*receiver.address, session_id="a") as a, ProtocolSender(*receiver.address, session_id="b") as b:
        a.hello(); b.hello()
        a.transport(True, 10.0, 120.0, 4, 4, 8.0, 3)
        wait_for(receiver, lambda: receiver.stats().accepted == 3)
        assert receiver.snapshot().session_id == "a"
        b.transport(True, 100.0, 90.0, 3, 4, 99.0, 34)
        wait_for(receiver, lambda: receiver.snapshot().session_id == "b")
        a.transport(True, 10.1, 120.0, 4, 4, 8.0, 3)  # a keeps playing: b started later, b still drives
        b.bye()
        wait_for(receiver, lambda: receiver.snapshot().session_id == "a")
        assert receiver.stats().driver == "a"
        assert {s.session_id: s.ended for s in receiver.stats().sessions} == {"a": False, "b": True}


def test_messages_without_hello_belong_to_host_port():
    rx = Receiver(port=0)
    rx.handle_datagram(encode(TransportMessage(True, 1.0, 120.0, 4, 4, 0.0, 1)), ("127.0.0.1", 5555), 1.0)
    rx.handle_datagram(encode(HelloMessage("m4l", "1", "")), ("127.0.0.1", 5556), 1.0)
    assert sorted(s.session_id for s in rx.stats().sessions) == ["127.0.0.1:5555", "127.0.0.1:5556"]


def test_non_loopback_bind_without_allow_takes_only_local_networks():
    rx = Receiver(host="0.0.0.0", port=0)
    datagram = encode(AudioMessage(0.0, 0.0, (0.0,) * 8))
    assert rx.handle_datagram(datagram, ("192.168.1.20", 9000), 1.0)
    assert rx.handle_datagram(datagram, ("127.0.0.1", 9000), 1.0)
    assert not rx.handle_datagram(datagram, ("8.8.8.8", 9000), 1.0)
    assert rx.stats().dropped["not_allowed"] == 1


def test_the_default_networks_are_exactly_the_documented_ones():
    rx = Receiver(host="0.0.0.0", port=0)
    datagram = encode(AudioMessage(0.0, 0.0, (0.0,) * 8))
    documented = ["127.0.0.9", "::1", "10.1.2.3", "172.31.255.1", "192.168.0.1", "fd00::1", "169.254.9.9", "fe80::1",
                  "::ffff:192.168.1.2"]  # an IPv4 sender seen through a dual-stack socket
    # Python's is_private also takes these; the docs do not, so neither does the receiver
    undocumented = ["192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1", "100.64.0.1", "240.0.0.1",
                    "0.0.0.1", "2001:db8::1", "172.32.0.1", "::ffff:8.8.8.8"]
    assert all(rx.handle_datagram(datagram, (ip, 9000), 1.0) for ip in documented)
    assert not any(rx.handle_datagram(datagram, (ip, 9000), 2.0) for ip in undocumented)
    assert rx.stats().dropped["not_allowed"] == len(undocumented)
    assert rx.stats().refused == ("[::ffff:8.8.8.8]:9000", 2.0)  # the last one refused, for the preview to name


def test_allow_list_restricts_senders():
    rx = Receiver(host="0.0.0.0", port=0, allow=parse_allow("10.0.0.5, 172.16.0.0/24"))
    datagram = encode(AudioMessage(0.0, 0.0, (0.0,) * 8))
    assert rx.handle_datagram(datagram, ("10.0.0.5", 1), 1.0)
    assert rx.handle_datagram(datagram, ("172.16.0.77", 1), 1.0)
    assert not rx.handle_datagram(datagram, ("10.0.0.6", 1), 1.0)
    assert Receiver(host="0.0.0.0", allow=("any",)).handle_datagram(datagram, ("8.8.8.8", 1), 1.0)


def test_flood_is_dropped_then_recovers():
    rx = Receiver(port=0, flood_limit=100.0)
    datagram = encode(AudioMessage(0.0, 0.0, (0.0,) * 8))
    results = [rx.handle_datagram(datagram, ("127.0.0.1", 1), 5.0) for _ in range(300)]
    assert sum(results) == 100 and rx.stats().dropped["flood"] == 200
    assert rx.handle_datagram(datagram, ("127.0.0.1", 1), 5.5)  # the bucket refilled
    assert rx.handle_datagram(datagram, ("127.0.0.2", 1), 5.0)  # per source address
    stats = rx.stats()
    assert stats.received == stats.accepted + stats.dropped_total


def test_arrival_times_that_step_back_do_not_drain_the_flood_bucket():
    """A receiver thread that woke up late stamps one datagram `now` and the next with the kernel's earlier
    stamp: time steps back. That must not count as a flood."""
    rx = Receiver(port=0, flood_limit=100.0)
    datagram = encode(AudioMessage(0.0, 0.0, (0.0,) * 8))
    arrivals = [10.0 + 0.02 * k - (1.5 if k % 7 == 3 else 0.0) for k in range(200)]  # 50 a second, some stepping back
    assert all(rx.handle_datagram(datagram, ("127.0.0.1", 1), t) for t in arrivals)


def test_a_failing_callback_is_counted_not_fatal():
    rx = Receiver(port=0)
    rx.subscribe(lambda event: 1 / 0, kinds=[MarkersMessage])
    seen = []
    rx.subscribe(seen.append, kinds=[MarkersMessage])
    assert rx.handle_datagram(encode(MarkersMessage(())), ("127.0.0.1", 1), 1.0)
    assert rx.stats().callback_errors == 1 and len(seen) == 1


def test_listen_and_allow_parsing():
    assert parse_listen("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_listen(":9001") == ("127.0.0.1", 9001)
    assert parse_listen("9002") == ("127.0.0.1", 9002)
    assert parse_listen("[::1]:9003") == ("::1", 9003)
    with pytest.raises(InputError, match="--listen"):
        parse_listen("host:port")
    assert parse_listen("0") == ("127.0.0.1", 0)  # any free port
    # senders share the parser; --to needs a real port
    assert parse_target("[::1]:9003") == ("::1", 9003) and parse_target("9004") == ("127.0.0.1", 9004)
    with pytest.raises(InputError, match="--to: port must be 1..65535, got 0"):
        parse_target("0")
    with pytest.raises(InputError, match="--listen: port must be 0..65535, got 65536"):
        parse_listen("65536")
    # what the commands print reads back as the same address (record's "listening on [::1]:9420")
    for host, port in (("::1", 9420), ("127.0.0.1", 0), ("studio.local", 9430)):
        assert parse_listen(format_host_port(host, port)) == (host, port)
    assert format_host_port("::1", 9420) == "[::1]:9420"
    with pytest.raises(InputError, match="--allow"):
        parse_allow("10.0.0.1,nonsense")
    assert parse_allow(None) is None


def test_busy_port_is_a_one_line_error(receiver):
    with pytest.raises(InputError, match="cannot listen"):
        Receiver(port=receiver.port).start()


def test_ack_goes_to_the_hellos_reply_port(receiver):
    import socket as socket_module

    from bridge.protocol.decode import RENDERER_TO_SENDER, decode
    from bridge.protocol.messages import AckMessage
    with socket_module.socket(socket_module.AF_INET, socket_module.SOCK_DGRAM) as listener, \
            socket_module.socket(socket_module.AF_INET, socket_module.SOCK_DGRAM) as sender:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(5.0)
        sender.sendto(encode(HelloMessage("m4l", "1", "dev", listener.getsockname()[1])), receiver.address)
        # a v1 device's hello is answered with the version this renderer speaks (1.1: it also takes /daw/pcm)
        assert decode(listener.recv(1024), RENDERER_TO_SENDER) == AckMessage("dev", "1.1")


def test_a_silent_playing_session_loses_the_clock_to_a_live_one():
    rx = Receiver(port=0)
    rx.handle_datagram(encode(TransportMessage(True, 1.0, 120.0, 4, 4, 0.0, 1)), ("127.0.0.1", 1), 10.0)
    rx.handle_datagram(encode(TransportMessage(True, 50.0, 100.0, 4, 4, 48.0, 13)), ("127.0.0.1", 2), 10.5)
    assert rx.snapshot().session_id == "127.0.0.1:2"
    # session 2 vanished without bye; session 1 keeps playing: after a second of silence it takes over
    rx.handle_datagram(encode(TransportMessage(True, 2.0, 120.0, 4, 4, 0.0, 1)), ("127.0.0.1", 1), 11.0)
    assert rx.snapshot().session_id == "127.0.0.1:2"
    rx.handle_datagram(encode(TransportMessage(True, 3.2, 120.0, 4, 4, 0.0, 1)), ("127.0.0.1", 1), 11.6)
    assert rx.snapshot().session_id == "127.0.0.1:1" and rx.snapshot().is_stale(13.0)


def test_received_beat_is_the_daws_not_shifted_by_the_latency_offset():
    rx = Receiver(port=0, latency_seconds=0.5)
    got = []
    rx.subscribe(got.append, [TransportMessage])
    rx.handle_datagram(encode(TransportMessage(True, 8.0, 120.0, 4, 4, 8.0, 3)), ("127.0.0.1", 1), 10.0)
    assert got[0].beat == pytest.approx(8.0)
    assert rx.snapshot().beat_at(10.5) == pytest.approx(8.0)


def test_messages_before_hello_do_not_leave_a_ghost_driver_after_bye():
    rx = Receiver(port=0)
    address = ("127.0.0.1", 5555)
    rx.handle_datagram(encode(TransportMessage(True, 1.0, 120.0, 4, 4, 0.0, 1)), address, 1.0)
    rx.handle_datagram(encode(HelloMessage("m4l", "1", "live")), address, 1.01)
    rx.handle_datagram(encode(TransportMessage(True, 1.1, 120.0, 4, 4, 0.0, 1)), address, 1.05)
    assert rx.snapshot().session_id == "live"
    rx.handle_datagram(encode(ByeMessage("live")), address, 1.1)
    assert {s.session_id: s.ended for s in rx.stats().sessions} == {"127.0.0.1:5555": True, "live": True}


def test_pcm_comes_out_in_order_with_gaps_filled_counted_and_placed_on_the_beat(receiver):
    """Protocol 1.1: /daw/pcm blocks over real UDP, one lost and two swapped, become PcmAudio events in sample
    order (the lost block as flagged silence), each with the beat of its first sample; the stats count it all."""
    import numpy as np

    from bridge.pcm_stream import pcm_messages
    from bridge.receiver import PcmAudio

    audio = (np.sin(np.arange(8000 * 2) * 0.05) * 0.5).astype(np.float32)
    messages = pcm_messages(0, 8000, audio, block_samples=400)  # 50 ms blocks, 40 of them
    order = list(range(40))
    del order[10]  # lost
    order[20], order[21] = order[21], order[20]  # swapped
    got: list[PcmAudio] = []
    receiver.subscribe(got.append, [PcmAudio])
    with ProtocolSender(*receiver.address, session_id="pcm") as tx:
        tx.hello()
        tx.transport(True, 8.0, 120.0, 4, 4, 8.0, 3)
        start = time.monotonic()
        for k in order:  # each block as its last sample is due, as a sender would
            time.sleep(max(0.0, start + (k + 1) * 0.05 - time.monotonic()))
            tx.send(messages[k])
        tx.bye()
        wait_for(receiver, lambda: receiver.stats().accepted == 3 + len(order))
    wait_for(receiver, lambda: got and got[-1].block.end_sample == len(audio))
    assert [e.block.first_sample for e in got] == list(range(0, len(audio), 400))
    assert [e.block.gap for e in got].count(True) == 1 and got[10].block.gap and not got[10].block.samples.any()
    pcm = receiver.stats().pcm
    assert (pcm.gaps, pcm.gap_samples, pcm.reordered, pcm.samples) == (1, 400, 1, len(audio) - 400)
    # sample k is at host zero + k / rate (zero: the least delayed block's, refined as blocks come in);
    # the transport said beat 8 at `start`: 2 beats a second
    zero = got[0].block.host_seconds
    assert all(e.block.host_seconds == pytest.approx(zero + e.block.first_sample / 8000, abs=0.02) for e in got)
    assert zero == pytest.approx(start, abs=0.02)
    assert got[20].beat == pytest.approx(8.0 + 2 * 20 * 0.05, abs=0.05) and got[20].playing
