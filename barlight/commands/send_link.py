"""``barlight send link`` — follow an Ableton Link session (Live, Bitwig, Reaper via ReaBlink, apps)."""

from __future__ import annotations

import argparse
import sys

from barlight.commands.live_status import StatusLine, check_rate

HELP = "join an Ableton Link session and stream its tempo, beat phase and start/stop (needs the link extra)"

EPILOG = """\
Link shares tempo, beat phase and (if enabled in the app) start/stop, but no song
position, meter or markers: bars count from 1 where play starts, in --meter.
Turn on Link and "Start Stop Sync" in your DAW, then: barlight send link --meter 4/4
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from barlight.commands.send import add_target_argument

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("--meter", default="4/4", metavar="N/D", help="meter: the bar is Link's quantum (default 4/4)")
    add_target_argument(parser)
    parser.add_argument("--always-playing", action="store_true",
                        help="treat the session as playing (peers that don't share start/stop)")
    parser.add_argument("--offset-ms", type=float, default=0.0, metavar="MS",
                        help="send the playhead this much ahead (+) or behind (-) (default 0)")
    parser.add_argument("--rate", type=float, default=60.0, metavar="HZ",
                        help="transport messages per second while playing (default 60)")
    parser.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from bridge.senders.link import LinkSource, open_link
    from bridge.senders.osc_out import ProtocolSender, parse_target
    from bridge.senders.runtime import Rates, SenderRuntime
    from bridge.timeline.sources import constant_timeline

    check_rate(args.rate)
    host, port = parse_target(args.to)
    grid = constant_timeline(120.0, args.meter)
    line = StatusLine()

    async def main() -> None:
        link = open_link(quantum_beats=grid.meters[0].bar_beats)
        source = LinkSource(link, grid, offset_seconds=args.offset_ms / 1000.0, assume_playing=args.always_playing)

        def status(runtime: SenderRuntime, message) -> None:
            if line.live and source.reading is not None:
                label = grid.position_at(message.beat).label
                line.show(f"{label:>10}  {message.bpm:7.2f} BPM  {source.reading.peers} peer(s)  "
                          f"{'playing' if message.playing else 'stopped'}")

        try:
            with ProtocolSender(host, port, source="link") as osc:
                runtime = SenderRuntime(osc, source, Rates(step_hz=args.rate, playing_hz=args.rate))
                print(f"joined Ableton Link, sending to {host}:{port} as session {osc.session_id} (Ctrl-C stops)",
                      file=sys.stderr)
                await runtime.run_async(seconds=args.seconds, on_send=status)
        finally:
            link.enabled = False

    with line:
        asyncio.run(main())
    return 0
