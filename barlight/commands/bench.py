"""``barlight bench``: ms per frame (median, p95), frames/s, peak memory and flicker per backend."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bridge.errors import InputError

HELP = "time the renderer: ms per frame, frames/s, peak memory, flicker, for each available backend"


def parse_size(text: str) -> tuple[int, int]:
    """``"256x256"`` -> ``(256, 256)``; width and height multiples of 8, 16..2048."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError("--size", f"expected WIDTHxHEIGHT like 256x256, got {text!r}") from None
    if not (16 <= width <= 2048 and 16 <= height <= 2048) or width % 8 or height % 8:
        raise InputError("--size", f"width and height must be multiples of 8 in 16..2048, got {text!r}")
    return width, height


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from renderer.backends.registry import BACKENDS

    parser.add_argument("--backend", action="append", choices=tuple(BACKENDS),
                        help="backend to time (repeatable; default: the preset's, without --preset every backend "
                             "that is available)")
    parser.add_argument("--preset", help="preset name or .toml path (default: the shipped default for embedded, "
                                         "turbo for diffusers)")
    parser.add_argument("--model", help="a short name from `barlight models` (sd-turbo), a diffusers folder or "
                        "Hub id (default: the preset's)")
    parser.add_argument("--size", help="frame size WxH, or several comma-separated (default 256x256,512x512; "
                                       "--architecture: 512x512, --tiny 64x64)")
    parser.add_argument("--frames", type=int, default=60, help="frames to time (default 60)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed frames first (default 3)")
    parser.add_argument("--device", help="cuda, mps or cpu (default: $BARLIGHT_DEVICE, else the best available)")
    parser.add_argument("--random-weights", action="store_true",
                        help="time an architecture with random weights, no download (embedded: the shipped one; "
                             "diffusers: --architecture)")
    parser.add_argument("--architecture", choices=("sd-turbo", "sdxl-turbo", "sd15-lcm"),
                        help="diffusers with --random-weights: the full-size architecture to time, with every "
                             "stream-speed technique on, each one off, and the plain diffusers pipeline")
    parser.add_argument("--tiny", action="store_true",
                        help="with --architecture: the architecture at a fraction of its width, float32 "
                             "(a CPU check of the same code path; numbers say nothing about the full model)")
    parser.add_argument("--variants", help="with --architecture: comma-separated variants to run "
                                           "(stream, -taesd, +compile, pipeline, plain call, ...; default all)")
    parser.add_argument("--clock-seconds", type=float, default=2.0,
                        help="with --architecture: seconds of frames due on a 60 Hz clock (render ahead, never late)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: the backend's; embedded uses 1 on CPU)")
    parser.add_argument("--json", action="store_true", help="print JSON (fields include fps)")


def _renderer(backend: str, args: argparse.Namespace, size: tuple[int, int], engine: Any = None) -> tuple[Any, str]:
    """A Renderer of ``backend`` at ``size`` (reusing ``engine``, the backend loaded for another size)."""
    from renderer.backends.registry import backend_class
    from renderer.presets import DEFAULT_PRESET, load_preset
    from renderer.renderer import Renderer

    preset = load_preset(args.preset or backend_class(backend).showcase_preset or DEFAULT_PRESET)
    weights = "random" if backend == "embedded" and args.random_weights else "trained"
    if engine is not None:
        return Renderer(engine, preset, size=size), weights
    if backend == "embedded" and args.random_weights:
        from renderer.backends.embedded import EmbeddedBackend
        from renderer.devices import pick_device

        engine = EmbeddedBackend(random_init="default", device=pick_device(args.device))
        return Renderer(engine, preset, size=size), "random"
    return Renderer.from_preset(preset, backend=backend, size=size, device=args.device, model=args.model), "trained"


def run_architecture(args: argparse.Namespace) -> int:
    """``--architecture``: the full-size architecture with random weights, every technique on and off."""
    import json

    from renderer.benchmark import ArchitectureBench, machine, run_architecture_bench
    from renderer.devices import apply_cpu_policy, check_threads, pick_device

    if not args.random_weights or (args.backend and args.backend != ["diffusers"]) or args.model:
        raise InputError("--architecture", "times random weights: pass --random-weights, "
                                           "with --backend diffusers and no --model")
    check_threads(args.threads)
    apply_cpu_policy(args.threads)
    size = parse_size(args.size) if args.size else ((64, 64) if args.tiny else (512, 512))
    variants = tuple(v.strip() for v in args.variants.split(",")) if args.variants else None
    bench = ArchitectureBench(args.architecture, size, pick_device(args.device), reduced=args.tiny,
                              frames=args.frames, warmup=args.warmup, variants=variants,
                              clock_seconds=args.clock_seconds)
    out = run_architecture_bench(bench, say=lambda line: print(line, file=sys.stderr, flush=True))
    out["machine"] = machine()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{out['architecture']}: stream path {out['fps'] or 0:.1f} frames/s, "
              f"{out['speedup_vs_plain_call'] or 0:.1f}x a plain AutoPipelineForImage2Image call")
    failed = [r["name"] for r in out["results"] if "error" in r]
    return 1 if failed and len(failed) == len(out["results"]) else 0


def run(args: argparse.Namespace) -> int:
    from renderer.backends.registry import BACKENDS
    from renderer.benchmark import bench_track, machine, run_bench
    from renderer.devices import apply_cpu_policy, check_threads
    from renderer.presets import load_preset

    if args.frames < 1 or args.warmup < 0:
        raise InputError("--frames", "must be >= 1 (and --warmup >= 0)")
    if args.architecture:
        return run_architecture(args)
    if args.tiny or args.variants:
        raise InputError("--tiny" if args.tiny else "--variants", "applies with --architecture only")
    sizes = [parse_size(text) for text in (args.size or "256x256,512x512").split(",")]
    check_threads(args.threads)
    asked = args.backend or ([load_preset(args.preset).backend] if args.preset else None)  # a broken preset: exit 2
    wanted = asked or list(BACKENDS)
    track = bench_track()
    results, skipped = [], []
    for backend in wanted:
        engine = None  # one model per backend, timed at every size
        for size in sizes:
            try:
                renderer, weights = _renderer(backend, args, size, engine)
            except InputError as err:
                if asked:  # asked for by name or by the preset: the user's error
                    raise
                skipped.append({"backend": backend, "reason": str(err)})
                break
            engine = renderer.backend
            apply_cpu_policy(args.threads)  # after loading: it overrides the backend's own default
            results.append(run_bench(renderer, args.frames, args.warmup, track, weights))
    if args.json:
        out = {"machine": machine(), "results": [r.to_dict() for r in results], "skipped": skipped,
               "fps": results[0].fps if results else None}
        print(json.dumps(out, indent=2))
    else:
        info = machine()
        print(f"machine: {info['platform']}, {info['cpu_count']} CPUs, torch {info['torch']}"
              + (f", {info['gpu']}" if "gpu" in info else ""))
        for r in results:
            print(f"{r.backend:9s} {r.preset:8s} {r.width}x{r.height} on {r.device} ({r.weights} weights): "
                  f"median {r.ms_median:.1f} ms, p95 {r.ms_p95:.1f} ms, {r.fps:.1f} frames/s, "
                  f"peak {r.peak_memory_mib:.0f} MiB ({r.memory_kind}), flicker {r.flicker:.4f}")
        for s in skipped:
            print(f"{s['backend']:9s} skipped: {s['reason']}", file=sys.stderr)
    if not results:
        print("nothing to time: pass --random-weights (embedded architecture) or --model FOLDER (diffusers)",
              file=sys.stderr)
        return 1
    return 0
