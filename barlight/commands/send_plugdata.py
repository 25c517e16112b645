"""``barlight send plugdata`` — where the plugdata sender patch is, how to install it, and a copy of it."""

from __future__ import annotations

import argparse
import sys

HELP = "show or copy the plugdata patch that sends the DAW playhead from inside any plugin host"

STEPS = """\
1. Install plugdata (free, plugdata.org): AU / VST3 / CLAP / LV2 in Logic, Bitwig, Reaper, Cubase, FL Studio...
2. Insert "plugdata" (the effect, "plugdata-fx") last on the master / Stereo Out: it passes the
   audio through and also sends its levels and bands (/daw/audio).
3. In plugdata: File > Open, choose {patch}
   (or copy it somewhere first: barlight send plugdata --copy ~/Documents).
4. Start the renderer (barlight preview) and press Play in the DAW.
The patch sends to 127.0.0.1:9420; to change it, edit the "127.0.0.1 9420" box in the patch.
Save the DAW project: plugdata stores the patch inside it.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--copy", metavar="DIR", help="copy barlight-sender.pd into DIR")


def run(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from bridge.errors import InputError
    from bridge.files import atomic_output
    from bridge.outputs import Output, check_outputs
    from bridge.senders.plugdata import PATCH

    patch = PATCH
    if args.copy:
        folder = Path(args.copy).expanduser()
        if not folder.is_dir():
            raise InputError(args.copy, "not a folder")
        target = folder / PATCH.name
        check_outputs([Output.file("--copy", target)], {"the shipped patch": PATCH})
        with atomic_output(target) as tmp:  # never a half-written patch
            shutil.copyfile(PATCH, tmp)
        shutil.copymode(PATCH, target)
        patch = target
        print(f"copied to {target}", file=sys.stderr)
    print(STEPS.format(patch=patch))
    return 0
