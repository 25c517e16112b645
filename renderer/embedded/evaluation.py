"""Held-out evaluation: do generated frames follow the audio per the documented correspondence, in every look?

For held-out moments the pipeline renders a frame per look (fixed composition noise per song,
one step, 128 x 128 measured); :func:`renderer.embedded.correspondence.image_qualities`
measures it; Spearman's rho compares each audio quality with its picture quality, per look.
Also: the same numbers for the looks' own targets (the ceiling), diversity across songs vs
change within a steady passage, and a contact sheet.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bridge.files import atomic_output, write_atomic
from renderer.embedded.context import SCALAR, audio_context
from renderer.embedded.correspondence import image_qualities
from renderer.embedded.data import HELDOUT_MOMENTS_PER_SECOND, HELDOUT_SEED_BASE, Dataset

#: (audio quality from the context scalars, picture quality) pairs with a rho threshold.
PAIRS: tuple[tuple[str, str], ...] = (
    ("loudness", "luminance"),
    ("brightness", "temperature"),
    ("edges", "edge_density"),
)
RHO_THRESHOLD = 0.8
HELDOUT_SEED = HELDOUT_SEED_BASE + 6  # a held-out song beyond the evaluation's six (seeds +0..+5)
SIZE = 128  # side of the measured frames
ROWS = 240  # held-out moments measured per look (evenly spread)


def audio_qualities(context: np.ndarray) -> dict[str, np.ndarray]:
    """The audio side of each pair, from the conditioning rows (documented transforms of the features)."""
    c = np.asarray(context)
    return {
        "loudness": c[:, SCALAR["loudness"]],
        "brightness": c[:, SCALAR["brightness"]],
        "edges": 0.6 * c[:, SCALAR["onset_density"]] + 0.4 * c[:, SCALAR["noisiness"]],
        "onset_density": c[:, SCALAR["onset_density"]],
    }


def song_noise(pipe, source: np.ndarray, seed: int = 1234, size: int = SIZE) -> torch.Tensor:
    """One composition noise per source id (fixed within a song)."""
    shape = pipe.noise_shape(1, size, size)
    out = torch.empty(len(source), *shape[1:])
    for sid in np.unique(source):
        out[source == sid] = torch.randn(shape, generator=torch.Generator().manual_seed(seed + int(sid)))
    return out


def look_prompt(pipe, look: str | None) -> np.ndarray:
    """The meaning row of a prompt naming one look (None: the empty prompt)."""
    return pipe.prompt_row([(look or "", 1.0)])


def render(pipe, context: np.ndarray, noise: torch.Tensor, look: str | None = None, steps: int = 1,
           size: int = SIZE, batch: int = 32) -> np.ndarray:
    prompt = look_prompt(pipe, look)
    frames = []
    for i in range(0, len(context), batch):
        frames.append(pipe(context[i:i + batch], prompt=prompt, noise=noise[i:i + batch], num_inference_steps=steps,
                           height=size, width=size).images)
    return np.concatenate(frames)


def reference(pipe, context: np.ndarray, noise: torch.Tensor, look: str | None = None, size: int = SIZE) -> np.ndarray:
    """The looks' own frames for the same rows (targets through the pipeline's decoder): the ceiling."""
    from renderer.embedded.looks import render, scene_from_context

    prompt = torch.from_numpy(look_prompt(pipe, look)).expand(len(context), -1)
    n = len(pipe.looks)
    scene = scene_from_context(torch.from_numpy(context).float(), palette=prompt[:, n:-2].reshape(len(context), -1, 3),
                               scale=prompt[:, -2], motion=prompt[:, -1])
    return render(prompt[:, :n], scene, noise, size, size, decoder=pipe.decoder, looks=pipe.looks).permute(0, 2, 3, 1).numpy()


def evenly(data: Dataset, rows: int = ROWS) -> Dataset:
    """At most ``rows`` rows spread evenly over ``data``."""
    pick = np.unique(np.linspace(0, len(data) - 1, min(rows, len(data))).round().astype(int))
    return Dataset(data.context[pick], data.source[pick], data.seconds[pick])


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b)[0])


def circular_correlation(a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean cos of the angle difference between two cyclic 0..1 quantities (1: equal, 0: unrelated)."""
    w = np.ones_like(a) if weights is None else weights
    return float(np.sum(w * np.cos(2 * np.pi * (a - b))) / max(np.sum(w), 1e-9))


def correspondence_metrics(pipe, data: Dataset, steps: int = 1) -> tuple[dict[str, Any], np.ndarray]:
    """Spearman's rho per documented pair in every look (and the worst look), with the targets' ceiling."""
    data = evenly(data)
    noise = song_noise(pipe, data.source)
    audio = audio_qualities(data.context)
    out: dict[str, Any] = {"rows": int(len(data)), "songs": int(len(np.unique(data.source))), "steps": steps}
    first = None
    for look in pipe.look_names:
        frames = render(pipe, data.context, noise, look, steps=steps)
        first = frames if first is None else first
        measured, ceiling = image_qualities(frames), image_qualities(reference(pipe, data.context, noise, look))
        for a, v in PAIRS:
            out[f"{look}_rho_{a}_{v}"] = spearman(audio[a], measured[v])
            out[f"{look}_target_rho_{a}_{v}"] = spearman(audio[a], ceiling[v])
    for a, v in PAIRS:
        out[f"min_rho_{a}_{v}"] = min(out[f"{look}_rho_{a}_{v}"] for look in pipe.look_names)
    return out, first


def stability_metrics(pipe, frames: np.ndarray, data: Dataset, steps: int = 1) -> dict[str, Any]:
    """Diversity across songs vs change within a steady passage (a held synthetic chord)."""
    from bridge.features import FeatureExtractor
    from renderer.embedded.probes import pad_audio
    from renderer.embedded.songs import SAMPLE_RATE

    data = evenly(data)
    rng = np.random.default_rng(0)
    songs = np.unique(data.source)
    a = rng.integers(0, len(frames), 400)
    b = rng.integers(0, len(frames), 400)
    different = data.source[a] != data.source[b]
    across = float(np.mean(np.abs(frames[a[different]] - frames[b[different]])))
    song_means = np.stack([frames[data.source == s].mean(axis=0) for s in songs])
    song_spread = float(np.mean(np.abs(song_means[:, None] - song_means[None, :])) * len(songs) / max(1, len(songs) - 1))

    track = FeatureExtractor(SAMPLE_RATE).analyze(pad_audio(6.0))
    seconds = np.arange(3.0, 5.0, 1 / 30)
    bpm = 120.0
    ctx = audio_context(track, seconds, np.mod(seconds * bpm / 60, 1.0), np.mod(seconds * bpm / 240, 1.0))
    noise = torch.randn(pipe.noise_shape(1, SIZE, SIZE), generator=torch.Generator().manual_seed(7))
    noise = noise.expand(len(seconds), -1, -1, -1)
    steady = render(pipe, ctx, noise.contiguous(), steps=steps)
    consecutive = float(np.mean(np.abs(steady[1:] - steady[:-1])))
    q = image_qualities(steady)
    q_all = image_qualities(frames)
    return {
        "across_song_frame_mae": across,
        "song_mean_frame_spread": song_spread,
        "steady_consecutive_frame_mae_30fps": consecutive,
        "steady_to_across_ratio": consecutive / max(across, 1e-9),
        **{f"steady_std_{k}": float(np.std(q[k])) for k in ("luminance", "temperature", "edge_density")},
        **{f"heldout_std_{k}": float(np.std(q_all[k])) for k in ("luminance", "temperature", "edge_density")},
    }


def contact_sheet(pipe, heldout_dir: Path, data: Dataset, path: Path, source_id: int = 0, frames: int = 24,
                  size: int = 256) -> None:
    """Frames evenly across one held-out song, labelled with time and audio qualities."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.flatnonzero(data.source == source_id)
    pick = rows[np.linspace(0, len(rows) - 1, frames).round().astype(int)]
    ctx = data.context[pick]
    noise = song_noise(pipe, data.source[pick], size=size)
    looks = pipe.look_names
    images = np.concatenate([render(pipe, ctx[i:i + 1], noise[i:i + 1], looks[i * len(looks) // frames], size=size)
                             for i in range(len(ctx))])
    audio = audio_qualities(ctx)
    cols = 6
    fig, axes = plt.subplots(math.ceil(frames / cols), cols, figsize=(cols * 2.0, math.ceil(frames / cols) * 2.25))
    for ax, img, i in zip(axes.flat, images, range(frames)):
        ax.imshow(img)
        ax.set_title(f"{data.seconds[pick[i]]:.1f}s L{audio['loudness'][i]:.2f} "
                     f"B{audio['brightness'][i]:.2f} E{audio['edges'][i]:.2f}", fontsize=6.5)
        ax.axis("off")
    manifest = json.loads((heldout_dir / "manifest.json").read_text())
    name = manifest["sources"][source_id]["file"]
    fig.suptitle(f"held-out {name}, the looks in turn: L loudness, B brightness, E onset density+noisiness",
                 fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def evaluate(pipe, data: Dataset, heldout_dir: str | os.PathLike, out_dir: str | os.PathLike,
             steps: int = 1) -> dict[str, Any]:
    """All metrics (written to ``out_dir/metrics.json``) plus ``out_dir/contact_sheet.png``."""
    heldout_dir, out_dir = Path(heldout_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    corr, frames = correspondence_metrics(pipe, data, steps=steps)
    stab = stability_metrics(pipe, frames, data, steps=steps)
    contact_sheet(pipe, heldout_dir, data, out_dir / "contact_sheet.png")
    summary = {**corr, **stab}
    summary["meets_rho_threshold"] = all(corr[f"min_rho_{a}_{v}"] >= RHO_THRESHOLD for a, v in PAIRS)
    metrics = {"summary": summary, "threshold": RHO_THRESHOLD, "pairs": [list(p) for p in PAIRS]}
    write_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    return metrics


def heldout_song(work_dir: str | os.PathLike, seed: int = HELDOUT_SEED,
                 moments_per_second: float = HELDOUT_MOMENTS_PER_SECOND) -> np.ndarray:
    """Conditioning rows ``(n, CONTEXT_DIM)`` of one generated song never used in training (seeds from
    :data:`renderer.embedded.data.HELDOUT_SEED_BASE` on), rendered with FluidSynth into ``work_dir``."""
    from bridge.features import analyze_file
    from renderer.embedded.songs import make_song, render_song

    work_dir = Path(work_dir)
    midi, info = make_song(seed)
    mid, wav = work_dir / f"song_{seed}.mid", work_dir / f"song_{seed}.wav"
    midi.save(mid)
    render_song(mid, wav, seed)
    track = analyze_file(wav)
    seconds = np.arange(1.0, track.duration_seconds - 0.5, 1.0 / moments_per_second)
    return audio_context(track, seconds, info.beat_phase(seconds), info.bar_phase(seconds))


def song_metrics(pipe, context: np.ndarray, look: str | None = None, steps: int = 1, seed: int = 0
                 ) -> dict[str, float]:
    """Spearman's rho per documented pair for ``look``'s frames of one song (one composition noise, 128 x 128)."""
    noise = torch.randn(pipe.noise_shape(1, SIZE, SIZE), generator=torch.Generator().manual_seed(seed))
    frames = render(pipe, context, noise.expand(len(context), -1, -1, -1).contiguous(), look, steps=steps)
    measured = image_qualities(frames)
    audio_q = audio_qualities(context)
    return {f"rho_{a}_{v}": spearman(audio_q[a], measured[v]) for a, v in PAIRS}
