"""Transport clock error under jitter, and the receiver's sustained message rate.

    python bench/bench_clock.py [--cycles N] [--jitter-ms 1,5,10] [--messages 100000]

1. For each jitter level a separate process (``bridge.senders.scripted``) streams protocol v1 over
   loopback UDP at 50 Hz through a tempo change, two loop wraps and a stop/start per 6.5 s cycle,
   each transport message stamped with the true beat at its send time shifted by a uniform
   random +-jitter. The error is the receiver clock's beat (the snapshot a render loop would
   read at that moment) against the sender's true beat, at every send time, in milliseconds,
   outside the 100 ms after each jump. "last message" is the naive clock for comparison:
   the newest message's beat extrapolated from its arrival.
2. decode() alone, in process: microseconds per datagram.
3. Sustained rate: a separate process sends valid transport/audio datagrams as fast as it can;
   the rate is datagrams handled per second while the receiver is saturated (flood limit off;
   kernel drops reported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bridge.protocol.decode import decode
from bridge.protocol.encode import encode
from bridge.protocol.messages import AudioMessage, TransportMessage
from bridge.receiver import Receiver
from bridge.senders import scripted

BLAST = """
import socket, sys, time
sys.path[:0] = {path!r}
from bridge.protocol.encode import encode
from bridge.protocol.messages import AudioMessage, TransportMessage
port, count = int(sys.argv[1]), int(sys.argv[2])
datagrams = [encode(TransportMessage(True, 1.0 + k * 0.001, 120.0, 4, 4, 0.0, 1)) for k in range(1000)]
audio = encode(AudioMessage(0.5, 0.7, (0.1,) * 8))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for k in range(count):
    s.sendto(datagrams[k % 1000] if k % 2 else audio, ("127.0.0.1", port))
"""


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


def clock_run(jitter_ms: float, cycles: int) -> dict[str, list[float]]:
    snapshots: list = []
    naive: list = []
    with Receiver(port=0) as receiver, tempfile.TemporaryDirectory() as tmp:
        def on_transport(event) -> None:
            snapshots.append((event.arrival_seconds, receiver.snapshot()))
            naive.append((event.arrival_seconds, event.message))

        receiver.subscribe(on_transport, [TransportMessage])
        log_path = Path(tmp) / "log.json"
        subprocess.run([sys.executable, "-m", "bridge.senders.scripted", "--to", f"127.0.0.1:{receiver.port}",
                        "--seconds", str(scripted.CYCLE_SECONDS * cycles), "--jitter-ms", str(jitter_ms),
                        "--seed", str(int(jitter_ms * 10)), "--log", str(log_path)], check=True)
        log = json.loads(log_path.read_text())
    arrivals = [a for a, _ in snapshots]

    def last_message(i: int, sent: float) -> float:
        arrival, message = naive[i]
        return message.beat + (sent - arrival) * message.bpm / 60.0 if message.playing else message.beat

    return {"clock": scripted.position_errors_ms(log, arrivals, lambda i, sent: snapshots[i][1].beat_at(sent)),
            "last message": scripted.position_errors_ms(log, arrivals, last_message)}


def decode_rate(n: int = 50_000) -> float:
    datagrams = [encode(TransportMessage(True, k * 0.01, 120.0, 4, 4, 0.0, 1)) for k in range(100)]
    datagrams.append(encode(AudioMessage(0.5, 0.7, (0.1,) * 8)))
    started = time.perf_counter()
    for k in range(n):
        decode(datagrams[k % len(datagrams)])
    return (time.perf_counter() - started) / n * 1e6


def sustained_rate(count: int) -> tuple[float, int, int]:
    with Receiver(port=0, flood_limit=None) as receiver:
        first: list[float] = []
        last: list[float] = [0.0]

        def on_message(event) -> None:
            if not first:
                first.append(time.perf_counter())
            last[0] = time.perf_counter()

        receiver.subscribe(on_message)
        proc = subprocess.run([sys.executable, "-c", BLAST.format(path=sys.path[:3]), str(receiver.port), str(count)],
                              check=True)
        del proc
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and time.perf_counter() - last[0] < 0.5:
            time.sleep(0.05)
        stats = receiver.stats()
    elapsed = last[0] - first[0] if first else 0.0
    return (stats.accepted / elapsed if elapsed > 0 else 0.0), stats.accepted, count - stats.received


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=2, help="6.5 s script cycles per jitter level")
    parser.add_argument("--jitter-ms", default="1,5,10", help="comma-separated jitter levels (+- ms)")
    parser.add_argument("--messages", type=int, default=100_000, help="datagrams for the sustained-rate test")
    args = parser.parse_args()
    load = ""
    try:
        load = f", load average {open('/proc/loadavg').read().split()[0]}"
    except OSError:
        pass
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores{load}, python {platform.python_version()}")
    print()
    print("| jitter | clock | sends | median | p90 | p99 | max |")
    print("|---|---|---|---|---|---|---|")
    for jitter in (float(j) for j in args.jitter_ms.split(",")):
        for name, errors in clock_run(jitter, args.cycles).items():
            print(f"| ±{jitter:g} ms | {name} | {len(errors)} | {percentile(errors, 0.5):.3f} ms "
                  f"| {percentile(errors, 0.9):.3f} ms | {percentile(errors, 0.99):.3f} ms | {errors[-1]:.3f} ms |")
    print()
    print(f"decode(): {decode_rate():.1f} µs per datagram (in process)")
    rate, accepted, dropped = sustained_rate(args.messages)
    print(f"receiver sustained: {rate:,.0f} messages/s ({accepted} handled, {dropped} dropped by the kernel "
          f"while saturated)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
