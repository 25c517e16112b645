"""``barlight m4l build`` — write the Max for Live device (an unfrozen .amxd) from its sources."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "build the Max for Live device (.amxd) from m4l/barlight.maxpat.json and m4l/barlight.js"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="m4l_action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="write Barlight.amxd", description="Write the Barlight Max for Live "
                               "audio effect: the patcher with barlight.js embedded (Live 12.2+ / Max 9).")
    build.add_argument("--out", type=Path, default=Path("Barlight.amxd"), metavar="PATH",
                       help="device file to write (default: ./Barlight.amxd)")
    build.add_argument("--external-js", action="store_true",
                       help="for Live 10-12.1 (Max 8): use a classic js object and write barlight.js next to the device")


def run(args: argparse.Namespace) -> int:
    import m4l
    from bridge.outputs import Output, check_outputs

    outputs = [Output.file("--out", args.out)]
    if args.external_js:
        outputs.append(Output.file("--external-js", args.out.parent / m4l.SCRIPT_FILENAME))
    check_outputs(outputs, {"the device's patcher": m4l.PATCHER_SOURCE, "the device's script": m4l.SCRIPT_SOURCE})
    for path in m4l.write_device(args.out, external_js=args.external_js):
        print(f"wrote {path}")
    if args.external_js:
        print("keep barlight.js in the same folder as the device, in Max's search path (see docs/m4l.md)")
    return 0
