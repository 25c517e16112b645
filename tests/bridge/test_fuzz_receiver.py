"""Fuzz: >= 100,000 random and mutated datagrams at a live receiver over loopback UDP.

Seeds include ``/daw/pcm`` blocks (protocol 1.1) and blobs where none belongs; one mutation rewrites a
blob's size word (huge, negative, odd, past the end).

The receiver must not crash or lose its thread, its counters must add up and match what
decode() says of each datagram, and a well-formed sender afterwards must still be taken.
Sends are paced (bursts, then wait until the receiver has read them) and kernel UDP drops
are read from /proc/net/udp, so every datagram sent is accounted for.
"""

from __future__ import annotations

import math
import random
import socket
import struct
import time
from collections import Counter

from bridge.protocol.checks import ProtocolError
from bridge.protocol.decode import decode
from bridge.protocol.encode import encode
from bridge.protocol.messages import (
    AudioMessage,
    ByeMessage,
    HelloMessage,
    LoopMessage,
    MacrosMessage,
    MarkersMessage,
    PcmMessage,
    TransportMessage,
)
from bridge.receiver import Receiver
from bridge.senders.osc_out import ProtocolSender
from bridge.timeline.tempo_map import Marker
from tests.receiving import kernel_drops, wait_for

PACKETS = 100_000
BURST = 200

SEEDS = [
    encode(TransportMessage(True, 17.25, 128.0, 7, 8, 15.5, 6)),
    encode(AudioMessage(0.5, 0.75, (0.125,) * 8)),
    encode(HelloMessage("m4l", "1", "fuzz", 9000)),
    encode(MarkersMessage((Marker("Intro", 0.0), Marker("Drop", 64.0)))),
    encode(LoopMessage(True, 8.0, 16.0)),
    encode(MacrosMessage((0.0, 0.25, 0.5, 1.0))),
    encode(ByeMessage("fuzz")),
    encode(PcmMessage(44100 * 7, 44100, bytes(range(256)) * 4)),
    encode(PcmMessage(0, 22050, b"\x7f\xff\x80\x00")),
    b"/daw/audio\x00\x00,fffffffffb\x00" + bytes(36) + b"\x00\x00\x00\x04abcd",  # a blob where a band belongs
]
NASTY_FLOATS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-45, 3.4e38, -1.0, 999.0, 1000.0]


def mutate(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.15:
        return rng.randbytes(rng.randrange(0, 96))
    seed = bytearray(rng.choice(SEEDS))
    if roll < 0.25:
        return bytes(seed)  # valid as is
    if roll < 0.45:
        for _ in range(rng.randrange(1, 4)):
            seed[rng.randrange(len(seed))] = rng.randrange(256)
    elif roll < 0.55:
        del seed[rng.randrange(len(seed)):]
    elif roll < 0.65:
        seed += rng.randbytes(rng.randrange(1, 24))
    elif roll < 0.8:  # overwrite a 4-byte argument slot with a nasty float or int
        tail = len(seed) - 4 * rng.randrange(1, 4)
        if tail > 0:
            value = rng.choice(NASTY_FLOATS)
            seed[tail:tail + 4] = struct.pack(">f", value) if rng.random() < 0.7 else struct.pack(
                ">i", rng.choice([0, -1, 3, 6, 100, 2**31 - 1]))
    elif roll < 0.85:  # a blob's size word: huge, negative, odd, zero or past the end
        blob = _blob_size_at(bytes(seed))
        if blob is not None:
            seed[blob:blob + 4] = struct.pack(">i", rng.choice([0, 1, 3, -4, 2**31 - 1, len(seed), 1 << 20]))
    else:  # swap type tags
        comma = seed.find(b",")
        if comma > 0:
            for _ in range(rng.randrange(1, 3)):
                i = comma + 1 + rng.randrange(8)
                if i < len(seed) and seed[i]:
                    seed[i] = ord(rng.choice("ifdhsbTFN[]Zq"))
    return bytes(seed)


def _blob_size_at(datagram: bytes) -> int | None:
    """Offset of the size word of the last argument if it is a blob (the seeds put blobs last)."""
    comma = datagram.find(b",")
    end = datagram.find(b"\x00", comma)
    if comma < 0 or end < 0 or datagram[end - 1:end] != b"b":
        return None
    args = (end + 4) // 4 * 4
    sizes = {"i": 4, "f": 4, "h": 8, "d": 8}
    offset = args + sum(sizes.get(chr(tag), 0) for tag in datagram[comma + 1:end - 1])
    return offset if offset + 4 <= len(datagram) else None


def expected(datagram: bytes) -> str:
    try:
        decode(datagram)
    except ProtocolError as err:
        return err.reason
    return "accepted"


def test_fuzzed_datagrams_never_break_the_receiver():
    rng = random.Random(20261125)
    packets = [mutate(rng) for _ in range(PACKETS)]
    want = Counter(expected(p) for p in packets)
    assert 0 < want["accepted"] < PACKETS and len(want) >= 6  # a real mix
    pcm = [p for p in packets if p.startswith(b"/daw/pcm\x00")]
    assert sum(expected(p) == "accepted" for p in pcm) > 100 and sum(expected(p) == "out_of_range" for p in pcm) > 100
    with Receiver(port=0, flood_limit=None) as receiver, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.setblocking(False)
        started = time.monotonic()
        for start in range(0, PACKETS, BURST):
            for packet in packets[start:start + BURST]:
                raw.sendto(packet, receiver.address)
            sent = start + len(packets[start:start + BURST])
            deadline = time.monotonic() + 2.0  # polled: a dropped datagram makes no event to wait on
            while receiver.stats().received + kernel_drops(receiver.port) < sent and time.monotonic() < deadline:
                time.sleep(0.001)
            try:  # acks to fuzzed hellos come back here: drain them
                while raw.recv(65536):
                    pass
            except BlockingIOError:
                pass
        elapsed = time.monotonic() - started
        stats = receiver.stats()
        drops = kernel_drops(receiver.port)
        assert receiver.alive
        assert stats.internal_errors == 0 and stats.callback_errors == 0
        assert stats.received == stats.accepted + stats.dropped_total
        assert stats.received + drops == PACKETS
        if drops == 0:  # every datagram arrived: the receiver agrees with decode() on each one
            got = {reason: n for reason, n in stats.dropped.items() if n}
            assert got == {k: v for k, v in want.items() if k != "accepted"}
            assert stats.accepted == want["accepted"]
        print(f"{PACKETS} datagrams in {elapsed:.1f} s, kernel drops {drops}, {dict(want)}")

        with ProtocolSender(*receiver.address, session_id="after-fuzz") as sender:
            sender.hello()
            sender.transport(True, 33.0, 100.0, 4, 4, 32.0, 9)
            wait_for(receiver, lambda: receiver.snapshot().session_id == "after-fuzz")
        snapshot = receiver.snapshot()
        assert snapshot.session_id == "after-fuzz" and snapshot.playing and snapshot.bpm == 100.0
        assert abs(snapshot.beat_at(snapshot.received_seconds) - 33.0) < 0.01
