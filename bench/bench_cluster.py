"""Distributed export speed-up: the demo piece exported locally, then on a local Ray cluster of 1 and 2 workers.

Prints a Markdown table for docs/scaling.md: wall time of each export (features, model loads,
rendering, encoding, joining, keyframe files; Ray's own start is timed apart), the render
rate while frames are rendered, the speed-ups of both against the local export, and whether
the files equal the local export's. Also the warm-up frames the coherence rule renders at
chunk starts (renderer/export/chunks.py).

    nice -n 10 python bench/bench_cluster.py [--size 128x128] [--fps 12] [--chunk-bars 2] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="128x128", help="WIDTHxHEIGHT (default 128x128)")
    parser.add_argument("--fps", default="12", help="frame rate (default 12)")
    parser.add_argument("--preset", default="neon")
    parser.add_argument("--chunk-bars", type=int, default=2, help="bars per chunk (default 2: 6 chunks)")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2], help="worker counts (default 1 2)")
    return parser.parse_args(argv)


def video_digest(path: Path) -> str:
    """Hash of the decoded frames and the audio packets."""
    import av

    digest = hashlib.sha256()
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            digest.update(frame.to_ndarray(format="rgb24").tobytes())
    with av.open(str(path)) as container:
        for packet in container.demux(audio=0):
            digest.update(bytes(packet))
    return digest.hexdigest()


def warmup_frames(request) -> tuple[int, int, int]:
    """(frames, warm-up frames a local export renders, warm-up frames the workers render) for ``request``."""
    from renderer.export.chunks import chain_start
    from renderer.export.job import prepare_export

    job = prepare_export(request)
    local = cluster = 0
    for chunk in job.chunks[1:]:
        start, exact = chain_start(chunk, lambda k: job.renderer.reads_previous(job.frame_moment(k),
                                                                                job.frame_moment(k - 1)))
        cluster += chunk.first_frame - start
        local += 0 if exact else chunk.first_frame - start
    return job.plan.frame_count, local, cluster


def seam_report(request) -> str:
    """The seams of ``request``'s chunks: its frames rendered in chunks and as one uncut chain, compared."""
    import dataclasses

    import numpy as np

    from renderer.coherence import frame_changes
    from renderer.export.job import prepare_export, render_frames

    job = prepare_export(request)
    one_chunk = dataclasses.replace(job.chunks[0], stop_frame=job.plan.frame_count)
    uncut_job = dataclasses.replace(job, chunks=(one_chunk,))  # the whole export as one chain
    chunked = [result.frame for _, result in render_frames(job, 0, job.plan.frame_count)]
    uncut = [result.frame for _, result in render_frames(uncut_job, 0, job.plan.frame_count)]
    changes, uncut_changes = frame_changes(chunked), frame_changes(uncut)
    boundaries = [chunk.first_frame for chunk in job.chunks[1:]]
    elsewhere = np.delete(changes, [frame - 1 for frame in boundaries])
    added = max(abs(changes[k - 1] - uncut_changes[k - 1]) for k in boundaries)
    level = [np.abs(chunked[k].astype(int) - uncut[k]) for k in boundaries]
    return (f"Seams ({len(boundaries)} chunk boundaries, {len(elsewhere)} other frame changes): changes elsewhere "
            f"median {np.median(elsewhere):.4f}, 99th percentile {np.percentile(elsewhere, 99):.4f}; across "
            f"boundaries {', '.join(f'{changes[k - 1]:.4f}' for k in boundaries)} (uncut chain at the same frames "
            f"{', '.join(f'{uncut_changes[k - 1]:.4f}' for k in boundaries)}); the cut adds at most {added:.5f}; "
            f"boundary frames differ from the uncut chain's by at most {max(d.mean() for d in level):.2f} levels "
            f"of 255 on average, {max(d.max() for d in level)} at most.")


def rate(looks: list[tuple[float, int]]) -> float:
    """Frames per second between the first and the last ``(seconds, frames done)`` look with frames done."""
    rendering = [(t, n) for t, n in looks if n > 0]
    (t0, n0), (t1, n1) = rendering[0], rendering[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else float("nan")


def timed_export(request, workers: int | None) -> tuple[float, float]:
    """(wall seconds, render frames per second) of one export: local (``workers`` None) or on a cluster."""
    from renderer.export.cluster import ClusterSpec, run_cluster_export
    from renderer.export.job import run_export

    looks: list[tuple[float, int]] = []
    started = time.perf_counter()
    if workers is None:
        run_export(request, progress=False, on_frame=lambda k: looks.append((time.perf_counter(), k + 1)))
    else:
        run_cluster_export(request, ClusterSpec("local", workers), progress=False,
                           on_progress=lambda status: looks.append((time.perf_counter(), status.frames_done)))
    return time.perf_counter() - started, rate(looks)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from barlight.commands.export import prepare_cpu

    prepare_cpu(None)  # passive OpenMP waiting, as `barlight export` runs; before torch is imported
    import ray

    from renderer.export.cluster import local_init_options
    from renderer.export.demo import demo_tempo_map, write_demo
    from renderer.export.request import ExportRequest
    from renderer.export.timing import parse_fps, parse_size

    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    audio, _midi, _piece = write_demo(work / "piece")

    def request(name: str) -> ExportRequest:
        return ExportRequest(audio=audio, out_dir=work / name, tempo_map=demo_tempo_map(), preset=args.preset,
                             fps=parse_fps(args.fps), size=parse_size(args.size), chunk_bars=args.chunk_bars)

    seams = seam_report(request("plan"))
    frames, local_warm, cluster_warm = warmup_frames(request("plan"))
    print(f"# {platform.machine()} {os.cpu_count()} CPUs, ray {ray.__version__}, demo piece (24 s, 12 bars), "
          f"{args.size} at {args.fps} fps, preset {args.preset}, chunks of {args.chunk_bars} bars; "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    local_wall, local_rate = timed_export(request("local"), None)
    reference = video_digest(work / "local" / "barlight-demo.mp4")
    print("| export | workers | wall s | speed-up (wall) | render frames/s | speed-up (render) | same video |")
    print("|---|---|---|---|---|---|---|")
    print(f"| local | - | {local_wall:.1f} | 1.00 | {local_rate:.1f} | 1.00 | - |")
    started = time.perf_counter()
    ray.init(**local_init_options(max(args.workers)))  # as --cluster local starts it
    ray_start = time.perf_counter() - started
    try:
        for workers in args.workers:
            wall, render_rate = timed_export(request(f"cluster-{workers}"), workers)
            same = video_digest(work / f"cluster-{workers}" / "barlight-demo.mp4") == reference
            print(f"| cluster | {workers} | {wall:.1f} | {local_wall / wall:.2f} | {render_rate:.1f} | "
                  f"{render_rate / local_rate:.2f} | {'yes' if same else 'NO'} |")
    finally:
        ray.shutdown()
    print(f"\nRay's own start: {ray_start:.1f} s. Frames: {frames}; warm-up frames rendered at chunk starts: "
          f"{local_warm} by a local export, {cluster_warm} by the workers. "
          f"Load average after: {os.getloadavg()[0]:.1f}.\n\n{seams}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
