"""Timing the render path: ms per frame (median, p95), frames/s, peak memory and flicker.

Used by ``barlight bench``, ``bench/bench_renderer.py`` and ``bench/gpu_check.sh``. Frames are
rendered through the real path (``moment_at`` -> conditioning -> prompt blend -> seed walk ->
img2img feedback -> decode -> post-processing -> uint8 frame in host memory) on a synthesised
120 bpm click track analysed by the real feature extractor, so every cost is included.

:func:`run_architecture_bench` measures a full-size architecture (random weights) with every
stream-speed technique on, then each one off (or, for the add-ons, on), the plain diffusers
pipeline through the same path, and a direct ``AutoPipelineForImage2Image`` call, in one run.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

BENCH_BPM = 120.0
BENCH_FPS = 30.0


@dataclass(frozen=True)
class BenchResult:
    """One backend's numbers; ``ms_*`` are milliseconds per frame, ``fps`` frames per second."""

    backend: str
    preset: str
    model: str
    weights: str
    device: str
    width: int
    height: int
    frames: int
    ms_median: float
    ms_p95: float
    fps: float
    peak_memory_mib: float
    memory_kind: str
    flicker: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bench_track(seconds: float = 8.0, sample_rate: int = 22050):
    """Features of a synthesised pad with a click on every beat at 120 bpm (a temp file, analysed)."""
    import soundfile as sf

    from bridge.features import analyze_file

    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = 0.2 * np.sin(2 * np.pi * 220.0 * t) + 0.1 * np.sin(2 * np.pi * 330.0 * t)
    rng = np.random.default_rng(0)
    for start in np.arange(0.0, seconds, 60.0 / BENCH_BPM):
        i = int(start * sample_rate)
        n = min(400, len(signal) - i)
        signal[i:i + n] += 0.8 * rng.standard_normal(n) * np.exp(-np.arange(n) / 80.0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.wav"
        sf.write(path, np.clip(signal, -1, 1).astype(np.float32), sample_rate)
        return analyze_file(path)


def _peak_memory_mib(device: str) -> tuple[float, str]:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20, "cuda allocated"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (rss / 2**20 if sys.platform == "darwin" else rss / 1024.0), "process peak RSS"


def run_bench(renderer: Any, frames: int = 60, warmup: int = 3, track: Any = None,
              weights: str = "trained") -> BenchResult:
    """Render ``warmup + frames`` consecutive 30 fps frames from bar 2 on; time the last ``frames``."""
    from bridge.timeline.tempo_map import TempoMap
    from renderer.coherence import flicker
    from renderer.moment import moment_at

    if frames < 1:
        raise ValueError("frames must be >= 1")
    track = bench_track() if track is None else track
    tempo_map = TempoMap.constant(BENCH_BPM)
    device = renderer.backend.device
    cuda = device.startswith("cuda")
    if cuda:
        import torch

        torch.cuda.reset_peak_memory_stats()
    state = None
    times: list[float] = []
    images = []
    start_seconds = 2.0
    for k in range(warmup + frames):
        moment = moment_at(tempo_map, track, start_seconds + k / BENCH_FPS, window_beats=renderer.preset.window_beats)
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        result = renderer.render(moment, state)
        if cuda:
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - t0
        state = result.state
        if k >= warmup:
            times.append(elapsed)
            images.append(result.frame)
    ms = np.array(times) * 1000.0
    memory, kind = _peak_memory_mib(device)
    return BenchResult(
        backend=renderer.backend.name, preset=renderer.preset.name,
        model=str(getattr(renderer.backend.config, "model", None) or "shipped"), weights=weights, device=device,
        width=renderer.size[0], height=renderer.size[1], frames=frames,
        ms_median=float(np.median(ms)), ms_p95=float(np.percentile(ms, 95)),
        fps=float(len(ms) / (ms.sum() / 1000.0)), peak_memory_mib=float(memory), memory_kind=kind,
        flicker=flicker(images),
    )


def machine() -> dict[str, Any]:
    """Where the numbers came from."""
    import torch

    info: dict[str, Any] = {
        "platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    try:
        info["load_average_1min"] = os.getloadavg()[0]
    except OSError:
        pass
    return info


# -- the stream-speed techniques, measured on a full-size architecture ---------------------------

#: Settings of the stream path with every technique on (``compile`` and ``skip_similar`` are add-ons:
#: compiling costs minutes, skipping changes the pictures). Half precision falls back to float32 on a CPU.
STREAM_BASE: dict[str, Any] = {"stream": True, "cache_prompts": True, "vae": "taesd", "dtype": "float16",
                               "channels_last": True, "cuda_graphs": True, "compile": False}
#: Near-identical frames are skipped below this conditioning change (``+skip_similar``).
SKIP_SIMILAR = 0.03


@dataclass(frozen=True)
class Variant:
    """One measured configuration: ``backend`` overrides :data:`STREAM_BASE`; the Renderer's ``async_copy``
    and ``skip_similar``; ``depth`` frames in flight in the render-ahead queue."""

    name: str
    backend: dict[str, Any]
    async_copy: bool = True
    depth: int = 2
    skip_similar: float = 0.0


def stream_variants(steps: int) -> list[Variant]:
    """All on (``stream``), each technique off (``-name``), the add-ons (``+name``), and the plain diffusers
    pipeline through the same Barlight path (``pipeline``)."""
    base = {**STREAM_BASE, "stream_batch": steps > 1}
    off = {"cache_prompts": {"cache_prompts": False}, "taesd": {"vae": None}, "half": {"dtype": "float32"},
           "channels_last": {"channels_last": False}, "cuda_graphs": {"cuda_graphs": False}}
    if steps > 1:
        off["stream_batch"] = {"stream_batch": False}
    variants = [Variant("stream", base), Variant("-async_copy", base, async_copy=False),
                Variant("-render_ahead", base, depth=1), Variant("+skip_similar", base, skip_similar=SKIP_SIMILAR)]
    variants += [Variant(f"-{name}", {**base, **change}) for name, change in off.items()]
    variants += [Variant("+compile", {**base, "compile": True}),
                 Variant("pipeline", {**base, "stream": False, "vae": None, "stream_batch": False}, depth=1)]
    return variants


def bench_moments(renderer: Any, track: Any, count: int, start_seconds: float = 2.0) -> list[Any]:
    """``count`` consecutive 30 fps moments of the bench track from ``start_seconds`` on."""
    from bridge.timeline.tempo_map import TempoMap
    from renderer.moment import moment_at

    tempo_map = TempoMap.constant(BENCH_BPM)
    return [moment_at(tempo_map, track, start_seconds + k / BENCH_FPS, window_beats=renderer.preset.window_beats)
            for k in range(count)]


def run_ahead(renderer: Any, moments: list[Any], warmup: int, depth: int) -> dict[str, Any]:
    """Throughput through the render-ahead queue (``depth`` in flight): frames/s over the timed frames,
    ms of wall time per frame, submit-to-host latency, flicker and the frames skipped as near-identical."""
    from renderer.ahead import AheadJob, RenderAhead
    from renderer.coherence import flicker

    ahead = RenderAhead(renderer, depth=depth)
    state = None
    for frame in ahead.run(AheadJob(m) for m in moments[:warmup]):
        state = frame.result.state
    _sync(renderer.backend.device)
    skipped_before = renderer.skipped
    started = time.perf_counter()
    frames = list(ahead.run((AheadJob(m) for m in moments[warmup:]), state))
    wall = time.perf_counter() - started
    latency = np.array([f.latency_seconds for f in frames]) * 1000.0
    return {"frames": len(frames), "fps": len(frames) / wall, "ms_per_frame": wall * 1000.0 / len(frames),
            "latency_ms_median": float(np.median(latency)), "latency_ms_p95": float(np.percentile(latency, 95)),
            "flicker": flicker(f.result.frame for f in frames), "skipped_similar": renderer.skipped - skipped_before}


def clock_run(renderer: Any, track: Any, seconds: float = 2.0, fps: float = 60.0, lead_frames: int = 3,
              depth: int = 2, frame_seconds: float = 0.05) -> dict[str, Any]:
    """Frames due on a real ``fps`` clock, each started at most ``lead_frames`` periods ahead of its due time
    (``frame_seconds``: the time per frame measured before): how many were rendered, skipped (could not be
    ready in time) and late (should be 0)."""
    from bridge.timeline.tempo_map import TempoMap
    from renderer.ahead import AheadJob, RenderAhead
    from renderer.moment import moment_at

    tempo_map = TempoMap.constant(BENCH_BPM)
    lead = lead_frames / fps
    t0 = time.perf_counter() + lead

    def jobs():
        for k in range(int(seconds * fps)):
            due = t0 + k / fps
            yield AheadJob(moment_at(tempo_map, track, 2.0 + k / fps, window_beats=renderer.preset.window_beats),
                           due_seconds=due, start_seconds=due - lead)

    frames = list(RenderAhead(renderer, depth=depth, frame_seconds=frame_seconds).run(jobs()))
    done = [f for f in frames if not f.skipped]
    latency = np.array([f.latency_seconds for f in done] or [math.nan]) * 1000.0
    return {"fps_target": fps, "lead_ms": lead * 1000.0, "due": len(frames), "rendered": len(done),
            "skipped": len(frames) - len(done), "late": sum(f.late for f in frames),
            "latency_ms_median": float(np.median(latency)), "latency_ms_p95": float(np.percentile(latency, 95))}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _reset_peak(device: str) -> None:
    """Free what the last model left on the GPU and restart its peak-memory count (nothing to do on a CPU)."""
    if device.startswith("cuda"):
        import gc

        import torch

        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


@dataclass(frozen=True)
class ArchitectureBench:
    """What to measure: an architecture with random weights at ``size`` on ``device`` (``reduced``: the
    CPU stand-in at a fraction of the width), ``frames`` timed after ``warmup``, the ``variants`` named."""

    architecture: str
    size: tuple[int, int]
    device: str
    reduced: bool = False
    frames: int = 60
    warmup: int = 5
    variants: tuple[str, ...] | None = None  #: None: every variant of :func:`stream_variants`
    clock_seconds: float = 2.0


class BackendCache:
    """The last backend built, reused by the next variant with the same backend settings (the renderer-level
    variants): one build and one CUDA-graph capture instead of several. Holds one, so memory stays one model's."""

    def __init__(self) -> None:
        self.key: tuple | None = None
        self.backend: Any = None

    def get(self, key: tuple, build: Any, device: str) -> Any:
        if key != self.key:
            self.key, self.backend = None, None  # free the old model before building the next
            _reset_peak(device)
            self.backend, self.key = build(), key
        return self.backend


def architecture_renderer(bench: ArchitectureBench, variant: Variant, cache: BackendCache | None = None) -> Any:
    """A Renderer over the architecture with random weights, configured as ``variant``."""
    from renderer.backends.architectures import architecture
    from renderer.backends.diffusers import DiffusersBackend
    from renderer.presets import load_preset
    from renderer.renderer import Renderer

    arch = architecture(bench.architecture)
    settings = {**variant.backend, "vae": "taesd" if variant.backend.get("vae") else None}

    def build() -> Any:
        return DiffusersBackend(model=arch.name, random_weights=True, reduced=bench.reduced, steps=arch.steps,
                                device=bench.device, **settings)

    key = (arch.name, bench.size, bench.reduced, bench.device, *sorted(settings.items()))
    backend = (cache or BackendCache()).get(key, build, bench.device)
    preset = load_preset("turbo-xl" if arch.name == "sdxl-turbo" else "turbo")
    return Renderer(backend, preset, size=bench.size, async_copy=variant.async_copy,
                    skip_similar=variant.skip_similar)


def measure_variant(bench: ArchitectureBench, variant: Variant, track: Any,
                    cache: BackendCache | None = None) -> dict[str, Any]:
    """One variant's numbers (or the one-line error that stopped it); ``cache`` shares a backend with the
    variant before when their backend settings are the same."""
    started = time.perf_counter()
    try:
        renderer = architecture_renderer(bench, variant, cache)
        built = time.perf_counter() - started
        _reset_peak(bench.device)
        moments = bench_moments(renderer, track, bench.warmup + bench.frames)
        numbers = run_ahead(renderer, moments, bench.warmup, variant.depth)
    except Exception as err:  # one variant failing (e.g. compile on an odd machine) must not end the run
        return {"name": variant.name, "error": f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"}
    memory, kind = _peak_memory_mib(bench.device)
    backend = renderer.backend
    out = {"name": variant.name, **numbers, "build_seconds": built, "peak_memory_mib": memory, "memory_kind": kind,
           "dtype": str(backend.dtype).replace("torch.", ""), "frames_late": backend.frames_late,
           "in_force": backend.describe()["in_force"], "settings": {**variant.backend, "async_copy": variant.async_copy,
                                                                   "depth": variant.depth,
                                                                   "skip_similar": variant.skip_similar}}
    if variant.name == "stream" and bench.clock_seconds > 0:
        out["clock"] = clock_run(renderer, track, bench.clock_seconds, frame_seconds=numbers["ms_per_frame"] / 1000.0)
    return out


def plain_pipeline_call(bench: ArchitectureBench, frames: int = 20, cache: BackendCache | None = None
                        ) -> dict[str, Any]:
    """The reference: ``AutoPipelineForImage2Image`` called directly (fp16, full VAE, SD-Turbo's documented
    img2img: strength 0.5 and twice the steps), prompt embeddings given, numpy out; ms per call."""
    from renderer.backends.diffusers import quiet_diffusers

    try:
        renderer = architecture_renderer(bench, Variant("plain", {**STREAM_BASE, "stream": False, "vae": None}), cache)
        backend = renderer.backend
        width, height = bench.size
        kwargs = backend.blend((("a city skyline at dusk", 1.0),))
        image = np.random.default_rng(0).random((1, height, width, 3), dtype=np.float32)
        pipe = backend.img2img
        times = []
        for k in range(bench.warmup + frames):
            _sync(bench.device)
            t0 = time.perf_counter()
            with backend._torch.inference_mode(), quiet_diffusers():
                pipe(image=image, strength=0.5, num_inference_steps=2 * backend.steps, guidance_scale=0.0,
                     output_type="np", **kwargs)
            _sync(bench.device)
            if k >= bench.warmup:
                times.append(time.perf_counter() - t0)
    except Exception as err:
        return {"name": "plain call", "error": f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"}
    ms = np.array(times) * 1000.0
    return {"name": "plain call", "frames": frames, "fps": float(1000.0 / ms.mean()), "ms_per_frame": float(ms.mean()),
            "ms_median": float(np.median(ms)), "pipeline": type(pipe).__name__}


def run_architecture_bench(bench: ArchitectureBench, track: Any = None,
                           say: Any = lambda text: None) -> dict[str, Any]:
    """Every variant of ``bench`` and the plain pipeline call, in one run: the JSON ``barlight bench`` prints."""
    from renderer.backends.architectures import architecture

    arch = architecture(bench.architecture)
    track = bench_track() if track is None else track
    wanted = stream_variants(arch.steps)
    if bench.variants is not None:
        unknown = set(bench.variants) - {v.name for v in wanted} - {"plain call"}
        if unknown:
            from bridge.errors import InputError

            raise InputError("--variants", f"unknown variant {sorted(unknown)[0]!r} (known: "
                                           f"{', '.join(v.name for v in wanted)}, plain call)")
        wanted = [v for v in wanted if v.name in bench.variants]
    results = []
    cache = BackendCache()
    for variant in wanted:
        results.append(measure_variant(bench, variant, track, cache))
        say(_summary(bench, results[-1]))
    if bench.variants is None or "plain call" in bench.variants:
        results.append(plain_pipeline_call(bench, max(1, bench.frames // 3), cache))
        say(_summary(bench, results[-1]))
    by_name = {r["name"]: r for r in results if "fps" in r}
    speedup = by_name["stream"]["fps"] / by_name["plain call"]["fps"] if {"stream", "plain call"} <= set(by_name) else None
    return {"architecture": arch.name, "reduced": bench.reduced, "size": list(bench.size), "device": bench.device,
            "steps": arch.steps, "results": results, "speedup_vs_plain_call": speedup,
            "fps": by_name["stream"]["fps"] if "stream" in by_name else None}


def _summary(bench: ArchitectureBench, result: dict[str, Any]) -> str:
    label = f"{bench.architecture}{' (reduced)' if bench.reduced else ''} {bench.size[0]}x{bench.size[1]} " \
            f"{result['name']:15s}"
    if "error" in result:
        return f"{label} error: {result['error']}"
    return f"{label} {result['fps']:8.1f} frames/s  {result['ms_per_frame']:7.2f} ms/frame"
