"""``barlight demo`` — synthesise a short piece, export it with the embedded model, say what was made."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HELP = "synthesise a 24 s demo piece (tempo change, 7/8 bars, two markers) and export it into ./barlight-demo/"

DEMO_FPS = "24"
DEMO_SIZE = "256x256"
DEMO_NAME = "barlight-demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="barlight-demo", metavar="DIR", help="output folder (default ./barlight-demo)")
    parser.add_argument("--preset", help="preset (default: the shipped default)")
    parser.add_argument("--backend", help="override the preset's backend (default: embedded)")
    parser.add_argument("--model", help="override the preset's model (an embedded model folder, a diffusers model)")
    parser.add_argument("--fps", default=DEMO_FPS, help=f"frame rate (default {DEMO_FPS})")
    parser.add_argument("--size", default=DEMO_SIZE, help=f"WIDTHxHEIGHT (default {DEMO_SIZE})")
    parser.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the backend's, 1 on CPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from barlight.commands.export import check_preset, prepare_cpu, report

    prepare_cpu(args.threads)
    from bridge.timeline.sources import load_timeline
    from renderer.export.demo import write_demo
    from renderer.export.job import run_export
    from bridge.outputs import Output, check_outputs
    from renderer.export.request import ExportRequest, export_output
    from renderer.export.timing import parse_fps, parse_size
    from renderer.presets import DEFAULT_PRESET

    out = Path(args.out)
    fps, size = parse_fps(args.fps), parse_size(args.size)
    piece_names = (f"{DEMO_NAME}.wav", f"{DEMO_NAME}.mid")
    export = export_output(out, Path(f"{DEMO_NAME}.wav"))
    check_outputs([Output.folder("--out", out, piece_names + export.names)], {"--preset": args.preset})
    check_preset(args.preset or DEFAULT_PRESET, args.backend)
    wav, mid, piece = write_demo(out, DEMO_NAME)
    tempo_map = load_timeline(mid)  # through the real MIDI parser, as a DAW's export would go
    print(f"demo piece {wav}  ({piece.duration_seconds:.1f} s: 4 bars 4/4 @ 100 BPM 'intro', "
          f"4 bars @ 125 BPM 'drop', 4 bars 7/8)")
    print(f"timeline   {mid}")
    request = ExportRequest(audio=wav, out_dir=out, tempo_map=tempo_map, timeline_source=str(mid),
                            preset=args.preset or DEFAULT_PRESET, backend=args.backend, fps=fps, size=size,
                            device=args.device, model=args.model, threads=args.threads)
    started = time.monotonic()
    result = run_export(request, progress=not args.quiet)
    elapsed = time.monotonic() - started
    report(result)
    video_seconds = float(result.plan.duration_seconds)
    print(f"rendered {video_seconds:.1f} s of video in {elapsed:.1f} s "
          f"({video_seconds / elapsed:.2f}x real time)", file=sys.stderr)
    print(f"next: open {result.video}; drop it at bar 1 in your DAW (see docs/export.md)")
    return 0
