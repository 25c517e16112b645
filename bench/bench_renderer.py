"""Renderer figures for docs/benchmarks.md: the embedded backend at 256x256 on this machine's CPU,
with 1 and 2 torch threads, two presets (Neon: flashes and kicks; Ink: calm, heavy feedback).

    python bench/bench_renderer.py [--frames 60] [--random-weights]

Uses the shipped embedded weights when they exist; otherwise (or with --random-weights) the
shipped architecture with random weights, which costs the same per frame. Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import os

import torch

from renderer.benchmark import bench_track, machine, run_bench
from renderer.presets import load_preset
from renderer.renderer import Renderer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--random-weights", action="store_true")
    args = parser.parse_args()

    from renderer.backends.embedded import EmbeddedBackend
    from renderer.embedded.config import WEIGHTS_DIR

    trained = (WEIGHTS_DIR / "model_index.json").is_file() and not args.random_weights
    track = bench_track()
    info = machine()
    print(f"machine: {info['platform']}, {info['cpu_count']} CPUs, torch {info['torch']}, "
          f"load average {info.get('load_average_1min', float('nan')):.1f} at start")
    print("| backend | weights | preset | size | threads | median ms | p95 ms | frames/s | peak MiB | flicker |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for threads in (1, 2):
        for preset in ("neon", "ink"):
            backend = EmbeddedBackend() if trained else EmbeddedBackend(random_init="default")
            torch.set_num_threads(threads)  # after the backend, which picks 1 on CPU by default
            renderer = Renderer(backend, load_preset(preset), size=(256, 256))
            rows.append((threads, run_bench(renderer, args.frames, 5, track, "trained" if trained else "random")))
    for threads, r in rows:
        print(f"| {r.backend} | {r.weights} | {r.preset} | {r.width}x{r.height} | {threads} | {r.ms_median:.1f} | "
              f"{r.ms_p95:.1f} | {r.fps:.1f} | {r.peak_memory_mib:.0f} | {r.flicker:.4f} |")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
