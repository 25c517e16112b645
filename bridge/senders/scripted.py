"""A scripted DAW for clock tests and benchmarks: known true position, jittered protocol v1 stream.

One cycle of :data:`CYCLE_SECONDS` plays at 120 BPM, jumps to 150 BPM at 1.5 s, wraps
the loop 4..8 at 3.5 s, stops at 4.3 s, starts again at 5.0 s and wraps again at 5.8 s;
the next cycle seeks back to beat 0. :func:`true_position` gives the exact position at
any time; the stream runs at 50 Hz, each ``/daw/transport`` stamped with the true beat
at its send time shifted by a uniform random ``±jitter`` (and its send time jittered by
the same amount), which is what a DAW's observer plus a busy network look like.

Run: ``python -m bridge.senders.scripted --to 127.0.0.1:9420 --log sends.json``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bridge.senders.osc_out import ProtocolSender, parse_target

CYCLE_SECONDS = 6.5
LOOP = (4.0, 8.0)
#: Seconds into a cycle where the position jumps: tempo, loop wrap, stop, start, loop wrap.
CYCLE_DISCONTINUITIES = (1.5, 3.5, 4.3, 5.0, 5.8)
RATE_HZ = 50.0
STOPPED_EVERY = 10  # ticks between transport messages while stopped (5 Hz)


@dataclass(frozen=True)
class Position:
    playing: bool
    beat: float
    bpm: float


def _loop(raw_beat: float) -> float:
    start, end = LOOP
    return start + (raw_beat - start) % (end - start) if raw_beat >= end else raw_beat


def true_position(seconds: float) -> Position:
    """Where the scripted DAW is ``seconds`` after its start (negative: not started, beat 0)."""
    t = seconds % CYCLE_SECONDS if seconds >= 0 else 0.0
    if t < 1.5:
        return Position(True, t * 2.0, 120.0)
    if t < 4.3:
        return Position(True, _loop(3.0 + (t - 1.5) * 2.5), 150.0)
    stopped_at = _loop(3.0 + (4.3 - 1.5) * 2.5)
    if t < 5.0:
        return Position(False, stopped_at, 150.0)
    return Position(True, _loop(stopped_at + (t - 5.0) * 2.5), 150.0)


def discontinuities(duration_seconds: float) -> list[float]:
    """Seconds since start of every jump in a run of ``duration_seconds`` (cycle starts after the first included)."""
    cycles = math.ceil(duration_seconds / CYCLE_SECONDS)
    times = [c * CYCLE_SECONDS + d for c in range(cycles) for d in (0.0, *CYCLE_DISCONTINUITIES)]
    return [t for t in times if t <= duration_seconds]


def position_errors_ms(log: dict, arrivals: Sequence[float], estimate: Callable[[int, float], float],
                       settle_seconds: float = 0.1) -> list[float]:
    """Sorted errors, in ms, of ``estimate(i, sent)`` (the beat a receiver gives for send time ``sent``, ``i``
    the index of its last arrival at or before it) against :func:`true_position`, at every send of ``log``
    (from :func:`run`) while playing, outside the ``settle_seconds`` after each jump."""
    t0 = log["t0"]
    jumps = [t0 + d for d in discontinuities(log["duration_seconds"])]
    loop_length = LOOP[1] - LOOP[0]
    errors = []
    for sent in log["sends"]:
        if any(d <= sent < d + settle_seconds for d in jumps):
            continue
        truth = true_position(sent - t0)
        i = bisect.bisect_right(arrivals, sent) - 1
        if not truth.playing or i < 0:
            continue
        error = estimate(i, sent) - truth.beat
        error -= round(error / loop_length) * loop_length  # phase error across a loop boundary
        errors.append(abs(error) * 60.0 / truth.bpm * 1000.0)
    return sorted(errors)


def run(host: str, port: int, duration_seconds: float, jitter_seconds: float, seed: int = 0) -> dict:
    """Stream the script for ``duration_seconds``; return the log: start time and every transport send time."""
    rng = random.Random(seed)
    sends: list[float] = []
    with ProtocolSender(host, port, source="scripted") as sender:
        t0 = time.monotonic() + 0.1
        sender.hello()
        sender.loop(True, *LOOP)
        k = 0
        while True:
            planned = t0 + k / RATE_HZ + rng.uniform(-jitter_seconds, jitter_seconds)
            delay = planned - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            if sent - t0 > duration_seconds:
                break
            truth = true_position(sent - t0 + rng.uniform(-jitter_seconds, jitter_seconds))
            previous = true_position(sent - t0 - 1.0 / RATE_HZ)
            if truth.playing or previous.playing or k % STOPPED_EVERY == 0:
                bar = math.floor(truth.beat / 4.0)
                sender.transport(truth.playing, truth.beat, truth.bpm, 4, 4, bar * 4.0, bar + 1)
                sends.append(sent)
            sender.audio(0.0, 0.0, [0.0] * 8)
            if k % 100 == 0:
                sender.hello()
                sender.loop(True, *LOOP)
            k += 1
        sender.bye()
    return {"t0": t0, "sends": sends, "duration_seconds": duration_seconds, "jitter_seconds": jitter_seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="127.0.0.1:9420", help="HOST:PORT of the receiver")
    parser.add_argument("--seconds", type=float, default=CYCLE_SECONDS, help="how long to stream")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="uniform +-jitter of stamps and send times")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", help="write the send log (JSON) here")
    args = parser.parse_args(argv)
    host, port = parse_target(args.to)
    log = run(host, port, args.seconds, args.jitter_ms / 1000.0, args.seed)
    if args.log:
        with open(args.log, "w", encoding="utf-8") as out:
            json.dump(log, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
