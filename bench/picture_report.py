"""The picture, measured as issue 18 asks: on a held-out FluidSynth song, with the shipped weights.

    python bench/picture_report.py [--heldout DIR] [--song 0] [--size 512] [--frames 24] [--json]

Prints, per embedded preset (through the Renderer, exactly as export draws): the median detail share
at SIZE, the lag-1 autocorrelation of that detail, the Hasler-Suesstrunk colourfulness, the flicker
on a steady pad and the motion-energy lag on a 120 BPM groove; how often a classifier on colour-blind
structure descriptors tells the presets apart, and the looks apart (model frames, fitted on one
half of the song, tested on the other); and Spearman's rho of the documented pairs in every look
on the held-out songs (:mod:`renderer.embedded.evaluation`). Numbers go to docs/benchmarks.md and
docs/model-card.md. The held-out songs are made with `barlight train`'s generator if DIR has none.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def song(heldout: Path, index: int):
    """(FeatureTrack, TempoMap, seconds) of held-out song ``index``."""
    import soundfile as sf

    from bridge.features import FeatureExtractor
    from bridge.timeline.tempo_map import TempoMap

    source = json.loads((heldout / "manifest.json").read_text())["sources"][index]
    audio, rate = sf.read(heldout / source["file"], dtype="float32", always_2d=True)
    track = FeatureExtractor(rate).analyze(audio.mean(axis=1))
    num, den = (int(v) for v in source["meter"].split("/"))
    tempo_map = TempoMap.constant(float(source["bpm"]), num, den)
    return track, tempo_map, len(audio) / rate


def looks_told_apart(pipe, track, tempo_map, seconds: float, frames: int, size: int) -> float:
    """Held-out accuracy of the structure classifier on the model's frames of each look word."""
    import numpy as np
    import torch

    from renderer.embedded import metrics
    from renderer.embedded.context import audio_context

    at = np.linspace(1.0, seconds - 1.0, frames)
    beats = np.array([tempo_map.beat_at(s) for s in at])
    ctx = audio_context(track, at, np.mod(beats, 1.0), np.mod(beats / 4.0, 1.0))
    features, labels = [], []
    for k, look in enumerate(pipe.look_names):
        noise = torch.randn(frames, *pipe.noise_shape(1, size, size)[1:], generator=torch.Generator().manual_seed(k))
        out = pipe(ctx, pipe.prompt_row([(look, 1.0)]), noise=noise, height=size, width=size).images
        features.append(metrics.structure_descriptors(out))
        labels.append(np.full(frames, k))
    x, y = np.concatenate(features), np.concatenate(labels)
    first = np.tile(np.arange(frames) < frames // 2, len(pipe.look_names))
    return metrics.held_out_accuracy(x[first], y[first], x[~first], y[~first])


def steady_flicker(preset: str, backend, start: float = 3.0) -> float:
    """Mean frame-to-frame change of ``preset`` over 1 s of a held chord at 30 fps (64 x 64, as the tests),
    from ``start`` seconds after the chord's attack: at 3 s the attack has left every window the
    conditioning reads (the model's onset density looks 2 s back), at 1 s it has not."""
    from bridge.features import FeatureExtractor
    from bridge.timeline.tempo_map import TempoMap
    from renderer.coherence import flicker
    from renderer.embedded.probes import pad_audio
    from renderer.embedded.songs import SAMPLE_RATE
    from renderer.moment import moment_at
    from renderer.renderer import Renderer

    track = FeatureExtractor(SAMPLE_RATE).analyze(pad_audio(start + 1.0))
    renderer = Renderer.from_preset(preset, backend=backend, size=(64, 64))
    state, frames = None, []
    for k in range(30):
        result = renderer.render(moment_at(TempoMap.constant(120.0), track, start + k / 30), state)
        state, frames = result.state, frames + [result.frame]
    return flicker(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", type=Path, default=Path("runs/embedded/heldout-seed0"))
    parser.add_argument("--song", type=int, default=0)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from renderer.backends.embedded import EmbeddedBackend
    from renderer.embedded.data import assemble_heldout
    from renderer.embedded.evaluation import PAIRS, correspondence_metrics, stability_metrics
    from renderer.preset_metrics import motion_lag, preset_report
    from renderer.presets import builtin_presets, load_preset

    torch.set_num_threads(1)
    heldout = assemble_heldout(args.heldout)
    track, tempo_map, seconds = song(args.heldout, args.song)
    presets = sorted(n for n in builtin_presets() if load_preset(n).backend == "embedded")
    backend = EmbeddedBackend()
    report = preset_report(presets, track, tempo_map, seconds, size=args.size, frames=args.frames, backend=backend)
    for name in presets:
        row = report["presets"][name]
        row["flicker_steady"] = steady_flicker(name, backend)
        row["flicker_after_attack"] = steady_flicker(name, backend, start=1.0)
        lag = motion_lag(name, backend=backend)
        row["motion_lag_frames"], row["lock"] = lag["lag_frames"], lag["lock"]
        row["lock_frames"] = lag["beat_frames"] if lag["lock"] == "beat" else lag["bar_frames"]
    pipe = backend.pipe
    report["looks_told_apart"] = looks_told_apart(pipe, track, tempo_map, seconds, args.frames, 256)
    corr, frames = correspondence_metrics(pipe, heldout)
    report["correspondence"] = corr
    report["stability"] = stability_metrics(pipe, frames, heldout)
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"# held-out song {args.song} ({seconds:.0f} s), {args.size}x{args.size}, {args.frames} frames per preset")
    print("| preset | detail | detail autocorr | colourfulness | flicker: steady pad (1 s after its attack) | "
          "motion lag / lock (frames) |")
    print("|---|---|---|---|---|---|")
    for name in presets:
        r = report["presets"][name]
        mono = " (mono, exempt)" if r["monochrome"] else ""
        print(f"| {name} | {r['detail']:.3f} | {r['autocorr']:.2f} | {r['colourfulness']:.2f}{mono} | "
              f"{r['flicker_steady']:.4f} ({r['flicker_after_attack']:.4f}) | "
              f"{r['motion_lag_frames']:.0f} / {r['lock_frames']:.0f} ({r['lock']}) |")
    print(f"\npresets told apart: {report['told_apart']:.0%} (chance {1 / len(presets):.0%}); "
          f"looks told apart: {report['looks_told_apart']:.0%} (chance {1 / len(pipe.look_names):.0%})")
    print("\n| look | " + " | ".join(f"rho {a}-{v}" for a, v in PAIRS) + " |")
    print("|---|" + "---|" * len(PAIRS))
    for look in pipe.look_names:
        print(f"| {look} | " + " | ".join(f"{corr[f'{look}_rho_{a}_{v}']:.2f} (target "
                                        f"{corr[f'{look}_target_rho_{a}_{v}']:.2f})" for a, v in PAIRS) + " |")
    stab = report["stability"]
    print(f"\nsteady pad consecutive-frame MAE {stab['steady_consecutive_frame_mae_30fps']:.4f}, "
          f"across songs {stab['across_song_frame_mae']:.4f}")


if __name__ == "__main__":
    main()
