"""Timing the render path: ms per frame (median, p95), frames/s, peak memory and flicker.

Used by ``barlight bench`` and ``bench/bench_renderer.py``. Frames are rendered through the
real path (``moment_at`` -> ``Renderer.render`` with state) on a synthesised 120 bpm click
track analysed by the real feature extractor, so conditioning and feedback costs are included.
"""

from __future__ import annotations

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
