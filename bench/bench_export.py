"""Export throughput: seconds of video per second of compute, for the embedded backend.

Runs the whole export (features, ``moment_at``, render, keyframe images, H.264 + AAC
encoding, keyframe files) on the first ``--seconds`` of the synthesised demo piece, at
256x256 / 24 fps and 512x512 / 30 fps by default, and prints a Markdown table for
docs/benchmarks.md. Uses the shipped weights, or the shipped architecture with random
weights (same cost per frame) when they are missing or with ``--random-weights``.

    python bench/bench_export.py [--seconds 8] [--threads 1 2] [--random-weights]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of audio to export (default 8 s)")
    parser.add_argument("--cases", nargs="+", default=["256x256@24", "512x512@30"],
                        help="WIDTHxHEIGHT@FPS cases (default 256x256@24 512x512@30)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1], help="torch thread counts to try (default 1)")
    parser.add_argument("--preset", default="neon")
    parser.add_argument("--random-weights", action="store_true", help="random DEFAULT_CONFIG weights (same cost)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from barlight.commands.export import prepare_cpu

    prepare_cpu(None)  # passive OpenMP waiting, as `barlight export` runs; before torch is imported
    import soundfile
    import torch

    from bridge.timeline.sources import load_timeline
    from renderer.backends import load_backend
    from renderer.embedded.config import WEIGHTS_DIR
    from renderer.export.demo import write_demo
    from renderer.export.job import run_export
    from renderer.export.request import ExportRequest
    from renderer.export.timing import BarRange, parse_fps, parse_size
    from renderer.renderer import Renderer

    random_weights = args.random_weights or not (WEIGHTS_DIR / "model_index.json").is_file()
    work = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        wav, mid, piece = write_demo(work / "piece")
        cut = work / "piece" / "cut.wav"
        frames = int(args.seconds * piece.sample_rate)
        soundfile.write(str(cut), piece.samples[:, :frames].T, piece.sample_rate, subtype="PCM_16")
        tempo_map = load_timeline(mid)
        backend = (load_backend("embedded", random_init="default", device="cpu") if random_weights
                   else load_backend("embedded", device="cpu"))
        print(f"# {platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, torch {torch.__version__}, "
              f"weights: {'random (shipped architecture)' if random_weights else 'shipped'}, "
              f"audio {args.seconds:g} s of the demo piece", file=sys.stderr)
        print("| size | fps | torch threads | frames | video s | wall s | cpu s | video s per compute s "
              "| ms per frame | load before → after |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for case in args.cases:
            size_text, fps_text = case.split("@")
            size, fps = parse_size(size_text), parse_fps(fps_text)
            for threads in args.threads:
                torch.set_num_threads(threads)
                renderer = Renderer.from_preset(args.preset, backend=backend, size=size)
                out = work / f"out-{size_text}-{fps_text}-{threads}"
                request = ExportRequest(audio=cut, out_dir=out, tempo_map=tempo_map, fps=fps, size=size,
                                        bars=BarRange(), preset=args.preset)
                load_before = os.getloadavg()[0]
                cpu_before = resource.getrusage(resource.RUSAGE_SELF)
                started = time.perf_counter()
                result = run_export(request, renderer=renderer, progress=False)
                wall = time.perf_counter() - started
                cpu_after = resource.getrusage(resource.RUSAGE_SELF)
                cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
                video = float(result.plan.duration_seconds)
                count = result.plan.frame_count
                print(f"| {size_text} | {fps_text} | {threads} | {count} | {video:.2f} | {wall:.1f} | {cpu:.1f} "
                      f"| **{video / wall:.2f}×** | {1000 * wall / count:.0f} | {load_before:.1f} → "
                      f"{os.getloadavg()[0]:.1f} |", flush=True)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
