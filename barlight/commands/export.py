"""``barlight export`` — per-bar keyframes and a video of AUDIO, aligned to the arrangement's bars."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "render per-bar keyframes and a video of AUDIO locked to a timeline (.mid, .als, recording or --bpm)"

DEFAULT_FPS = "30"
DEFAULT_SIZE = "1280x720"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", nargs="?", metavar="AUDIO",
                        help="the bounce of the arrangement, starting at bar 1 (or at the first bar of --bars)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--timeline", metavar="SOURCE", help="a .mid/.midi, .als or .jsonl recording")
    source.add_argument("--bpm", help="a constant tempo instead of a timeline file")
    source.add_argument("--session", metavar="NAME", help="a recorded session by name, or 'latest'")
    source.add_argument("--keyframes", metavar="JSON",
                        help="re-render an earlier export's keyframes.json (same bars, sections and seeds)")
    parser.add_argument("--meter", help="meter N/D with --bpm or beat tracking (default 4/4)")
    parser.add_argument("--ramps", choices=("exact", "live"),
                        help="Live-set tempo ramps: exact (integrated line) or live (stepped as Live plays them)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--preset", help="preset name or .toml path (default: the shipped default, or the keyframes')")
    parser.add_argument("--backend", help="override the preset's backend (embedded, diffusers)")
    parser.add_argument("--model", help="override the preset's model (diffusers folder or hub id)")
    parser.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--fps", help=f"frame rate: 24, 25, 29.97, 30000/1001 ... (default {DEFAULT_FPS})")
    parser.add_argument("--size", help=f"WIDTHxHEIGHT (default {DEFAULT_SIZE})")
    parser.add_argument("--bars", metavar="A:B", help="export bars A through B only (AUDIO then starts at bar A)")
    parser.add_argument("--full-bounce", action="store_true",
                        help="with --bars: AUDIO is the whole song from bar 1; the range is cut out of it")
    parser.add_argument("--seed", type=int, help="base seed (default: the preset's)")
    parser.add_argument("--prores", action="store_true", help="write ProRes 422 HQ + PCM .mov instead of H.264 + AAC .mp4")
    parser.add_argument("--keep-work", action="store_true", help="keep DIR/.barlight-work (frame checkpoints) afterwards")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the backend's, 1 on CPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def prepare_cpu(threads: int | None) -> None:
    """Passive OpenMP waiting (spinning threads cost ~10x on a busy 2-core machine); check ``threads``.

    Call before torch is first imported for the wait policy to take effect; the thread count is
    applied after the backend loads (:func:`renderer.export.job.build_renderer`).
    """
    from renderer.devices import check_threads, wait_passively

    wait_passively()
    check_threads(threads)


def session_timeline(name: str) -> Path:
    """The recording file of session ``name`` (``latest``: the newest) in the sessions folder."""
    from bridge.recording import session_path

    return session_path(name)


def resolve_request(args: argparse.Namespace, say=print):
    """Turn the command line into an :class:`ExportRequest` (all validation, no rendering)."""
    from bridge.errors import InputError
    from bridge.timeline.sources import load_timeline, parse_meter
    from renderer.export.audio import read_audio
    from renderer.export.job import ExportRequest
    from renderer.export.keyframes import read_keyframes
    from renderer.export.timing import BarRange, parse_bars, parse_fps, parse_size
    from renderer.export.video import H264, PRORES
    from renderer.presets import DEFAULT_PRESET

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out must be a folder")
    fps_text, size_text = args.fps, args.size
    seeds: dict[int, int] = {}
    seed = args.seed
    preset = args.preset
    backend = args.backend
    if args.keyframes:
        sheet = read_keyframes(args.keyframes)
        if args.bars:
            raise InputError("--bars", "a re-render from --keyframes exports the keyframes' bars; leave --bars out")
        audio = Path(args.audio or sheet.audio)
        tempo_map = sheet.tempo_map
        timeline_source = str(sheet.timeline.get("source", "")) or os.fspath(args.keyframes)
        bars = BarRange(sheet.start_bar, sheet.bars[-1].bar if sheet.bars else None)
        seeds = sheet.seeds()
        full_bounce = sheet.start_bar > 1 and sheet.audio_start_seconds == 0.0
        seed = sheet.base_seed if seed is None else seed
        preset = preset or sheet.preset or None
        backend = backend or sheet.backend or None
        fps_text = fps_text or str(sheet.fps)
        size_text = size_text or f"{sheet.width}x{sheet.height}"
        say(f"re-rendering {len(sheet.bars)} bars from {args.keyframes} ({sheet.bars[0].bar if sheet.bars else '-'}"
            f"..{sheet.bars[-1].bar if sheet.bars else '-'}, same sections and seeds)")
    else:
        if not args.audio:
            raise InputError("AUDIO", "give the audio file to export (the bounce starting at bar 1)")
        audio = Path(args.audio)
        bars = parse_bars(args.bars)
        full_bounce = args.full_bounce
        if args.timeline:
            extra = {"ramps": args.ramps} if args.ramps else {}
            tempo_map = load_timeline(args.timeline, meter=args.meter, **extra)
            timeline_source = os.fspath(args.timeline)
        elif args.session:
            path = session_timeline(args.session)
            tempo_map = load_timeline(path)
            timeline_source = os.fspath(path)
        elif args.bpm is not None:
            tempo_map = load_timeline(None, bpm=args.bpm, meter=args.meter)
            timeline_source = f"--bpm {args.bpm}" + (f" --meter {args.meter}" if args.meter else "")
        else:
            from renderer.export.beats import track_tempo

            meter = parse_meter(args.meter) if args.meter else (4, 4)
            tracked = track_tempo(read_audio(audio), meter, where=os.fspath(audio))
            say(tracked.describe())
            tempo_map = tracked.tempo_map
            timeline_source = f"beat-tracked: {tracked.bpm:.3f} BPM"
    if not audio.is_file():
        raise InputError(audio, "no such audio file")
    return ExportRequest(
        audio=audio, out_dir=out, tempo_map=tempo_map, timeline_source=timeline_source,
        preset=preset or DEFAULT_PRESET, backend=backend, fps=parse_fps(fps_text or DEFAULT_FPS),
        size=parse_size(size_text or DEFAULT_SIZE), bars=bars, video_format=PRORES if args.prores else H264,
        seed=seed, seeds=seeds, device=args.device, keep_work=args.keep_work, model=args.model,
        audio_from_bar_1=full_bounce, threads=args.threads,
    )


def report(result, out=None) -> None:
    """What was written, in a few lines (to stdout by default)."""
    from renderer.export.timing import fps_label

    out = out or sys.stdout
    plan = result.plan
    first, last = plan.bars[0], plan.bars[-1]
    print(f"video     {result.video}  ({plan.frame_count} frames at {fps_label(plan.fps)} fps, "
          f"{float(plan.duration_seconds):.3f} s from bar {first.bar})", file=out)
    for path in result.keyframes:
        print(f"keyframes {path}", file=out)
    print(f"images    {result.images[0].parent}/  (bars {first.bar}..{last.bar}, one PNG per bar)", file=out)
    if result.resumed_from:
        print(f"resumed   from frame {result.resumed_from} (earlier frames came from the checkpoint)", file=out)


def run(args: argparse.Namespace) -> int:
    prepare_cpu(args.threads)
    from renderer.export.job import run_export

    request = resolve_request(args, say=lambda text: print(text, file=sys.stderr))
    result = run_export(request, progress=not args.quiet)
    report(result)
    return 0
