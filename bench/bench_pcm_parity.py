"""Measure what you preview against what you export (issue 15), and with PCM lost on the way.

    python bench/bench_pcm_parity.py [--loss 0.05] [--reorder 0.01] [--seed 15]

Renders the 16 s FluidSynth song of tests/renderer/preview/pcm_song.py, streams it with ``barlight send file
--timeline song.mid`` over loopback UDP into a live preview (receiver, live features, recorder, tiny
embedded model), once cleanly and once through a relay that drops ``--loss`` of the ``/daw/pcm``
datagrams and reorders ``--reorder`` of them; exports the same song on the same timeline; and prints,
per conditioning source, Spearman's rho between the model's inputs in the preview and in the export
at the same beats (10 Hz), the mel windows' correlation, the lag of the preview's PCM frames on the
song timeline and the receiver's PCM counts. The /daw/audio eight-band path is scored beside it.
The numbers go to docs/benchmarks.md ("Preview vs export"); tests/renderer/preview/test_pcm_parity.py
asserts the thresholds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", type=float, default=0.05, help="share of /daw/pcm datagrams dropped")
    parser.add_argument("--reorder", type=float, default=0.01, help="share of /daw/pcm datagrams reordered")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()

    import torch

    from bridge.timeline.sources import load_timeline
    from renderer.backends.embedded import EmbeddedBackend
    from renderer.renderer import Renderer
    from tests.renderer.preview import parity, pcm_song

    torch.set_num_threads(1)
    renderer = Renderer.from_preset("neon", backend=EmbeddedBackend(random_init="tiny", steps=1), size=(32, 32))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        song, midi = pcm_song.render(folder)
        job = parity.export_job(renderer, song, load_timeline(str(midi)), folder / "export")
        runs = {"clean": None, f"{args.loss:.0%} lost, {args.reorder:.0%} reordered":
                parity.LossyRelay(args.loss, args.reorder, args.seed)}
        for label, relay in runs.items():
            streamed = parity.stream_into_preview(renderer, song, midi, folder / f"sessions-{len(label)}", relay=relay)
            scores, lag = parity.compare(streamed, job, renderer)
            extra = "" if relay is None else (f" ({relay.dropped} of {relay.pcm} /daw/pcm datagrams dropped, "
                                              f"{relay.reordered} reordered by the relay)")
            parity.report(f"{label}{extra}", scores, lag, streamed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
