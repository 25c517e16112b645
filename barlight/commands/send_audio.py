"""``barlight send audio`` — audio features from a sound-card input alone (DAWs that give only audio)."""

from __future__ import annotations

import argparse
import sys

from barlight.commands.live_status import check_rate

HELP = "capture an audio input (a loopback carrying the DAW's master) and stream /daw/audio (audio-in extra)"

EPILOG = """\
Route the DAW's master to a loopback device (macOS: BlackHole or Loopback; Windows: VB-CABLE or
the interface's loopback; Linux: a PipeWire/JACK monitor), then: barlight send audio --device BlackHole
Without clock the visuals follow the sound only; --bpm adds a free-running beat from the start.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from barlight.commands.send import add_target_argument

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--device", metavar="DEVICE", help="audio input (index or part of its name)")
    parser.add_argument("--list", action="store_true", help="list audio inputs and exit")
    parser.add_argument("--bpm", type=float, help="also send a free-running transport at this tempo")
    parser.add_argument("--meter", default="4/4", metavar="N/D", help="meter for --bpm (default 4/4)")
    add_target_argument(parser)
    parser.add_argument("--rate", type=float, default=60.0, metavar="HZ", help="messages per second (default 60)")
    parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")


def print_audio_inputs(devices: list[tuple[int, str, int, float]]) -> None:
    """Print the audio inputs found by :func:`bridge.senders.audio_in.input_devices` (``--list``)."""
    print("audio inputs:" if devices else "audio inputs: none")
    for index, name, channels, rate in devices:
        print(f"  {index}: {name} ({channels} ch, {rate:g} Hz)")


def run(args: argparse.Namespace) -> int:
    from bridge.errors import InputError
    from bridge.senders.audio_in import AudioInSource, input_devices, open_audio_input
    from bridge.senders.osc_out import ProtocolSender, parse_target
    from bridge.senders.runtime import Rates, SenderRuntime
    from bridge.timeline.sources import parse_bpm, parse_meter

    if args.list:
        print_audio_inputs(input_devices())
        return 0
    if not args.device:
        raise InputError("--device", "name the audio input to capture (see --list)")
    check_rate(args.rate)
    bpm = parse_bpm(args.bpm) if args.bpm is not None else None
    meter = parse_meter(args.meter)
    host, port = parse_target(args.to)
    audio = open_audio_input(args.device, where="--device")
    with ProtocolSender(host, port, source="audio") as osc, audio:
        runtime = SenderRuntime(osc, AudioInSource(audio, bpm=bpm, meter=meter),
                                Rates(step_hz=args.rate, playing_hz=args.rate))
        print(f"capturing {args.device!r} at {audio.sample_rate} Hz, sending to {host}:{port} "
              f"as session {osc.session_id} (Ctrl-C stops)", file=sys.stderr)
        try:
            runtime.run(seconds=args.seconds)
        except KeyboardInterrupt:
            pass
        print(f"sent {osc.sent} messages{'' if runtime.acked else ' (no renderer answered)'}", file=sys.stderr)
    return 0
