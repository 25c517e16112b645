"""``barlight analyze AUDIO``: audio features per hop, onsets, and per-bar summaries with a timeline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Analyse an audio file: features per hop, onsets, per-bar/beat summaries (JSON) and a plot (PNG)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", metavar="AUDIO", help="audio file (WAV, AIFF, FLAC, OGG; MP3 where libsndfile reads it)")
    parser.add_argument("--timeline", metavar="SOURCE", help="tempo/meter/markers from a .mid, .als or .jsonl file")
    parser.add_argument("--bpm", metavar="N", help="constant tempo (or the tempo a MIDI file lacks)")
    parser.add_argument("--meter", metavar="N/D", help="meter with --bpm, e.g. 4/4 or 7/8 (default 4/4)")
    parser.add_argument("--audio-start", metavar="SECONDS", type=float, default=0.0,
                        help="song time at which the audio starts (default 0: with the song)")
    parser.add_argument("--beats", action="store_true", help="also write per-beat summaries to the JSON")
    parser.add_argument("--json", metavar="OUT", help="write features as JSON to OUT ('-' for stdout)")
    parser.add_argument("--plot", metavar="OUT.png", help="write a picture: waveform, mel, chroma, curves, bars")


def run(args: argparse.Namespace) -> int:
    from bridge.errors import InputError
    from bridge.features import analyze_file, summarize_bars, summarize_beats
    from bridge.features.audio_file import MAX_AUDIO_SECONDS
    from bridge.timeline.sources import check_bar_count
    from bridge.files import atomic_output
    from bridge.outputs import Output, check_outputs

    tempo_map = None
    if args.timeline or args.bpm is not None:
        from bridge.timeline import load_timeline

        tempo_map = load_timeline(args.timeline, args.bpm, args.meter)
    else:
        for option, given in (("--meter", args.meter is not None), ("--beats", args.beats)):
            if given:
                raise InputError(option, "needs --bpm or --timeline")
    if not -MAX_AUDIO_SECONDS <= args.audio_start <= MAX_AUDIO_SECONDS:  # NaN fails too
        raise InputError("--audio-start", f"must be within ±{MAX_AUDIO_SECONDS:g} seconds of the song's start "
                                          f"(the longest audio taken), got {args.audio_start}")
    if args.plot and Path(args.plot).suffix.lower() != ".png":
        raise InputError("--plot", f"the plot is a PNG picture: name it .png, got {args.plot!r}")
    outputs = [Output.file(option, path) for option, path in (("--json", args.json), ("--plot", args.plot))
               if path and path != "-"]
    check_outputs(outputs, {"AUDIO": args.audio, "--timeline": args.timeline})  # before the analysis

    track = analyze_file(args.audio)  # NaN/inf and absurd samples repaired and reported (bridge.features)
    name = Path(args.audio).name

    if tempo_map is not None:
        end_seconds = args.audio_start + track.duration_seconds
        check_bar_count(tempo_map.bar_at(tempo_map.beat_at(end_seconds)), args.timeline or "--bpm")
    bars = summarize_bars(track, tempo_map, audio_start_seconds=args.audio_start) if tempo_map else []
    if args.json:
        data = {"source": str(args.audio), **track.to_json_dict()}
        # the documented short names, next to the full column names
        data["frames"]["time"] = data["frames"]["seconds"]
        data["frames"]["centroid"] = data["frames"]["centroid_hz"]
        if tempo_map is not None:
            data["audio_start_seconds"] = args.audio_start
            data["timeline"] = tempo_map.to_dict(bars[-1].bar if bars else None)  # as `barlight timeline --json`
            data["bars"] = [b.to_dict() for b in bars]
            if args.beats:
                data["beats"] = [b.to_dict() for b in summarize_beats(track, tempo_map,
                                                                       audio_start_seconds=args.audio_start)]
        text = json.dumps(data, separators=(",", ":"), allow_nan=False)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            with atomic_output(args.json) as tmp:
                tmp.write_text(text, encoding="utf-8")

    if args.plot:
        from bridge.features.plot import plot_track

        title = f"{name}  ·  {_duration(track.duration_seconds)}  ·  {track.sample_rate} Hz  ·  {len(track.onset_seconds)} onsets"
        plot_track(track, args.plot, tempo_map, title=title)

    if args.json != "-":
        line = (f"{name}: {_duration(track.duration_seconds)}, {track.sample_rate} Hz, {len(track)} frames "
                f"({track.hop_seconds * 1000:.1f} ms hop), {len(track.onset_seconds)} onsets")
        if bars:
            line += f", {len(bars)} bars"
        print(line)
        for label, path in (("json", args.json), ("plot", args.plot)):
            if path:
                print(f"  {label}: {path}")
    return 0


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:04.1f}"
