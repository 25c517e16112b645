"""Preview sync under load: the beat each shown frame was rendered for against the beat truly audible when shown.

    python bench/bench_preview.py [--seconds 60] [--preset neon] [--size 256x256] [--busy 4]
                                  [--modes process,thread] [--kills 6] [--refresh 60] [--jitter-ms 2] [--json OUT]

The real preview renders the preset's model through the Renderer (the shipped embedded model at
256x256 by default: whatever weights ship, no model internals here) while ``--busy`` busy-loop
processes this bench starts keep every core busy. Each of ``--modes`` runs one session in turn,
under the same load: ``process`` (the renderer in its own process, frames through shared memory,
a warm standby loaded first: what ``barlight preview`` runs) and ``thread`` (the renderer on a
thread of the GUI process, as before); ``restart`` is ``process`` with the active render process
killed (SIGKILL) ``--kills`` times, evenly spread, each time once the warm standby is ready: for
each kill, the time until the replacement's first frame reached the preview and until the next
frame was on screen. A separate process (``bridge.senders.scripted``) plays a
DAW over loopback UDP: 120 BPM, a jump to 150 BPM, loop wraps at beat 8 -> 4, a stop and a start,
and a seek back to bar 1 every 6.5 s, each /daw/transport stamped with the true beat +- jitter.
The window (offscreen) shows the frames on its display timer. For every frame shown while playing:

- **vs truth**: (frame's beat - the sender's true beat at the tick it was shown), in ms at the tempo;
- **vs clock**: (frame's beat - the receiver clock's beat for that tick, read at the tick), in ms;
- **display gaps**: the time between two ticks of the window's timer (median, p95, p99, max);
- **GUI thread work**: its CPU time per tick and per paint (p99, max), and the GUI process's CPU share;
- **shown behind plan**: how long after the tick it was planned for each frame went up (median, p95, p99,
  max; the median of the first and the last third of the session: rendering ahead does not fall behind),
  and the share of frames whose render finished after that tick (they go up a refresh late).

"steady" leaves out frames shown in the 150 ms after a jump the sender could not announce ahead
(tempo change, stop, start, seek; loop wraps are predicted by the clock and stay in).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

UNANNOUNCED = (0.0, 1.5, 4.3, 5.0)  #: seconds into a scripted cycle: seek to 0, tempo, stop, start
AFTER_JUMP_SECONDS = 0.15
#: Longest a model may take to load in a process of its own on a loaded machine, seconds.
LOAD_SECONDS = 600.0


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


def start_busy(count: int) -> list[subprocess.Popen]:
    """``count`` processes that spin forever (the load the preview must stand)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def sync_errors(session, log: dict, seconds: float) -> dict[str, list[float]]:
    """Each playing frame's error against the scripted DAW's truth (all, steady) and against the clock, in ms."""
    from bridge.senders import scripted

    script = scripted.cycle_script(seconds)
    jumps = [c * scripted.CYCLE_SECONDS + d for c in range(int(seconds / scripted.CYCLE_SECONDS) + 2)
             for d in UNANNOUNCED]
    errors: dict[str, list[float]] = {"vs_truth_steady": [], "vs_truth_all": [], "vs_clock": []}
    for shown in session.shown:
        song_seconds = shown.tick_seconds + session.display_latency_seconds - log["t0"]
        truth = script.true_state(song_seconds)
        if not shown.target.playing or not truth.playing or song_seconds > seconds:
            continue
        ms_per_beat = 60_000.0 / truth.bpm
        error = beat_difference(shown.target.beat, truth.beat) * ms_per_beat
        errors["vs_truth_all"].append(error)
        errors["vs_clock"].append(beat_difference(shown.target.beat, shown.audible_beat) * ms_per_beat)
        if not any(0.0 <= song_seconds - j < AFTER_JUMP_SECONDS for j in jumps):
            errors["vs_truth_steady"].append(error)
    return errors


def run_session(mode: str, args: argparse.Namespace) -> dict:
    """One preview session in ``mode`` (process or thread) driven by the scripted DAW; its numbers."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from renderer.preview.child import RendererSpec
    from renderer.preview.session import PreviewOptions, PreviewSession
    from renderer.preview.window import PreviewWindow

    width, height = (int(v) for v in args.size.split("x"))
    spec = RendererSpec(args.preset, size=(width, height))
    app = QApplication.instance() or QApplication(["bench_preview"])
    session = PreviewSession(spec if mode != "thread" else spec.build(),
                             PreviewOptions(listen=("127.0.0.1", 0), record=False, refresh_hz=args.refresh)).start()
    window = PreviewWindow(session, [args.preset], args.preset)
    window.show()
    window.start()
    loads: list[float] = []
    sampler = QTimer(interval=1000)
    sampler.timeout.connect(lambda: loads.append(os.getloadavg()[0]))
    try:
        session.wait_ready(LOAD_SECONDS)
        deadline = time.monotonic() + LOAD_SECONDS
        while mode != "thread" and not session.engine.standby_ready and time.monotonic() < deadline:
            app.processEvents()  # the standby loads before the clock starts: its load is not measured
            time.sleep(0.01)
        sampler.start()
        kills: list[float] = []
        killer = QTimer(interval=round(1000 * args.seconds / (args.kills + 1)))
        killer.timeout.connect(lambda: kill_renderer(session, kills, args.kills))
        if mode == "restart":
            killer.start()
        window.tick_seconds.clear()  # measured from here on, like the display gaps
        window.view.paint_seconds.clear()
        cpu = os.times()
        log, wall = play_script(app, session, args)
        spent = os.times()
        gui_cpu = (spent.user + spent.system - cpu.user - cpu.system) / wall  # in thread mode, with the renderer
        killer.stop()
        estimate_seconds = session.engine.render_estimate_seconds  # the engine's own, while it runs
        work = {"tick": list(window.tick_seconds), "paint": list(window.view.paint_seconds)}
    finally:
        window.close()
        session.stop()
    result = measure(mode, session, log, wall, loads, estimate_seconds, work, args)
    result["gui_process_cpu"] = gui_cpu
    if mode == "restart":
        result["restarts"] = restart_times(session, kills)
    return result


def kill_renderer(session, kills: list[float], most: int) -> None:
    """SIGKILL the active render process (once a warm standby is ready; at most ``most`` times); note when."""
    if len(kills) < most and session.engine.standby_ready:
        kills.append(time.monotonic())
        os.kill(session.engine.active_pid, signal.SIGKILL)


def restart_times(session, kills: list[float]) -> list[dict]:
    """For each kill: the restart's reason, seconds until the replacement's first frame reached the preview,
    and until the next frame was on screen."""
    out = []
    for killed_at in kills:
        restart = next((r for r in session.engine.restarts if r.at_seconds >= killed_at), None)
        if restart is None:
            out.append({"reason": "not noticed", "noticed_s": None, "frames_back_s": None, "shown_s": None})
            continue
        back = None if restart.recovered_seconds is None else restart.at_seconds + restart.recovered_seconds
        shown = next((s.tick_seconds for s in session.shown if back is not None and s.tick_seconds >= back), None)
        out.append({"reason": restart.reason, "noticed_s": restart.at_seconds - killed_at,
                    "frames_back_s": None if back is None else back - killed_at,
                    "shown_s": None if shown is None else shown - killed_at})
    return out


def play_script(app, session, args: argparse.Namespace) -> tuple[dict, float]:
    """The scripted DAW in its own process until it ends, the window ticking; its send log and the wall time."""
    from PySide6.QtCore import QTimer

    with tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "sends.json"
        sender = subprocess.Popen([sys.executable, "-m", "bridge.senders.scripted", "--to",
                                   f"127.0.0.1:{session.listen[1]}", "--seconds", str(args.seconds),
                                   "--jitter-ms", str(args.jitter_ms), "--log", str(log_path)])
        poll = QTimer(interval=100)
        poll.timeout.connect(lambda: sender.poll() is not None and app.quit())
        poll.start()
        started = time.monotonic()
        session.tick_gaps.clear()
        app.exec()
        poll.stop()
        return json.loads(log_path.read_text()), time.monotonic() - started


def percentiles(values_ms, *qs: float) -> dict[str, float]:
    """``{"p50": …, "p95": …, "max": …}`` of ``values_ms`` (zeros when there are none)."""
    a = np.asarray(values_ms, float)
    out = {f"p{q:g}": float(np.percentile(a, q)) if len(a) else 0.0 for q in qs}
    out["max"] = float(a.max()) if len(a) else 0.0
    return out


def behind_plan(session) -> dict[str, float]:
    """How long after its planned tick each playing frame went up, ms; the medians of the first and last third;
    the share of them that were rendered too late for that tick."""
    playing = [s for s in session.shown if s.target.playing]
    lag = [(s.tick_seconds - s.target.tick_seconds) * 1000 for s in playing]
    third = len(lag) // 3
    return {**percentiles(lag, 50, 95, 99), "first_third_p50": float(np.median(lag[:third])) if third else 0.0,
            "last_third_p50": float(np.median(lag[-third:])) if third else 0.0,
            "missed_tick": float(np.mean([s.ready_seconds > s.target.tick_seconds for s in playing] or [0.0]))}


def measure(mode: str, session, log: dict, wall: float, loads: list[float], estimate_seconds: float,
            work: dict[str, list[float]], args: argparse.Namespace) -> dict:
    buffer = session.buffer.stats
    result = {"mode": mode, "shown": buffer.shown, "rendered": session.engine.rendered, "late": buffer.late,
              "stale": buffer.stale, "shown_fps": buffer.shown / wall,
              "render_ms_estimate": estimate_seconds * 1000, "display_period_ms": session.period_seconds * 1000,
              "load_min": min(loads, default=os.getloadavg()[0]), "load_mean": float(np.mean(loads or [0.0])),
              "tick_gap_ms": percentiles(np.asarray(session.tick_gaps) * 1000, 50, 95, 99),
              "gui_tick_ms": percentiles(np.asarray(work["tick"]) * 1000, 99),
              "gui_paint_ms": percentiles(np.asarray(work["paint"]) * 1000, 99),
              "behind_plan_ms": behind_plan(session),
              "restarts_total": len(getattr(session.engine, "restarts", ()))}
    result.update({name: stats(values) for name, values in sync_errors(session, log, args.seconds).items()})
    return result


def report(result: dict) -> None:
    print(f"[{result['mode']}] shown {result['shown']} frames ({result['shown_fps']:.1f}/s) of {result['rendered']}"
          f" rendered; dropped {result['late']} late, {result['stale']} stale; render latency planned "
          f"{result['render_ms_estimate']:.0f} ms; load average {result['load_min']:.1f} (min), "
          f"{result['load_mean']:.1f} (mean); render process restarts {result['restarts_total']}")
    for name in ("vs_truth_steady", "vs_truth_all", "vs_clock"):
        s = result[name]
        if s["frames"]:
            print(f"  {name:16} {s['frames']:5d} frames  median {s['median_ms']:6.2f} ms  p90 {s['p90_ms']:6.2f}  "
                  f"p99 {s['p99_ms']:7.2f}  max {s['max_ms']:7.1f}  mean signed {s['mean_signed_ms']:+.2f}")
    gaps, tick, paint, lag = (result[k] for k in ("tick_gap_ms", "gui_tick_ms", "gui_paint_ms", "behind_plan_ms"))
    print(f"  display gaps: median {gaps['p50']:.1f} ms, p95 {gaps['p95']:.1f}, p99 {gaps['p99']:.1f}, "
          f"max {gaps['max']:.1f} (period {result['display_period_ms']:.0f} ms)")
    print(f"  GUI thread CPU: tick p99 {tick['p99']:.2f} ms, max {tick['max']:.1f}; paint p99 {paint['p99']:.2f} ms, "
          f"max {paint['max']:.1f}; GUI process {100 * result['gui_process_cpu']:.0f} % of a core")
    print(f"  shown behind plan: median {lag['p50']:.1f} ms, p95 {lag['p95']:.1f}, p99 {lag['p99']:.1f}, "
          f"max {lag['max']:.1f}; median first third {lag['first_third_p50']:.1f}, last third "
          f"{lag['last_third_p50']:.1f}; rendered after their tick {100 * lag['missed_tick']:.1f} %")
    for k, r in enumerate(result.get("restarts", []), 1):
        times = "  ".join(f"{name} {r[name]:.3f}" if r[name] is not None else f"{name} -"
                          for name in ("noticed_s", "frames_back_s", "shown_s"))
        print(f"  kill {k}: {r['reason']}; {times}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each session (default 60)")
    parser.add_argument("--preset", default="neon", help="preset name or .toml path (default neon)")
    parser.add_argument("--size", default="256x256", help="render size (default 256x256)")
    parser.add_argument("--busy", type=int, default=4, help="busy-loop processes keeping the cores busy (default 4)")
    parser.add_argument("--modes", default="process,thread",
                        help="where the renderer runs, in order: process, thread, restart (process with kills)")
    parser.add_argument("--kills", type=int, default=6, help="render processes killed in the restart mode (default 6)")
    parser.add_argument("--refresh", type=float, default=60.0, help="display refresh, Hz (default 60)")
    parser.add_argument("--jitter-ms", type=float, default=2.0, help="sender stamp/send jitter, +- ms (default 2)")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)

    from renderer.devices import wait_passively

    wait_passively()
    print(f"{args.seconds:.0f} s sessions, preset {args.preset} at {args.size}, {args.refresh:g} Hz, "
          f"{platform.machine()} {os.cpu_count()} cores, {args.busy} busy-loop processes")
    busy = start_busy(args.busy)
    try:
        results = []
        for mode in args.modes.split(","):
            results.append(run_session(mode, args))
            report(results[-1])
    finally:
        for process in busy:
            process.kill()
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
