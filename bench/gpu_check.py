"""Every GPU figure of docs/benchmarks.md in one run: ``bench/gpu_check.sh`` calls this after installing.

    python bench/gpu_check.py --out DIR [--tiny] [--budget-seconds 420]

Full-size SD-Turbo, SDXL-Turbo and SD 1.5 + LCM with random weights (the compute of a model does not
depend on its weights) through the whole Barlight path, with every stream-speed technique on, each one
off, the plain diffusers pipeline through the same path, and a direct ``AutoPipelineForImage2Image``
call, in the order of :data:`PLAN` (the issue's goals first). A run that would pass the time budget is
skipped and said so. Writes ``DIR/gpu_check.json`` (everything) and ``DIR/gpu_check.txt`` (one line a run).

``--tiny`` runs the same code on a CPU at reduced width, 64x64, one timed frame, each variant once and the
slow add-ons left out (a test runs it, so this script cannot rot; its numbers say nothing about the full
models).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

#: (architecture, size, variants, frames) in priority order; "plain call" is the direct pipeline call.
PLAN: tuple[tuple[str, tuple[int, int], tuple[str, ...], int], ...] = (
    ("sd-turbo", (512, 512), ("stream", "-async_copy", "-render_ahead", "+skip_similar", "plain call"), 100),
    ("sdxl-turbo", (1024, 1024), ("stream", "plain call"), 40),
    ("sdxl-turbo", (512, 512), ("stream", "plain call"), 60),
    ("sd15-lcm", (512, 512), ("stream", "-stream_batch", "plain call"), 60),
    ("sd-turbo", (512, 512), ("-cache_prompts", "-taesd", "-half", "-channels_last", "-cuda_graphs", "pipeline"), 100),
    ("sdxl-turbo", (1024, 1024), ("-taesd", "-cuda_graphs", "-render_ahead", "pipeline"), 40),
    ("sd15-lcm", (512, 512), ("-cuda_graphs", "pipeline"), 60),
    ("sd-turbo", (512, 512), ("+compile",), 100),
    ("sdxl-turbo", (1024, 1024), ("+compile",), 40),
)
#: Left out of --tiny: compiling takes minutes on a CPU.
SLOW = ("+compile",)
#: Run for every architecture in --tiny; any other variant once, on the first architecture that has it.
EVERY_ARCHITECTURE = ("stream", "plain call")


def runs(tiny: bool):
    """The plan as (architecture, size, variant, frames, warmup) runs. ``tiny``: 64x64, one timed frame, each
    code path once (every architecture's stream path and plain call, each other variant on one architecture)."""
    done: set[tuple[str, str]] = set()
    for name, size, variants, frames in PLAN:
        for variant in variants:
            key = (name if variant in EVERY_ARCHITECTURE else "", variant)
            if tiny and (variant in SLOW or key in done):
                continue
            done.add(key)
            yield name, (64, 64) if tiny else size, variant, 1 if tiny else frames, 1 if tiny else 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for gpu_check.json and gpu_check.txt")
    parser.add_argument("--tiny", action="store_true", help="the same plan on the CPU at reduced width")
    parser.add_argument("--budget-seconds", type=float, default=420.0, help="skip runs past this (default 420)")
    args = parser.parse_args(argv)
    from renderer.devices import SMALL_MODEL_THREADS, apply_cpu_policy, pick_device, wait_passively

    wait_passively()  # before torch loads: idle OpenMP threads sleep
    from renderer.backends.architectures import architecture
    from renderer.benchmark import (ArchitectureBench, BackendCache, bench_track, machine, measure_variant,
                                    plain_pipeline_call, stream_variants)
    device = "cpu" if args.tiny else pick_device("cuda")
    if args.tiny:
        apply_cpu_policy(None, SMALL_MODEL_THREADS)  # reduced models: one thread beats two on a busy CPU
    started = time.perf_counter()
    track = bench_track(seconds=3.0 if args.tiny else 8.0)
    cache = BackendCache()
    results, lines = [], []
    for name, size, variant_name, frames, warmup in runs(args.tiny):
        bench = ArchitectureBench(name, size, device, reduced=args.tiny, frames=frames, warmup=warmup,
                                  clock_seconds=0.2 if args.tiny else 2.0)
        label = f"{name} {size[0]}x{size[1]} {variant_name}"
        elapsed = time.perf_counter() - started
        if elapsed > args.budget_seconds:
            result = {"name": variant_name, "skipped": f"time budget ({elapsed:.0f} s > {args.budget_seconds:.0f} s)"}
        elif variant_name == "plain call":
            result = plain_pipeline_call(bench, max(1, frames // 3), cache)
        else:
            variant = next(v for v in stream_variants(architecture(name).steps) if v.name == variant_name)
            result = measure_variant(bench, variant, track, cache)
        result.update(architecture=name, size=list(size), reduced=args.tiny, seconds=time.perf_counter() - started)
        results.append(result)
        lines.append(_line(label, result))
        print(lines[-1], file=sys.stderr, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "device": device, "tiny": args.tiny, "results": results,
              "goals": _goals(results), "seconds": time.perf_counter() - started}
    (out / "gpu_check.json").write_text(json.dumps(report, indent=1))
    (out / "gpu_check.txt").write_text("\n".join(lines) + "\n")
    errors = [r for r in results if "error" in r]
    print(f"{len(results)} runs, {len(errors)} failed, {report['seconds']:.0f} s; wrote {out / 'gpu_check.json'}",
          file=sys.stderr)
    return 1 if errors and len(errors) == len(results) else 0


def _line(label: str, result: dict) -> str:
    if "skipped" in result:
        return f"{label:38s} skipped: {result['skipped']}"
    if "error" in result:
        return f"{label:38s} error: {result['error']}"
    extra = ""
    if "clock" in result:
        clock = result["clock"]
        extra = (f"  clock {clock['fps_target']:g} Hz: {clock['rendered']}/{clock['due']} rendered, "
                 f"{clock['skipped']} skipped, {clock['late']} late, latency {clock['latency_ms_median']:.1f} ms")
    return f"{label:38s} {result['fps']:8.1f} frames/s {result['ms_per_frame']:8.2f} ms/frame{extra}"


def _goals(results: list[dict]) -> dict:
    """The issue's goals: SD-Turbo 512 >= 100 frames/s, SDXL-Turbo 1024 >= 20, each >= 5x the plain call;
    ``met`` is None where either figure was not measured (a tiny run, or skipped by the time budget)."""
    def fps(name: str, size: int, variant: str) -> float | None:
        found = [r for r in results if r.get("architecture") == name and r.get("size") == [size, size]
                 and r.get("name") == variant and "fps" in r]
        return found[0]["fps"] if found else None

    goals = {}
    for name, size, target in (("sd-turbo", 512, 100.0), ("sdxl-turbo", 1024, 20.0)):
        stream, plain = fps(name, size, "stream"), fps(name, size, "plain call")
        measured = stream is not None and plain is not None
        goals[f"{name} {size}"] = {"fps": stream, "target_fps": target, "plain_call_fps": plain,
                                   "speedup": stream / plain if measured and plain else None,
                                   "met": stream >= target and stream >= 5 * plain if measured else None}
    return goals


if __name__ == "__main__":
    raise SystemExit(main())
