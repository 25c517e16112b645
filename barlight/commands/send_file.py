"""``barlight send file AUDIO`` — play an audio file in real time and stream it as a DAW would."""

from __future__ import annotations

import argparse
import sys

from barlight.commands.live_status import StatusLine, check_rate

HELP = "play AUDIO in real time on a timeline and stream transport + audio features (protocol v1)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from barlight.commands.send import add_target_argument

    parser.add_argument("audio", metavar="AUDIO", help="audio file (WAV, AIFF, FLAC, OGG…); its start is song start")
    parser.add_argument("--timeline", metavar="SOURCE", help="tempo map from a .mid, .als or .jsonl recording")
    parser.add_argument("--bpm", type=float, help="constant tempo (without --timeline)")
    parser.add_argument("--meter", help="meter N/D with --bpm (default 4/4)")
    add_target_argument(parser)
    parser.add_argument("--play", action="store_true", help="also play the audio (needs the sounddevice package)")
    parser.add_argument("--start-bar", type=int, default=1, metavar="N", help="start at bar N (default 1)")
    parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: the whole file)")
    parser.add_argument("--rate", type=float, default=50.0, metavar="HZ", help="transport messages per second (default 50)")


def run(args: argparse.Namespace) -> int:
    from bridge.errors import InputError
    from bridge.protocol.endpoints import format_host_port
    from bridge.senders.file import FileSource
    from bridge.senders.osc_out import ProtocolSender, parse_target
    from bridge.senders.runtime import Rates, SenderRuntime
    from bridge.timeline.sources import load_timeline

    if args.timeline is None and args.bpm is None:
        raise InputError("send file", "give --timeline SOURCE or --bpm N")
    if args.start_bar < 1:
        raise InputError("--start-bar", f"bars are 1-based, got {args.start_bar}")
    if args.seconds is not None and not args.seconds > 0:
        raise InputError("--seconds", f"must be a number of seconds > 0, got {args.seconds:g}")
    check_rate(args.rate)
    host, port = parse_target(args.to)
    tempo_map = load_timeline(args.timeline, args.bpm, args.meter)
    line = StatusLine()

    def status(runtime: SenderRuntime, message) -> None:
        if runtime.steps % 10 == 0:
            label = tempo_map.position_at(message.beat).label
            answer = "renderer answering" if runtime.acked else "no answer yet"
            line.show(f"{label:>10}  {message.bpm:7.2f} BPM  {message.numerator}/{message.denominator}  {answer}")

    with ProtocolSender(host, port, source="file") as osc, \
            FileSource(args.audio, tempo_map, start_bar=args.start_bar, play=args.play, seconds=args.seconds) as song:
        runtime = SenderRuntime(osc, song, Rates(step_hz=args.rate, playing_hz=args.rate))
        print(f"sending {args.audio} to {format_host_port(host, port)} as session {osc.session_id} "
              f"from bar {args.start_bar} (Ctrl-C stops)", file=sys.stderr)
        with line:
            runtime.run(on_send=status)
        print(f"sent {osc.sent} messages; stopped at bar {tempo_map.bar_at(tempo_map.beat_at(song.song_seconds))}"
              f"{'' if runtime.acked else ' (no renderer answered)'}", file=sys.stderr)
    return 0
