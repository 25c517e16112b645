"""End to end: a separate process streams protocol v1 over loopback UDP at 50 Hz with +-5 ms jitter
through a tempo change, loop wraps and a stop/start; the receiver's clock must track the sender's
true position (evaluated at the sender's own send timestamps, both on CLOCK_MONOTONIC).

Excluded: only the 100 ms after each discontinuity, and moments when the sender is stopped
(a stopped clock is trivially exact and would flatter the median).
"""

from __future__ import annotations

import json
import subprocess
import sys

from bridge.clock import Discontinuity
from bridge.protocol.messages import TransportMessage
from bridge.receiver import Receiver
from bridge.senders import scripted


def clock_errors_ms(snapshots, log) -> list[float]:
    return scripted.position_errors_ms(log, [a for a, _ in snapshots], lambda i, sent: snapshots[i][1].beat_at(sent))


def test_clock_tracks_a_jittery_sender_over_real_udp(tmp_path):
    log_path = tmp_path / "sends.json"
    snapshots, jumps = [], []
    with Receiver(port=0) as receiver:
        receiver.subscribe(lambda e: snapshots.append((e.arrival_seconds, receiver.snapshot())), [TransportMessage])
        receiver.subscribe(lambda e: jumps.append(e.kind), [Discontinuity])
        subprocess.run([sys.executable, "-m", "bridge.senders.scripted", "--to", f"127.0.0.1:{receiver.port}",
                        "--seconds", str(scripted.CYCLE_SECONDS), "--jitter-ms", "5", "--log", str(log_path)],
                       check=True, timeout=60)
        stats = receiver.stats()
    log = json.loads(log_path.read_text())
    errors = clock_errors_ms(snapshots, log)
    assert stats.dropped_total == 0 and stats.accepted >= len(log["sends"])
    assert {"tempo", "loop", "stop", "start"} <= set(jumps)
    assert len(errors) >= 150, len(errors)
    median, p99 = errors[len(errors) // 2], errors[min(len(errors) - 1, int(len(errors) * 0.99))]
    print(f"clock error over {len(errors)} sends: median {median:.3f} ms, p99 {p99:.3f} ms, max {errors[-1]:.3f} ms")
    assert median < 1.0, (median, p99)
    assert p99 < 4.0, (median, p99)
