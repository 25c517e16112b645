"""``barlight send file AUDIO`` — play an audio file in real time and stream it as a DAW would."""

from __future__ import annotations

import argparse
import sys

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
    from bridge.senders.file import FileSender
    from bridge.senders.osc_out import ProtocolSender, parse_target
    from bridge.timeline.sources import load_timeline

    if args.timeline is None and args.bpm is None:
        raise InputError("send file", "give --timeline SOURCE or --bpm N")
    if args.start_bar < 1:
        raise InputError("--start-bar", f"bars are 1-based, got {args.start_bar}")
    if args.seconds is not None and not args.seconds > 0:
        raise InputError("--seconds", f"must be a number of seconds > 0, got {args.seconds:g}")
    if not 1.0 <= args.rate <= 200.0:
        raise InputError("--rate", f"must be 1..200 Hz, got {args.rate:g}")
    host, port = parse_target(args.to)
    tempo_map = load_timeline(args.timeline, args.bpm, args.meter)
    tty = sys.stderr.isatty()

    def status(sender: FileSender, message) -> None:
        if tty and sender.ticks % 10 == 0:
            label = tempo_map.position_at(message.beat).label
            answer = "renderer answering" if sender.acked else "no answer yet"
            print(f"\r  {label:>10}  {message.bpm:7.2f} BPM  {message.numerator}/{message.denominator}  {answer}   ",
                  end="", file=sys.stderr, flush=True)

    with ProtocolSender(host, port, source="file") as osc:
        sender = FileSender(args.audio, tempo_map, osc, start_bar=args.start_bar, rate_hz=args.rate, play=args.play)
        print(f"sending {args.audio} to {format_host_port(host, port)} as session {osc.session_id} "
              f"from bar {args.start_bar} (Ctrl-C stops)", file=sys.stderr)
        try:
            sender.run(seconds=args.seconds, on_tick=status)
        except KeyboardInterrupt:
            pass
        finally:
            if tty:
                print(file=sys.stderr)
        print(f"sent {osc.sent} messages; stopped at bar {tempo_map.bar_at(tempo_map.beat_at(sender.song_seconds))}"
              f"{'' if sender.acked else ' (no renderer answered)'}", file=sys.stderr)
    return 0
