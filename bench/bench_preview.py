"""Preview sync: the beat each shown frame was rendered for against the beat audible when it was shown.

    python bench/bench_preview.py [--seconds 60] [--size 32x32] [--refresh 60] [--jitter-ms 2] [--json OUT]

A separate process (``bridge.senders.scripted``, its ``cycle_script``) plays a DAW over loopback UDP: 120 BPM, a jump
to 150 BPM, loop wraps at beat 8 -> 4, a stop and a start, and a seek back to bar 1 every 6.5 s,
each /daw/transport stamped with the true beat +- jitter (loop wraps compare loop phases). The real preview (receiver, render
worker, frame buffer, the PySide6 window offscreen with its display timer) renders the embedded
model's tiny architecture ahead of the clock. For every frame put on screen while playing:

- **vs truth**: (frame's beat - the sender's true beat at the tick it was shown), in ms at the tempo;
- **vs clock**: (frame's beat - the receiver clock's beat for that tick, read at the tick), in ms.

"steady" leaves out frames shown in the 150 ms after a jump the sender could not announce ahead
(tempo change, stop, start, seek; loop wraps are predicted by the clock and stay in).
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

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

UNANNOUNCED = (0.0, 1.5, 4.3, 5.0)  #: seconds into a scripted cycle: seek to 0, tempo, stop, start
AFTER_JUMP_SECONDS = 0.15


def beat_difference(rendered: float, audible: float) -> float:
    """rendered - audible in beats; inside the loop both are loop phases (a frame for just after the wrap,
    shown just before it, is a few ms early, not a loop length)."""
    from bridge.senders.scripted import LOOP

    start, end = LOOP
    difference = rendered - audible
    if start <= rendered < end and start <= audible < end:
        length = end - start
        difference = (difference + length / 2) % length - length / 2
    return difference


def stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"frames": 0}
    a = np.abs(np.asarray(values))
    return {"frames": len(a), "median_ms": float(np.median(a)), "p90_ms": float(np.percentile(a, 90)),
            "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max()), "mean_signed_ms": float(np.mean(values))}


def run_preview(args: argparse.Namespace) -> tuple[object, dict, float]:
    """Play the scripted DAW in a separate process into the real preview (window offscreen) until it ends:
    the stopped session, the sender's log and the wall seconds it took."""
    import torch
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from renderer.backends.embedded import EmbeddedBackend
    from renderer.preview.session import PreviewOptions, PreviewSession
    from renderer.preview.window import PreviewWindow
    from renderer.renderer import Renderer

    torch.set_num_threads(1)
    width, height = (int(v) for v in args.size.split("x"))
    renderer = Renderer.from_preset("neon", backend=EmbeddedBackend(random_init="tiny", steps=1), size=(width, height))
    app = QApplication.instance() or QApplication(["bench_preview"])
    session = PreviewSession(renderer, PreviewOptions(listen=("127.0.0.1", 0), record=False,
                                                      refresh_hz=args.refresh)).start()
    window = PreviewWindow(session, ["neon"], "neon")
    window.show()
    window.start()
    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "sends.json"
        sender = subprocess.Popen([sys.executable, "-m", "bridge.senders.scripted", "--to",
                                   f"127.0.0.1:{session.listen[1]}", "--seconds", str(args.seconds),
                                   "--jitter-ms", str(args.jitter_ms), "--log", str(log_path)])
        poll = QTimer(interval=100)
        poll.timeout.connect(lambda: sender.poll() is not None and app.quit())
        poll.start()
        started = time.monotonic()
        app.exec()
        window.close()
        session.stop()
        log = json.loads(log_path.read_text())
    return session, log, time.monotonic() - started


def sync_errors(session, t0: float, seconds: float) -> tuple[list[float], list[float], list[float]]:
    """Per frame shown while playing, in ms: vs truth (all, steady) and vs the receiver's clock."""
    from bridge.senders import scripted

    script = scripted.cycle_script(seconds)
    jumps = [c * scripted.CYCLE_SECONDS + d for c in range(int(seconds / scripted.CYCLE_SECONDS) + 2)
             for d in UNANNOUNCED]
    truth_all, truth_steady, clock_all = [], [], []
    for shown in session.shown:
        if not shown.target.playing:
            continue
        shown_at = shown.tick_seconds + session.display_latency_seconds
        song_seconds = shown_at - t0
        truth = script.true_state(song_seconds)
        if not truth.playing or song_seconds > seconds:
            continue
        ms_per_beat = 60_000.0 / truth.bpm
        error = beat_difference(shown.target.beat, truth.beat) * ms_per_beat
        truth_all.append(error)
        clock_all.append(beat_difference(shown.target.beat, shown.audible_beat) * ms_per_beat)
        if not any(0.0 <= song_seconds - j < AFTER_JUMP_SECONDS for j in jumps):
            truth_steady.append(error)
    return truth_all, truth_steady, clock_all


def print_result(result: dict) -> None:
    print(f"{result['seconds']:.0f} s session, {result['size']} tiny embedded, {result['refresh_hz']:g} Hz, "
          f"{result['machine']}")
    print(f"shown {result['shown']} frames ({result['shown_fps']:.1f}/s) of {result['rendered']} rendered; "
          f"dropped {result['late']} late, {result['stale']} stale; render latency planned "
          f"{result['render_ms_estimate']:.0f} ms")
    for name in ("vs_truth_steady", "vs_truth_all", "vs_clock"):
        s = result[name]
        if s["frames"]:
            print(f"  {name:16} {s['frames']:5d} frames  median {s['median_ms']:6.2f} ms  p90 {s['p90_ms']:6.2f}  "
                  f"p99 {s['p99_ms']:7.2f}  max {s['max_ms']:7.1f}  mean signed {s['mean_signed_ms']:+.2f}")
    print(f"  GUI tick gaps: p99 {result['tick_gap_p99_ms']:.1f} ms, max {result['tick_gap_max_ms']:.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the simulated session (default 60)")
    parser.add_argument("--size", default="32x32", help="render size (default 32x32: the tiny model on a CPU)")
    parser.add_argument("--refresh", type=float, default=60.0, help="display refresh, Hz (default 60)")
    parser.add_argument("--jitter-ms", type=float, default=2.0, help="sender stamp/send jitter, +- ms (default 2)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    session, log, wall = run_preview(args)
    truth_all, truth_steady, clock_all = sync_errors(session, log["t0"], args.seconds)
    buffer = session.buffer.stats
    result = {
        "seconds": args.seconds, "size": args.size, "refresh_hz": args.refresh, "jitter_ms": args.jitter_ms,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "shown": buffer.shown, "rendered": session.worker.rendered, "late": buffer.late, "stale": buffer.stale,
        "shown_fps": buffer.shown / wall,
        "render_ms_estimate": session.worker.meter.estimate_seconds() * 1000,
        "vs_truth_steady": stats(truth_steady), "vs_truth_all": stats(truth_all), "vs_clock": stats(clock_all),
        "tick_gap_max_ms": max(session.tick_gaps, default=0.0) * 1000,
        "tick_gap_p99_ms": float(np.percentile(session.tick_gaps, 99) * 1000) if session.tick_gaps else 0.0,
    }
    print_result(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
