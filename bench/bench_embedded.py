"""Frames per second of the embedded model (shipped weights) on this CPU, by size and steps.

    python bench/bench_embedded.py [--threads 1] [--frames 60] [--sizes 256,512,1280x720] [--weights DIR]

Times the whole per-frame path the renderer runs: audio_context for the moment, the pipeline
call (1 and 2 steps, one prompt, the CPU speed-ups on as the backend runs it) and the uint8
conversion. Prints one row per setting; numbers go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--sizes", default="256,512,1280x720", help="comma-separated sizes: 256 or WIDTHxHEIGHT")
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()

    import numpy as np
    import torch

    from bridge.features import FeatureExtractor
    from renderer.embedded import audio_context, load_default_pipeline
    from renderer.embedded.songs import SAMPLE_RATE, synth_clip


    torch.set_num_threads(args.threads)
    pipe = load_default_pipeline(args.weights)
    pipe.set_progress_bar_config(disable=True)
    pipe.enable_cpu_speedups()
    prompt = pipe.prompt_row([("rings", 1.0)])
    audio, _ = synth_clip(11, seconds=8.0)
    track = FeatureExtractor(SAMPLE_RATE).analyze(audio)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}")
    print("| size | steps | ms/frame (median) | frames/s |")
    print("|---|---|---|---|")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x")) if "x" in size else (int(size), int(size))
        noise = torch.randn(pipe.noise_shape(1, height, width), generator=torch.Generator().manual_seed(0))
        for steps in (1, 2):
            times = []
            for i in range(args.frames + 5):
                seconds = 1.0 + i / 30.0
                start = time.perf_counter()
                ctx = audio_context(track, seconds, (seconds * 2) % 1.0, (seconds / 2) % 1.0)
                pipe(ctx, prompt, noise=noise, num_inference_steps=steps, height=height, width=width,
                     output_type="uint8")
                if i >= 5:
                    times.append(time.perf_counter() - start)
            ms = float(np.median(times)) * 1000
            print(f"| {width}x{height} | {steps} | {ms:.1f} | {1000 / ms:.1f} |")


if __name__ == "__main__":
    main()
