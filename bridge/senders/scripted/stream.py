"""The scripted DAW over protocol v1: a position source for the sender runtime, streamed in real time.

:class:`ScriptSource` reads the script's true position ``seconds - t0`` into it, shifted by a
uniform random ``±jitter`` (a DAW's observer), and hears a click on every beat. :func:`stream`
runs it over loopback UDP at ``rates`` with each step's send time jittered by the same amount
(a busy network and scheduler) and returns a log of every transport send, which
:func:`position_errors_ms` scores a receiver against. Nothing is sent during a silence.

Run the benchmarks' cycle: ``python -m bridge.senders.scripted --to 127.0.0.1:9420 --log sends.json``.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Sequence

from bridge.protocol.messages import AudioMessage, LoopMessage, Message
from bridge.senders.osc_out import ProtocolSender, parse_target
from bridge.senders.runtime import Heard, PositionSource, Rates, Reading, SenderRuntime, transport_on
from bridge.senders.scripted.script import CYCLE_SECONDS, LOOP, DawScript, Position, cycle_script

#: The benchmarks' rates: 50 Hz like ``barlight send file``; 5 Hz while stopped.
RATES = Rates(step_hz=50.0, playing_hz=50.0, stopped_hz=5.0)
#: The transport at every 50 Hz step, stopped too (the preview tests' DAW).
EVERY_STEP = Rates(step_hz=50.0, playing_hz=50.0, stopped_hz=50.0)


class ScriptSource(PositionSource):
    """``script`` as a position source, its wall second 0 at host time ``t0`` (see module doc)."""

    def __init__(self, script: DawScript, t0: float, jitter_seconds: float = 0.0,
                 rng: random.Random | None = None) -> None:
        self.script = script
        self.t0 = t0
        self.jitter_seconds = jitter_seconds
        self.rng = rng or random.Random(0)
        self.position = script.true_state(0.0)

    def song(self) -> tuple[Message, ...]:
        return () if self.script.loop is None else (LoopMessage(True, *self.script.loop),)

    def read(self, seconds: float) -> Reading:
        stamp = seconds - self.t0 + self.rng.uniform(-self.jitter_seconds, self.jitter_seconds)
        truth = self.position = self.script.true_state(max(0.0, stamp))  # jittered before the start: the start
        return Reading(transport_on(self.script.tempo_map, truth.playing, truth.beat, truth.bpm))

    def heard(self) -> Heard:
        truth = self.position
        level = 0.5 if truth.playing and truth.beat % 1.0 < 0.2 else 0.05
        return Heard(AudioMessage(level, level, (level,) * 8))


def stream(script: DawScript, host: str, port: int, seconds: float | None = None, *, jitter_seconds: float = 0.0,
           seed: int = 0, rates: Rates = RATES, lead_seconds: float = 0.1, bye: bool = True) -> dict:
    """Stream ``script`` for ``seconds`` (default: to its end), starting ``lead_seconds`` after hello;
    without ``bye`` it just falls silent at the end, as a crashed DAW does.

    Returns the log: ``t0`` (host time of script second 0), ``sends`` (host time of every transport
    sent), ``duration_seconds`` and ``jitter_seconds``.
    """
    duration = script.end_seconds if seconds is None else seconds
    rng = random.Random(seed)
    sends: list[float] = []
    with ProtocolSender(host, port, source="scripted") as osc:
        t0 = time.monotonic() + lead_seconds
        runtime = SenderRuntime(osc, ScriptSource(script, t0, jitter_seconds, rng), rates)
        runtime.open()
        try:
            for k in itertools.count():
                delay = t0 + k / rates.step_hz + rng.uniform(-jitter_seconds, jitter_seconds) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                sent = time.monotonic()
                if sent - t0 > duration:
                    break
                if not script.silent_at(sent - t0) and runtime.step(sent) is not None:
                    sends.append(sent)
        finally:
            if bye:
                runtime.close()
    return {"t0": t0, "sends": sends, "duration_seconds": duration, "jitter_seconds": jitter_seconds}


def stream_in_thread(script: DawScript, port: int, host: str = "127.0.0.1",
                     rates: Rates = EVERY_STEP) -> threading.Thread:
    """:func:`stream` to its end on a started daemon thread (the preview tests' DAW): hello and the first
    transport go out together, so a window never sees a session that has not started, and no bye at the
    end, so the window still shows the last state."""
    options = {"rates": rates, "lead_seconds": 0.0, "bye": False}
    thread = threading.Thread(target=stream, args=(script, host, port), kwargs=options,
                              name="scripted-daw", daemon=True)
    thread.start()
    return thread


def position_errors_ms(log: dict, arrivals: Sequence[float], estimate: Callable[[int, float], float],
                       settle_seconds: float = 0.1) -> list[float]:
    """Sorted errors, in ms, of ``estimate(i, sent)`` (the beat a receiver gives for send time ``sent``, ``i``
    the index of its last arrival at or before it) against the :func:`cycle_script` that :func:`main` streamed,
    at every send of ``log`` while playing, outside the ``settle_seconds`` after each jump."""
    t0 = log["t0"]
    script = cycle_script(log["duration_seconds"])
    jumps = [t0 + d for d in script.jumps() if d <= log["duration_seconds"]]
    loop_length = LOOP[1] - LOOP[0]
    errors = []
    for sent in log["sends"]:
        if any(d <= sent < d + settle_seconds for d in jumps):
            continue
        truth: Position = script.true_state(sent - t0)
        i = bisect.bisect_right(arrivals, sent) - 1
        if not truth.playing or i < 0:
            continue
        error = estimate(i, sent) - truth.beat
        error -= round(error / loop_length) * loop_length  # phase error across a loop boundary
        errors.append(abs(error) * 60.0 / truth.bpm * 1000.0)
    return sorted(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stream the scripted DAW's benchmark cycle (protocol v1).")
    parser.add_argument("--to", default="127.0.0.1:9420", help="HOST:PORT of the receiver")
    parser.add_argument("--seconds", type=float, default=CYCLE_SECONDS, help="how long to stream")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="uniform +-jitter of stamps and send times")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log", help="write the send log (JSON) here")
    args = parser.parse_args(argv)
    host, port = parse_target(args.to)
    log = stream(cycle_script(args.seconds), host, port, args.seconds, jitter_seconds=args.jitter_ms / 1000.0,
                 seed=args.seed)
    if args.log:
        with open(args.log, "w", encoding="utf-8") as out:
            json.dump(log, out)
    return 0
