"""``barlight export`` — per-bar keyframes and a video of AUDIO, aligned to the arrangement's bars."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HELP = "render per-bar keyframes and a video of AUDIO locked to a timeline (.mid, .als, recording or --bpm)"

def add_arguments(parser: argparse.ArgumentParser) -> None:
    from renderer.export.chunks import DEFAULT_CHUNK_BARS
    from renderer.export.timing import DEFAULT_FPS, DEFAULT_SIZE, fps_label

    parser.add_argument("audio", nargs="?", metavar="AUDIO",
                        help="the bounce of the arrangement, starting at bar 1 (or at the first bar of --bars); "
                             "with --session it may be left out: the mix the session streamed is used")
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
    parser.add_argument("--model", help="override the preset's model: a short name from `barlight models` "
                        "(sd-turbo), a diffusers folder or Hub id")
    parser.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--fps", help=f"frame rate: 24, 25, 29.97, 30000/1001 ... (default {fps_label(DEFAULT_FPS)})")
    parser.add_argument("--size", help="WIDTHxHEIGHT (default {}x{})".format(*DEFAULT_SIZE))
    parser.add_argument("--bars", metavar="A:B", help="export bars A through B only (AUDIO then starts at bar A)")
    parser.add_argument("--full-bounce", action="store_true",
                        help="with --bars: AUDIO is the whole song from bar 1; the range is cut out of it")
    parser.add_argument("--seed", type=int, help="base seed (default: the preset's)")
    parser.add_argument("--prores", action="store_true", help="write ProRes 422 HQ + PCM .mov instead of H.264 + AAC .mp4")
    parser.add_argument("--keep-work", action="store_true",
                        help="keep DIR/.barlight-work (finished chunks' segments, keyframe images) afterwards")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the backend's, 1 on CPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--video-out", action="append", default=[], metavar="OUT[:NAME]",
                        help="also send each frame as it is rendered to VJ software: ndi, syphon (macOS) or "
                             "spout (Windows), announced as NAME (default Barlight); repeatable")
    parser.add_argument("--chunk-bars", type=int, metavar="N",
                        help=f"bars per chunk: a video segment, a worker's task (default {DEFAULT_CHUNK_BARS}; "
                             "the frames depend on it, never on the workers)")
    cluster = parser.add_argument_group("distributed rendering on Ray",
                                        "docs/scaling.md; needs pip install 'barlight[cluster]'")
    cluster.add_argument("--cluster", metavar="WHERE",
                         help="local (start Ray here), auto (join the cluster 'ray start' made) or ray://HOST:PORT")
    cluster.add_argument("--workers", type=int, metavar="N",
                         help="model replicas (default: one per GPU, else one per --cpus-per-worker cores)")
    cluster.add_argument("--cpus-per-worker", type=int, default=1, metavar="N",
                         help="cores per replica when the workers run on CPUs (default 1)")


def prepare_cpu(threads: int | None) -> None:
    """Passive OpenMP waiting (spinning threads cost ~10x on a busy 2-core machine); check ``threads``.

    Call before torch is first imported for the wait policy to take effect; the thread count is
    applied after the backend loads (:func:`renderer.export.job.build_renderer`).
    """
    from renderer.devices import check_threads, wait_passively

    wait_passively()
    check_threads(threads)


def session_timeline(name: str, say=print) -> Path:
    """The recording file of session ``name`` (``latest``: the newest, a crashed one too) in the sessions
    folder; says so when it is a recording that was never closed."""
    from bridge.recording import PART_SUFFIX, session_path

    path = session_path(name)
    if path.name.endswith(PART_SUFFIX):
        say(f"session {path}: recovered a recording that was not closed (read up to its last whole line)")
    return path


def resolve_request(args: argparse.Namespace, say=print):
    """Turn the command line into an :class:`ExportRequest` (all validation, no rendering). The outputs are
    checked (:mod:`bridge.outputs`) as soon as the audio is known, before a timeline is beat-tracked."""
    from bridge.errors import InputError
    from renderer.export.keyframes import read_keyframes
    from renderer.export.request import ExportRequest, rerender_request
    from renderer.export.timing import parse_bars, parse_fps, parse_size
    from renderer.sinks.video_file import H264, PRORES

    out = Path(args.out)
    given = {key: value for key, value in {
        "out_dir": out, "preset": args.preset, "backend": args.backend, "seed": args.seed,
        "fps": parse_fps(args.fps) if args.fps else None, "size": parse_size(args.size) if args.size else None,
        "video_format": PRORES if args.prores else H264, "device": args.device, "model": args.model,
        "keep_work": args.keep_work, "threads": args.threads, "chunk_bars": args.chunk_bars,
    }.items() if value is not None}
    if args.keyframes:
        sheet = read_keyframes(args.keyframes)
        request = rerender_request(sheet, args.keyframes, audio=Path(args.audio) if args.audio else None,
                                   bars=parse_bars(args.bars) if args.bars else None, **given)
        _check_outputs(args, request.audio, None)
        bars = request.bars
        say(f"re-rendering {len(sheet.bars)} bars from {args.keyframes} ({bars.first}..{bars.last or '-'}, "
            "same sections and seeds)")
    elif not args.audio and args.session:
        request = _session_request(args, given, say)
    else:
        if not args.audio:
            raise InputError("AUDIO", "give the audio file to export (the bounce starting at bar 1), or --session")
        audio = Path(args.audio)
        bars = parse_bars(args.bars)
        session = session_timeline(args.session, say) if args.session else None
        _check_outputs(args, audio, session)
        tempo_map, timeline_source = _timeline(args, audio, session, say)
        request = ExportRequest(audio=audio, tempo_map=tempo_map, timeline_source=timeline_source,
                                bars=bars, audio_from_bar_1=args.full_bounce, **given)
    check_preset(request.preset, request.backend)
    if not request.audio.is_file():
        raise InputError(request.audio, "no such audio file")
    return request


def _session_request(args: argparse.Namespace, given: dict, say):
    """``--session`` without AUDIO: the recording is the timeline and its kept mix the audio (song time from
    bar 1); the bars default to those from the one where playing started."""
    from bridge.recording import timeline_from_recording
    from renderer.export.request import ExportRequest
    from renderer.export.timing import BarRange, parse_bars

    session = session_timeline(args.session, say)
    _check_outputs(args, session, session)
    timeline = timeline_from_recording(session)
    tempo_map = timeline.tempo_map
    bars = parse_bars(args.bars) if args.bars else BarRange(max(1, tempo_map.position_at(timeline.start_beat).bar))
    say(f"no AUDIO: exporting the mix {session.name} kept, from bar {bars.first}")
    return ExportRequest(audio=session, tempo_map=tempo_map, timeline_source=os.fspath(session), bars=bars,
                         audio_from_bar_1=True, **given)


def check_preset(preset: str, backend: str | None) -> None:
    """Read the preset and look the backend up now (milliseconds), so a typo fails before audio is analysed."""
    from renderer.backends.registry import backend_class
    from renderer.presets import load_preset

    load_preset(preset)
    if backend is not None:
        backend_class(backend)


def _check_outputs(args: argparse.Namespace, audio: Path, session: Path | None) -> None:
    """The output rule for ``--out``: refused when it would overwrite an input or cannot be written."""
    from bridge.outputs import check_outputs
    from renderer.export.request import export_output
    from renderer.sinks.video_file import H264, PRORES

    inputs = {"AUDIO": audio, "--timeline": args.timeline, "--session": session, "--keyframes": args.keyframes,
              "--preset": args.preset}
    check_outputs([export_output(args.out, audio, PRORES if args.prores else H264)], inputs)


def _timeline(args: argparse.Namespace, audio: Path, session: Path | None, say):
    """The TempoMap the command line names (``--timeline``, ``--session`` (its file ``session``), ``--bpm``;
    else beat-tracked from ``audio``) and how to name its source."""
    from bridge.timeline.sources import load_timeline, parse_meter
    from renderer.export.audio import read_audio

    if args.timeline:
        extra = {"ramps": args.ramps} if args.ramps else {}
        return load_timeline(args.timeline, meter=args.meter, **extra), os.fspath(args.timeline)
    if session is not None:
        return load_timeline(session), os.fspath(session)
    if args.bpm is not None:
        source = f"--bpm {args.bpm}" + (f" --meter {args.meter}" if args.meter else "")
        return load_timeline(None, bpm=args.bpm, meter=args.meter), source
    from renderer.export.beats import track_tempo

    meter = parse_meter(args.meter) if args.meter else (4, 4)
    tracked = track_tempo(read_audio(audio), meter, where=os.fspath(audio))
    say(tracked.describe())
    return tracked.tempo_map, f"beat-tracked: {tracked.bpm:.3f} BPM"


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
        print(f"resumed   {result.resumed_from} frames came from the earlier run's finished chunks", file=out)


def cluster_spec(args: argparse.Namespace):
    """The :class:`ClusterSpec` of ``--cluster``, ``--workers`` and ``--cpus-per-worker`` (None: render here)."""
    from bridge.errors import InputError
    from renderer.export.cluster import ClusterSpec, require_ray

    if args.cluster is None:
        if args.workers is not None:
            raise InputError("--workers", "needs --cluster (local, auto or ray://HOST:PORT)")
        return None
    if args.video_out:
        raise InputError("--video-out", "sends frames as they are rendered here; not with --cluster")
    spec = ClusterSpec(args.cluster, args.workers, args.cpus_per_worker)
    require_ray()
    return spec


def run(args: argparse.Namespace) -> int:
    prepare_cpu(args.threads)
    import contextlib

    from renderer.export.job import run_export
    from renderer.sinks import open_video_out

    cluster = cluster_spec(args)
    request = resolve_request(args, say=lambda text: print(text, file=sys.stderr))
    if cluster is not None:
        from renderer.export.cluster import run_cluster_export

        result = run_cluster_export(request, cluster, progress=not args.quiet)
    else:
        with contextlib.ExitStack() as stack:  # an output that opened is closed even if a later one cannot open
            sinks = [stack.enter_context(open_video_out(out, request.fps)) for out in args.video_out]
            result = run_export(request, progress=not args.quiet, sinks=sinks)
    report(result)
    return 0
