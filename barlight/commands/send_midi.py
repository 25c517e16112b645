"""``barlight send midi`` — follow any DAW (Logic Pro, Bitwig, Reaper, Cubase, FL Studio) by its MIDI sync."""

from __future__ import annotations

import argparse
import sys

from barlight.commands.live_status import StatusLine, check_rate

HELP = "follow a DAW's MIDI Clock / Song Position / MTC from a MIDI port and stream protocol v1"

EPILOG = """\
Logic Pro in five steps (details: docs/logic.md):
  1. Audio MIDI Setup > Window > Show MIDI Studio > IAC Driver: tick "Device is online".
  2. Logic > Settings > Advanced: tick "Enable Complete Features" (shows the sync settings).
  3. File > Project Settings > Synchronization > MIDI: Destination = "IAC Driver Bus 1",
     tick Clock (and MTC, so cycle jumps are followed); Clock Mode: a Song mode (SPP), not Pattern.
  4. barlight preview                       (in one terminal; the renderer)
     barlight send midi --port IAC --meter 4/4   (or --timeline song.mid exported from Logic)
  5. Press Play in Logic.
Bars come from --meter or --timeline: MIDI clock carries no meter.
Other routes: barlight send plugdata (a plugin patch reading the DAW's playhead and audio),
barlight send audio --device DEVICE (a loopback input alone).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from barlight.commands.send import add_target_argument

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--port", metavar="NAME", help="MIDI input to read (a name or part of one, e.g. IAC); "
                       "default: the first input")
    where.add_argument("--virtual", metavar="NAME", help="create a virtual MIDI input NAME for the DAW to send to "
                       "(macOS, Linux)")
    where.add_argument("--list", action="store_true", help="list MIDI inputs (and audio inputs) and exit")
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument("--timeline", metavar="SOURCE", help="tempo map exported from the DAW (.mid, .als, .jsonl): "
                      "bars follow its meter changes and markers; MTC becomes beats")
    grid.add_argument("--meter", default=None, metavar="N/D", help="meter for counting bars (default 4/4)")
    add_target_argument(parser)
    parser.add_argument("--mtc-start", default=None, metavar="HH:MM:SS:FF",
                        help="SMPTE time at song start, for MTC without clock (Logic: Project Settings > "
                             "Synchronization > General, 'Bar Position 1 1 1 1 plays at SMPTE', often "
                             "01:00:00:00; frames count at 25 fps); default: learned while clock and MTC run together")
    parser.add_argument("--offset-ms", type=float, default=0.0, metavar="MS",
                        help="send the playhead this much ahead (+) or behind (-) (default 0)")
    parser.add_argument("--audio-in", metavar="DEVICE", help="also capture this audio input (index or name) and "
                        "send /daw/audio (needs the audio-in extra)")
    parser.add_argument("--rate", type=float, default=60.0, metavar="HZ",
                        help="transport messages per second while playing (default 60)")
    parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")


def _list() -> int:
    from barlight.commands.send_audio import print_audio_inputs
    from bridge.errors import BarlightError
    from bridge.senders.midi import input_names

    try:
        names = input_names()
    except BarlightError as err:
        print(f"MIDI inputs: {err}")
    else:
        print("MIDI inputs:" if names else "MIDI inputs: none (enable the IAC bus, or use --virtual NAME)")
        for name in names:
            print(f"  {name}")
    try:
        from bridge.senders.audio_in import input_devices

        devices = input_devices()
    except BarlightError as err:
        print(f"audio inputs: {err}")
    else:
        print_audio_inputs(devices)
    return 0


def run(args: argparse.Namespace) -> int:
    from bridge.senders.audio_in import open_audio_input
    from bridge.senders.midi import MidiSource, midi_rates, open_input
    from bridge.senders.midi_sync import MidiSync
    from bridge.senders.mtc import parse_timecode
    from bridge.senders.osc_out import ProtocolSender, parse_target
    from bridge.senders.runtime import SenderRuntime
    from bridge.timeline.sources import constant_timeline, load_timeline

    if args.list:
        return _list()
    check_rate(args.rate)
    host, port = parse_target(args.to)
    if args.timeline:
        grid = load_timeline(args.timeline)
    else:
        grid = constant_timeline(120.0, args.meter or "4/4")
    sync = MidiSync(grid, grid_has_tempo=bool(args.timeline), mtc_start_seconds=parse_timecode(args.mtc_start) if args.mtc_start else None)
    audio = open_audio_input(args.audio_in) if args.audio_in else None
    line = StatusLine()

    def status(runtime: SenderRuntime, message) -> None:
        if line.live:
            label = sync.position(message.beat).label
            state = "playing" if message.playing else "stopped"
            answer = "renderer answering" if runtime.acked else "no answer yet"
            line.show(f"{label:>10}  {message.bpm:7.2f} BPM  {message.numerator}/{message.denominator}  {state}  "
                      f"{answer}")

    with ProtocolSender(host, port, source="midi") as osc:
        source = MidiSource(sync, offset_seconds=args.offset_ms / 1000.0, audio=audio)
        runtime = SenderRuntime(osc, source, midi_rates(args.rate), now=source.now)
        midi_in = open_input(args.port, args.virtual, source.receive)
        print(f"reading MIDI sync from {midi_in.name!r}, sending to {host}:{port} as session {osc.session_id} "
              f"(Ctrl-C stops)", file=sys.stderr)
        with line:
            try:
                if audio is not None:
                    audio.start()
                runtime.run(seconds=args.seconds, on_send=status)
            finally:
                midi_in.close()
                if audio is not None:
                    audio.close()
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(sync.counts.items())) or "no MIDI sync messages"
        print(f"sent {osc.sent} messages; received {counts}"
              f"{'' if runtime.acked else ' (no renderer answered)'}", file=sys.stderr)
    return 0
