"""Frames per second of the embedded model (shipped weights) at 256x256 on this CPU.

    python bench/bench_embedded.py [--threads 2] [--frames 60] [--weights DIR]

Times the whole per-frame path the renderer runs: audio_context for the moment, the
pipeline call (1, 2 and 4 steps; img2img at strength 0.5 from the previous frame) and
the uint8 conversion. Prints one row per setting; numbers go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--weights", default=None)
    args = parser.parse_args()

    import numpy as np
    import torch

    from bridge.features import FeatureExtractor
    from renderer.embedded import audio_context, load_default_pipeline
    from renderer.embedded.songs import SAMPLE_RATE, synth_clip

    torch.set_num_threads(args.threads)
    pipe = load_default_pipeline(args.weights)
    audio, _ = synth_clip(11, seconds=8.0)
    track = FeatureExtractor(SAMPLE_RATE).analyze(audio)
    noise = torch.randn(pipe.noise_shape(1), generator=torch.Generator().manual_seed(0))
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, {args.size}x{args.size}, model {pipe.model_size}x{pipe.model_size}")
    print("| setting | ms/frame (median) | frames/s |")
    print("|---|---|---|")
    for steps, strength in ((1, None), (2, None), (4, None), (2, 0.5), (4, 0.5)):
        previous = None
        times = []
        for i in range(args.frames + 5):
            seconds = 1.0 + i / 30.0
            start = time.perf_counter()
            ctx = audio_context(track, seconds, (seconds * 2) % 1.0, (seconds / 2) % 1.0)
            kwargs = {} if strength is None or previous is None else {"image": previous, "strength": strength}
            frame = pipe(ctx, noise=noise, num_inference_steps=steps, height=args.size, width=args.size,
                         output_type="uint8", **kwargs).images[0]
            previous = frame if strength is not None else None
            if i >= 5:
                times.append(time.perf_counter() - start)
        ms = float(np.median(times)) * 1000
        label = f"{steps} step{'s' if steps > 1 else ''}" + (f", img2img strength {strength}" if strength else "")
        print(f"| {label} | {ms:.1f} | {1000 / ms:.1f} |")


if __name__ == "__main__":
    main()
