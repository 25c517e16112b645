"""MIDI clock tempo estimation: error and settling time versus timestamp jitter.

Replays 24-ppqn clock streams (numpy RNG, seeded) through ``ClockFit`` and ``MidiSync`` and
prints a markdown table for docs/benchmarks.md:

- tempo error 1, 2, 4 and 8 beats after Start (p95 / max over trials), and the tick-to-tick
  estimate a naive receiver would show, for reference;
- settling: beats after Start until the estimate stays within 0.1 BPM (p95);
- a step 120 -> 126 BPM: beats until within 0.1 BPM again (p95);
- position error of the interpolated playhead once settled (p95 / max, ms);
- a ramp 100 -> 140 BPM over 32 beats: tempo and position error inside the ramp.

Jitter: "±J" is uniform in [-J, +J]; "+J" is a delay uniform in [0, J] (messages are late, never early).

    python bench/bench_midi_clock.py [--trials N] [--seed S]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from bridge.senders.clock_fit import TICKS_PER_BEAT, ClockFit
from bridge.senders.scripted import DawScript, Play
from bridge.senders.midi_sync import MidiSync
from bridge.timeline.tempo_map import TempoMap, TempoPoint

JITTERS = (("0", 0.0, True), ("±0.25 ms", 0.00025, True), ("±0.5 ms", 0.0005, True), ("±1 ms", 0.001, True),
           ("±2 ms", 0.002, True), ("+2 ms", 0.002, False), ("±4 ms", 0.004, True))


def tick_times(rng: np.random.Generator, bpms_and_beats: list[tuple[float, float]], jitter: float,
               symmetric: bool) -> np.ndarray:
    true = []
    seconds = 0.5
    for bpm, beats in bpms_and_beats:
        period = 60.0 / bpm / TICKS_PER_BEAT
        for _ in range(int(round(beats * TICKS_PER_BEAT))):
            true.append(seconds)
            seconds += period
    true_arr = np.array(true)
    noise = rng.uniform(-jitter, jitter, len(true_arr)) if symmetric else rng.uniform(0.0, jitter, len(true_arr))
    return np.maximum.accumulate(true_arr + noise)


def settle_beats(errors: np.ndarray, limit: float = 0.1) -> float:
    """Beats (in ticks / 24) from the first tick until |error| stays below ``limit``."""
    bad = np.flatnonzero(np.abs(errors) >= limit)
    return (bad[-1] + 1) / TICKS_PER_BEAT if len(bad) else 0.0


def tempo_rows(trials: int, rng: np.random.Generator) -> list[str]:
    rows = []
    for label, jitter, symmetric in JITTERS:
        for bpm in (90.0, 120.0, 150.0):
            after = {1: [], 2: [], 4: [], 8: []}
            naive, settle, step = [], [], []
            for _ in range(trials):
                ticks = tick_times(rng, [(bpm, 12)], jitter, symmetric)
                fit = ClockFit()
                estimates = np.array([(fit.tick(s), fit.bpm)[1] or np.nan for s in ticks])
                errors = estimates - bpm
                for beats in after:
                    after[beats].append(abs(errors[beats * TICKS_PER_BEAT]))
                naive.extend(np.abs(60.0 / (TICKS_PER_BEAT * np.diff(ticks)) - bpm))
                settle.append(settle_beats(np.nan_to_num(errors[1:], nan=99.0)))
                # a step to +5 %
                new_bpm = round(bpm * 1.05)
                ticks = tick_times(rng, [(bpm, 8), (new_bpm, 8)], jitter, symmetric)
                fit = ClockFit()
                estimates = np.array([(fit.tick(s), fit.bpm)[1] for s in ticks])
                step.append(settle_beats(estimates[8 * TICKS_PER_BEAT:] - new_bpm))
            cells = [f"{np.percentile(after[b], 95):.3f} / {np.max(after[b]):.3f}" for b in (1, 2, 4, 8)]
            rows.append(f"| {label} | {bpm:g} | {np.percentile(naive, 95):.2f} | " + " | ".join(cells)
                        + f" | {np.percentile(settle, 95):.2f} | {np.percentile(step, 95):.2f} |")
    return rows


def position_rows(trials: int, seed: int) -> list[str]:
    rows = []
    song = TempoMap((TempoPoint(0.0, 120.0), TempoPoint(16.0, 138.0), TempoPoint(32.0, 96.0)))
    ramp = TempoMap((TempoPoint(0.0, 100.0), TempoPoint(16.0, 100.0, True), TempoPoint(48.0, 140.0)))
    for label, jitter, symmetric in JITTERS:
        steady, ramp_pos, ramp_tempo = [], [], []
        for trial in range(max(1, trials // 10)):
            for tempo_map, beats, sink in ((song, 48.0, steady), (ramp, 56.0, ramp_pos)):
                script = DawScript(tempo_map, [Play(0.5, 0.0, beats)])
                arrivals = script.received(jitter, seed=seed + trial, symmetric=symmetric)
                sync = MidiSync()
                i = 0
                changes = [0.5 + tempo_map.seconds_at(p.beat) for p in tempo_map.tempo]
                for seconds in np.arange(0.5, arrivals[-1].seconds, 0.004):
                    while i < len(arrivals) and arrivals[i].seconds <= seconds:
                        sync.feed(arrivals[i].message, arrivals[i].seconds)
                        i += 1
                    playing, beat, bpm = script.true_state(seconds)
                    state = sync.state_at(seconds)
                    if not playing:
                        continue
                    recent = max(c for c in changes if c <= seconds)
                    if tempo_map is ramp:
                        if 20.0 <= beat <= 48.0:
                            sink.append(abs(state.beat - beat) * 60000.0 / bpm)
                            ramp_tempo.append(abs(state.bpm - bpm))
                    elif seconds - recent >= 60.0 / bpm:  # one beat after start / each tempo change
                        sink.append(abs(state.beat - beat) * 60000.0 / bpm)
        rows.append(f"| {label} | {np.percentile(steady, 95):.2f} / {np.max(steady):.2f} | "
                    f"{np.percentile(ramp_pos, 95):.2f} / {np.max(ramp_pos):.2f} | "
                    f"{np.percentile(ramp_tempo, 50):.2f} / {np.percentile(ramp_tempo, 95):.2f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"{args.trials} trials per row, seed {args.seed}\n")
    print("Tempo error (BPM, p95 / max) after N beats from Start; settling = beats until it stays < 0.1 BPM (p95);")
    print("step = beats after a +5 % tempo step until it stays < 0.1 BPM (p95). Window: up to 192 ticks (8 beats).\n")
    print("| jitter | BPM | tick-to-tick p95 | 1 beat | 2 beats | 4 beats | 8 beats | settle (beats) | step (beats) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in tempo_rows(args.trials, rng):
        print(row)
    print("\nPlayhead position error (ms, p95 / max): a song with two tempo steps (from one beat after each "
          "change) and inside a 100 -> 140 BPM ramp; ramp tempo error (BPM, p50 / p95).\n")
    print("| jitter | steady position | ramp position | ramp tempo |")
    print("|---|---|---|---|")
    for row in position_rows(args.trials, args.seed):
        print(row)
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
