"""The looks' own numbers: detail, structure, colour, separability, correspondence ceilings, motion, speed.

    python bench/looks_report.py [--songs 4] [--sheets docs/looks] [--looks tunnel,ink] [--quick]

For every look (its default palette; scale 0.5, motion 1) on held-out songs' conditioning
(seeds >= 1,000,000, FluidSynth, cached under runs/looks_report/): median detail share,
residual autocorrelation and colourfulness at 512 x 512; Spearman rho of loudness-luminance,
brightness-temperature and edges-edge density (correspondence.image_qualities) at 256 x 256;
held-out accuracy of the structure classifier (trained on some noise seeds and palettes, tested
on others); the motion-energy autocorrelation peak on a steady 120 BPM groove at 30 frames/s
(the beat is 15 frames) and the mean frame change on a steady pad; and the CPU time to draw a
batch of 16 at 256 x 256 with one torch thread. Then colourfulness per palette over all looks,
and a contact sheet per look (``--sheets``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def song_noise(source: np.ndarray, channels: int, cells: int, seed: int = 1234):
    """One composition noise per song: ``(N, channels, cells, cells)``."""
    import torch

    out = torch.empty(len(source), channels, cells, cells)
    for sid in np.unique(source):
        g = torch.Generator().manual_seed(seed + int(sid))
        out[torch.from_numpy(source == sid)] = torch.randn(channels, cells, cells, generator=g)
    return out


def render_rows(look: str, context: np.ndarray, noise, size: int, palette: str | None = None, batch: int = 16
                ) -> np.ndarray:
    """Frames ``(N, size, size, 3)`` of one look for conditioning rows and their noise."""
    import torch

    from renderer.embedded.looks import coords_grid, look_by_word, render, scene_from_context

    chosen = look_by_word(look)
    frames = []
    for i in range(0, len(context), batch):
        ctx = torch.from_numpy(np.asarray(context[i:i + batch]))
        scene = scene_from_context(ctx, palette=palette or chosen.palette)
        rgb = render(chosen, scene, noise[i:i + batch], coords_grid(size, size, batch=len(ctx)))
        frames.append(rgb.permute(0, 2, 3, 1).numpy())
    return np.concatenate(frames)


def draw_ms(look: str, repeats: int = 4) -> float:
    """Best CPU time (ms, one torch thread) to render a batch of 16 at 256 x 256.

    CPU time rather than wall time: on a shared machine the wall clock also counts other
    processes' turns.
    """
    import torch

    from renderer.embedded.looks import NOISE_CHANNELS, coords_grid, make_scene, render

    scene = make_scene(16, edges=torch.linspace(0, 1, 16), beat=torch.linspace(0, 1, 16))
    noise = torch.randn(16, NOISE_CHANNELS, 32, 32, generator=torch.Generator().manual_seed(0))
    coords = coords_grid(256, 256, batch=16)
    render(look, scene, noise, coords)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        render(look, scene, noise, coords)
        best = min(best, time.process_time() - t0)
    return best * 1000


def reference_ms() -> float:
    """CPU ms of ``x * 1.1 + 0.3`` on 16 x 256 x 256 (one torch thread): how fast this machine is right now."""
    import torch

    x = torch.rand(16, 1, 256, 256)
    t0 = time.process_time()
    for _ in range(20):
        x * 1.1 + 0.3
    return (time.process_time() - t0) / 20 * 1000


def write_sheet(look: str, out: Path) -> None:
    """``out/<look>.png``: the look's contact sheet (160 px tiles, 256 colours), written then renamed."""
    from PIL import Image

    from renderer.embedded.looks.sheet import contact_sheet

    out.mkdir(parents=True, exist_ok=True)
    part = out / f"{look}.part.png"
    sheet = Image.fromarray(contact_sheet(look, size=160))
    sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(part, optimize=True)
    os.replace(part, out / f"{look}.png")


def print_classifier(looks: list[str], x: np.ndarray, y: np.ndarray, test: np.ndarray) -> None:
    """Train the structure classifier on the rows not in ``test`` and print its accuracy on those in it, per look."""
    from renderer.embedded import metrics
    from renderer.embedded.looks import look_by_word

    model = metrics.RidgeClassifier(alpha=1.0).fit(x[~test], y[~test])
    predicted = model.predict(x[test])
    print(f"\nclassifier (ridge on {x.shape[1]} colour-blind descriptors, random palettes, held-out noise seeds): "
          f"{np.mean(predicted == y[test]):.3f} on {test.sum()} frames")
    for look in looks:
        name = look_by_word(look).name
        mask = y[test] == name
        wrong = predicted[mask][predicted[mask] != name]
        confused = max(set(wrong), key=list(wrong).count) if len(wrong) else "-"
        print(f"  {name:9s} {np.mean(predicted[mask] == name):.3f}  (most confused with {confused})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=4)
    parser.add_argument("--data", default="runs/looks_report/heldout")
    parser.add_argument("--looks", default=None, help="comma-separated look names (default: all)")
    parser.add_argument("--sheets", default=None, help="write <dir>/<look>.png contact sheets")
    parser.add_argument("--quick", action="store_true", help="fewer frames (a rough check)")
    args = parser.parse_args()

    import torch

    from renderer.embedded import metrics
    from renderer.embedded.correspondence import image_qualities
    from renderer.embedded.data import assemble
    from renderer.embedded.evaluation import audio_qualities, spearman
    from renderer.embedded.looks import LOOK_NAMES, NOISE_CHANNELS, PALETTES, look_by_word
    from renderer.embedded.probes import groove_audio, pad_audio, probe_contexts

    torch.set_num_threads(1)
    looks = args.looks.split(",") if args.looks else list(LOOK_NAMES)
    data = assemble(args.data, n_songs=args.songs, heldout=True, moments_per_second=4.0, progress=False)
    rng = np.random.default_rng(0)
    n_rho = 64 if args.quick else 192
    n_detail = 16 if args.quick else 48
    rho_rows = np.sort(rng.choice(len(data), min(n_rho, len(data)), replace=False))
    detail_rows = rho_rows[np.linspace(0, len(rho_rows) - 1, n_detail).round().astype(int)]
    audio = audio_qualities(data.context[rho_rows])
    groove, _ = probe_contexts(groove_audio(120.0, 10.0), 120.0, fps=30.0, seconds=4.0 if args.quick else 8.0)
    pad, _ = probe_contexts(pad_audio(6.0), 120.0, fps=30.0, seconds=2.0)
    fixed = lambda n, seed: torch.randn(1, NOISE_CHANNELS, 32, 32, generator=torch.Generator().manual_seed(seed)
                                        ).expand(n, -1, -1, -1).contiguous()
    reference = reference_ms()
    print(f"# {len(data)} held-out moments from {args.songs} songs; rho on {len(rho_rows)} moments at 256, "
          f"detail on {len(detail_rows)} at 512; torch {torch.__version__}, {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}; reference: x * 1.1 + 0.3 on 16 x 256 x 256 takes {reference:.2f} ms")
    header = ("look", "detail", "autocorr", "colour", "rho_L", "rho_T", "rho_E", "beat_lag", "pad_mae", "ms_16")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    descriptors, labels, seeds = [], [], []
    palette_colour: dict[str, list[float]] = {p.name: [] for p in PALETTES}
    for look in looks:
        chosen = look_by_word(look)
        big = render_rows(look, data.context[detail_rows], song_noise(data.source[detail_rows], NOISE_CHANNELS, 32),
                          512)
        small = render_rows(look, data.context[rho_rows], song_noise(data.source[rho_rows], NOISE_CHANNELS, 32), 256)
        q = image_qualities(small)
        moving = render_rows(look, groove, fixed(len(groove), 7), 256)
        still = render_rows(look, pad, fixed(len(pad), 7), 256)
        lag = metrics.autocorr_peak_lag(metrics.motion_energy(moving), max_lag=40)
        row = (look, np.median(metrics.detail_share(big)), np.median(metrics.residual_autocorr(big)),
               np.median(metrics.colourfulness(big)), spearman(audio["loudness"], q["luminance"]),
               spearman(audio["brightness"], q["temperature"]), spearman(audio["edges"], q["edge_density"]),
               lag, float(np.mean(np.abs(still[1:] - still[:-1]))), draw_ms(look))
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |", flush=True)
        # classifier data: random moments, random palettes, noise seeds 0..(n-1) train, 1000.. test
        n_cls = 24 if args.quick else 48
        pick = rng.choice(len(data), 2 * n_cls, replace=False)
        names = [PALETTES[i].name for i in rng.integers(0, len(PALETTES), 2 * n_cls)]
        seed_ids = np.concatenate([np.arange(n_cls), 1000 + np.arange(n_cls)])
        noise = torch.stack([torch.randn(NOISE_CHANNELS, 32, 32, generator=torch.Generator().manual_seed(
            int(s) + 100_000 * LOOK_NAMES.index(chosen.name))) for s in seed_ids])
        for start in range(0, 2 * n_cls, 16):
            sl = slice(start, start + 16)
            frames = render_rows(look, data.context[pick[sl]], noise[sl], 256, palette=names[sl])
            descriptors.append(metrics.structure_descriptors(frames))
            for name, c in zip(names[sl], metrics.colourfulness(frames)):
                palette_colour[name].append(float(c))
        labels += [chosen.name] * (2 * n_cls)
        seeds.append(seed_ids)
        if args.sheets:
            write_sheet(chosen.name, Path(args.sheets))
    print_classifier(looks, np.concatenate(descriptors), np.array(labels), np.concatenate(seeds) >= 1000)
    print("\ncolourfulness per palette (median over all looks' frames at 256):")
    for name, values in palette_colour.items():
        if values:
            print(f"  {name:8s} {np.median(values):.3f}  ({len(values)} frames)")


if __name__ == "__main__":
    main()
